import type { Command } from 'commander';
import { withPostmaster } from '../context.js';
import { print, printJson } from '../output.js';

export function registerMailboxes(program: Command): void {
  program
    .command('mailboxes')
    .description('list the mail system\'s mailboxes and their status')
    .option('--json', 'print a JSON array of { address, status, ... }')
    .action(async (options: { json?: boolean }) =>
      withPostmaster(async (app) => {
        const mailboxes = await app.offboarding.listMailboxes();
        if (options.json) printJson(mailboxes);
        else mailboxes.forEach((m) => print(`${m.address.padEnd(40)} ${m.status}${m.providerStatus ? ` (${m.providerStatus})` : ''}`));
      }),
    );
}
