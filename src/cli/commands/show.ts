import type { Command } from 'commander';
import { badInput } from '../../core/errors.js';
import { REQUEST_STATES } from '../../core/offboarding/model.js';
import { withPostmaster } from '../context.js';
import { print, printJson } from '../output.js';
import { renderRequest, renderRequestLine } from '../render.js';

/** status and list: read-only views of requests. */
export function registerShow(program: Command): void {
  program
    .command('status')
    .description('show one request, step by step')
    .argument('<id>', 'request id')
    .option('--json', 'print the request as JSON')
    .action(async (id: string, options: { json?: boolean }) =>
      withPostmaster(async (app) => {
        const request = await app.offboarding.get(id);
        if (options.json) printJson(request);
        else print(renderRequest(request));
      }),
    );

  program
    .command('list')
    .description('list requests, newest first')
    .option('--state <state>', `only this state (${REQUEST_STATES.join(', ')})`)
    .option('--json', 'print a JSON array')
    .action(async (options: { state?: string; json?: boolean }) =>
      withPostmaster(async (app) => {
        if (options.state && !(REQUEST_STATES as readonly string[]).includes(options.state)) {
          throw badInput(`--state must be one of ${REQUEST_STATES.join(', ')}`);
        }
        const requests = (await app.offboarding.list()).filter((r) => !options.state || r.state === options.state);
        if (options.json) printJson(requests);
        else if (requests.length === 0) print('no requests');
        else requests.forEach((r) => print(renderRequestLine(r)));
      }),
    );
}
