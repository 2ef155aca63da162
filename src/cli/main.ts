/**
 * The `postmaster` command: the same core use-cases as the Slack bot, from a terminal.
 */
import { Command, CommanderError } from 'commander';
import { registerOffboard } from './commands/offboard.js';
import { registerApprove } from './commands/approve.js';
import { registerDecide } from './commands/decide.js';
import { registerResume } from './commands/resume.js';
import { registerShow } from './commands/show.js';
import { registerMailboxes } from './commands/mailboxes.js';
import { registerLog } from './commands/log.js';
import { registerSweep } from './commands/sweep.js';
import { registerForward } from './commands/forward.js';
import { registerAudit } from './commands/audit.js';
import { EXIT_REFUSED } from './output.js';

export function buildProgram(): Command {
  const program = new Command('postmaster')
    .description('Mailbox offboarding with approvals, and forwarding guardrails, for mail admins')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of [registerOffboard, registerApprove, registerDecide, registerResume, registerShow, registerMailboxes, registerLog, registerSweep, registerForward, registerAudit]) {
    register(program);
  }
  program.commands.forEach((command) => command.exitOverride());
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; any other parse error is bad input.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_REFUSED;
      return;
    }
    throw error;
  }
}

await runCli(process.argv);
