import type { Command } from 'commander';
import { badInput } from '../../core/errors.js';
import { actorOf, withPostmaster } from '../context.js';
import { print, printJson } from '../output.js';
import { renderRequest } from '../render.js';

/** reject and cancel: both end a request without running it, and both want a reason. */
export function registerDecide(program: Command): void {
  program
    .command('reject')
    .description('reject a request waiting for approval')
    .argument('<id>', 'request id')
    .option('--reason <text>', 'why (the requester is told)')
    .option('--as <id>', 'who rejects')
    .option('--json', 'print the request as JSON')
    .action(async (id: string, options: { as?: string; reason?: string; json?: boolean }) =>
      withPostmaster(async (app) => {
        const actor = actorOf(options);
        if (!options.reason?.trim()) throw badInput('--reason is required to reject: the requester is told why');
        const request = await app.offboarding.reject(actor, id, options.reason.trim());
        if (options.json) printJson(request);
        else print(renderRequest(request));
      }),
    );

  program
    .command('cancel')
    .description('cancel a request that has not finished: pending, scheduled, failed or waiting for a manual task')
    .argument('<id>', 'request id')
    .option('--reason <text>', 'why')
    .option('--as <id>', 'who cancels')
    .option('--json', 'print the request as JSON')
    .action(async (id: string, options: { as?: string; reason?: string; json?: boolean }) =>
      withPostmaster(async (app) => {
        const request = await app.offboarding.cancel(actorOf(options), id, options.reason?.trim());
        if (options.json) printJson(request);
        else print(renderRequest(request));
      }),
    );
}
