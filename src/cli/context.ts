/**
 * Every command runs inside `withPostmaster`: it loads the config, composes the app, runs the
 * command, closes connections, and turns any error into one stderr line and an exit code.
 */
import { loadConfig, loadDotEnv } from '../config.js';
import { createLogger } from '../logger.js';
import { composePostmaster, type Postmaster } from '../compose.js';
import { CliExit, exitCodeFor, printError } from './output.js';

export async function withPostmaster(work: (app: Postmaster) => Promise<number | void>): Promise<void> {
  let app: Postmaster | undefined;
  let code = 0;
  try {
    loadDotEnv();
    const config = loadConfig();
    // The CLI's own output is its interface; the logger only speaks up for warnings unless asked.
    const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
    app = await composePostmaster(config, logger);
    code = (await work(app)) ?? 0;
  } catch (error) {
    if (error instanceof CliExit) code = error.exitCode;
    else {
      printError(error);
      code = exitCodeFor(error);
    }
  } finally {
    await app?.close().catch(() => undefined);
  }
  process.exitCode = code;
}

/** `--as` is required for anything that changes state: every change is attributed to a person. */
export function actorOf(options: { as?: string }): string {
  if (!options.as?.trim()) {
    throw new CliExit(reportUsage('--as <id> is required: say who is acting (a Slack user id, or your name in POSTMASTER_REQUESTERS/APPROVERS)'));
  }
  return options.as.trim();
}

function reportUsage(message: string): number {
  process.stderr.write(`postmaster: ${message}\n`);
  return 2;
}
