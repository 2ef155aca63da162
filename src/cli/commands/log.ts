import type { Command } from 'commander';
import { verifyChain } from '../../core/audit/chain.js';
import { withPostmaster } from '../context.js';
import { EXIT_FAILED, print, printJson } from '../output.js';

export function registerLog(program: Command): void {
  const log = program.command('log').description('the append-only, hash-chained audit log');

  log
    .command('verify')
    .description('check that no entry was edited, deleted or reordered')
    .option('--json', 'print the verdict as JSON')
    .action(async (options: { json?: boolean }) =>
      withPostmaster(async (app) => {
        const { entries, head } = await app.audit.read();
        const verdict = verifyChain(entries, head);
        if (options.json) printJson(verdict);
        else if (verdict.ok) print(`audit log intact: ${verdict.entries} entries`);
        else process.stderr.write(`postmaster: audit log is NOT intact at entry ${verdict.seq}: ${verdict.problem}\n`);
        return verdict.ok ? 0 : EXIT_FAILED;
      }),
    );

  log
    .command('show')
    .description('print the audit log')
    .option('--request <id>', 'only entries about this request')
    .option('--json', 'print a JSON array')
    .action(async (options: { request?: string; json?: boolean }) =>
      withPostmaster(async (app) => {
        const { entries } = await app.audit.read();
        const shown = entries.filter((e) => !options.request || e.requestId === options.request);
        if (options.json) printJson(shown);
        else shown.forEach((e) => print(`${String(e.seq).padStart(5)} ${e.at} ${e.actor.padEnd(10)} ${e.action.padEnd(20)} ${e.requestId ?? ''} ${e.mailbox ?? ''} ${e.detail ?? ''}`.trimEnd()));
      }),
    );
}
