import type { Command } from 'commander';
import { withPostmaster } from '../context.js';
import { EXIT_FAILED, print, printJson } from '../output.js';
import { stderrProgress } from '../progress.js';
import { renderRequestLine } from '../render.js';

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('run what is due: scheduled offboardings, deletes past retention, interrupted runs, expired forwards (safe to run twice)')
    .option('--json', 'print the requests that ran as JSON')
    .action(async (options: { json?: boolean }) =>
      withPostmaster(async (app) => {
        const ran = await app.offboarding.sweep(stderrProgress());
        const expired = await app.forwarding.sweepExpired();
        if (options.json) printJson({ ran, expired });
        else if (ran.length === 0 && expired.length === 0) print('nothing is due');
        else {
          ran.forEach((r) => print(renderRequestLine(r)));
          expired.forEach((e) =>
            print(`expired ${e.kind === 'rule' ? 'rule' : 'offboarding forward'} ${e.id}: ${e.mailbox} -> ${e.targets.join(', ')} (ended ${e.expiresAt})${e.removeByHand ? `; remove it by hand:\n  ${e.removeByHand}` : ''}`),
          );
        }
        return ran.some((r) => r.state === 'failed') ? EXIT_FAILED : 0;
      }),
    );
}
