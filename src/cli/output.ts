/**
 * How the CLI talks back: results on stdout (JSON with --json), progress and errors on stderr,
 * and exit codes scripts can branch on.
 */
import { describeError, isRefusal, PostmasterError } from '../core/errors.js';
import { ConfigError } from '../config.js';

export const EXIT_OK = 0;
/** A step failed, or the mail system could not be reached. */
export const EXIT_FAILED = 1;
/** Bad input or refused by policy: nothing changed. */
export const EXIT_REFUSED = 2;

export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) return EXIT_REFUSED;
  if (error instanceof PostmasterError) {
    return isRefusal(error) ? EXIT_REFUSED : EXIT_FAILED;
  }
  return EXIT_FAILED;
}

export function printError(error: unknown): void {
  process.stderr.write(`postmaster: ${describeError(error)}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}
