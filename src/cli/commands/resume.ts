import type { Command } from 'commander';
import { badInput } from '../../core/errors.js';
import { STEP_NAMES, type StepName } from '../../core/offboarding/model.js';
import { actorOf, withPostmaster } from '../context.js';
import { EXIT_FAILED, print, printJson } from '../output.js';
import { stderrProgress } from '../progress.js';
import { renderRequest } from '../render.js';

/** retry and mark-done: both let a stopped run go on, and both wait for it. */
export function registerResume(program: Command): void {
  program
    .command('retry')
    .description('resume a failed run at the step that failed')
    .argument('<id>', 'request id')
    .option('--as <id>', 'who retries')
    .option('--json', 'print the request as JSON')
    .action(async (id: string, options: { as?: string; json?: boolean }) =>
      withPostmaster(async (app) => {
        const request = await app.offboarding.retry(actorOf(options), id, stderrProgress());
        if (options.json) printJson(request);
        else print(renderRequest(request));
        return request.state === 'failed' ? EXIT_FAILED : 0;
      }),
    );

  program
    .command('mark-done')
    .description('record that you did a manual step by hand, and let the run go on')
    .argument('<id>', 'request id')
    .argument('<step>', `one of ${STEP_NAMES.join(', ')}`)
    .option('--as <id>', 'who did it')
    .option('--json', 'print the request as JSON')
    .action(async (id: string, step: string, options: { as?: string; json?: boolean }) =>
      withPostmaster(async (app) => {
        const actor = actorOf(options);
        if (!(STEP_NAMES as readonly string[]).includes(step)) throw badInput(`"${step}" is not a step; steps are ${STEP_NAMES.join(', ')}`);
        const request = await app.offboarding.markDone(actor, id, step as StepName, stderrProgress());
        if (options.json) printJson(request);
        else print(renderRequest(request));
        return request.state === 'failed' ? EXIT_FAILED : 0;
      }),
    );
}
