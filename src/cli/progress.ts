/**
 * Run progress on stderr: a line per step start and end, and for the export a progress line that
 * rewrites itself on a terminal and is throttled to one line every few seconds in a log file.
 */
import type { RunEvent, RunObserver } from '../core/offboarding/runner.js';
import { formatBytes, formatCount } from '../core/format.js';

export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): RunObserver {
  const tty = Boolean(stream.isTTY);
  let lastLine = 0;
  let pending = false;
  const clear = () => {
    if (tty && pending) stream.write('\r\x1b[K');
    pending = false;
  };
  return (event: RunEvent) => {
    switch (event.type) {
      case 'step_started':
        clear();
        stream.write(`… ${event.step.name}\n`);
        break;
      case 'step_progress': {
        const now = Date.now();
        if (!tty && now - lastLine < 2000) return;
        lastLine = now;
        const p = event.progress;
        const pct = p.messagesTotal ? Math.floor((100 * p.messagesDone) / p.messagesTotal) : 100;
        const line = `  ${event.step.name}: folder ${p.folderIndex + 1}/${p.folderCount} ${p.folder}: ${formatCount(p.messagesDone)}/${formatCount(p.messagesTotal)} messages (${pct}%), ${formatBytes(p.bytesDone)}`;
        if (tty) {
          stream.write(`\r\x1b[K${line}`);
          pending = true;
        } else stream.write(`${line}\n`);
        break;
      }
      case 'step_finished':
        clear();
        stream.write(event.step.status === 'done' ? `✓ ${event.step.name}: ${event.step.summary}\n` : `✗ ${event.step.name}: ${event.step.error}\n`);
        break;
      case 'run_paused':
        clear();
        if (event.request.state === 'awaiting_manual') {
          const step = event.request.steps.find((s) => s.status === 'awaiting_manual');
          stream.write(`⏸ waiting for a person to do "${step?.name}": ${step?.instructions}\n  then: postmaster mark-done ${event.request.id} ${step?.name} --as <you>\n`);
        } else if (event.request.state === 'scheduled') {
          stream.write(`⏸ scheduled: continues at ${event.request.nextDueAt}\n`);
        }
        break;
      case 'run_finished':
        clear();
        break;
    }
  };
}
