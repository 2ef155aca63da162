import type { Command } from 'commander';
import { withPostmaster } from '../context.js';
import { print, printJson } from '../output.js';

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('audit all forwarding in the domain: loops, external and free-mail targets, dead targets, expired rules…')
    .option('--json', 'print the findings as a JSON array of { severity, kind, mailbox, targets, detail }')
    .option('--csv', 'print the findings as CSV')
    .option('--record', 'make this run the baseline for the next "changed since" (the weekly run does this)')
    .action(async (options: { json?: boolean; csv?: boolean; record?: boolean }) =>
      withPostmaster(async (app) => {
        const tty = Boolean(process.stderr.isTTY);
        let last = 0;
        const report = await app.forwarding.runAudit({
          record: options.record,
          onProgress: (done, total) => {
            const now = Date.now();
            if (done < total && now - last < (tty ? 100 : 2000)) return;
            last = now;
            process.stderr.write(`${tty ? '\r\x1b[K' : ''}reading forwarding: ${done}/${total} mailboxes${tty && done < total ? '' : '\n'}`);
          },
        });
        if (options.json) printJson(report.findings);
        else if (options.csv) process.stdout.write(report.csv);
        else {
          print(report.summary.headline);
          if (report.summary.unreadableNote) print(report.summary.unreadableNote);
          for (const f of report.findings) print(`${f.severity.padEnd(8)} ${f.kind.padEnd(22)} ${f.mailbox}${f.targets.length ? ` -> ${f.targets.join(', ')}` : ''}  ${f.detail}`);
          if (report.change) print(`since the last recorded audit: ${report.change.new.length} new, ${report.change.resolved.length} resolved`);
        }
      }),
    );
}
