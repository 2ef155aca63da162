import type { Command } from 'commander';
import { actorOf, withPostmaster } from '../context.js';
import { EXIT_FAILED, print, printJson } from '../output.js';
import { stderrProgress } from '../progress.js';
import { renderRequest } from '../render.js';

export function registerApprove(program: Command): void {
  program
    .command('approve')
    .description('approve a request and carry it out (waits until the run stops)')
    .argument('<id>', 'request id')
    .option('--as <id>', 'who approves (must be in POSTMASTER_APPROVERS, and not the requester)')
    .option('--no-wait', 'approve only; `postmaster sweep` or the running bot carries it out')
    .option('--json', 'print the request as JSON')
    .action(async (id: string, options: { as?: string; wait: boolean; json?: boolean }) =>
      withPostmaster(async (app) => {
        const actor = actorOf(options);
        let request = await app.offboarding.approve(actor, id);
        if (!options.json) process.stderr.write(`approved ${request.id} (${request.mailbox})\n`);
        if (options.wait && request.state === 'approved') request = await app.offboarding.run(id, stderrProgress());
        if (options.json) printJson(request);
        else print(renderRequest(request));
        return request.state === 'failed' ? EXIT_FAILED : 0;
      }),
    );
}
