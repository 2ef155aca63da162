import { ManageSieveError } from '../errors.js';

/**
 * RFC 5804 §1.6: a script name is non-empty UTF-8 without control characters or line/paragraph
 * separators. Dovecot also refuses "/" (names are file names), so refuse it here with a clearer
 * message than the server's.
 */
export function assertScriptName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name === '' || /[\u0000-\u001f\u007f-\u009f\u2028\u2029/]/.test(name)) {
    throw new ManageSieveError('InvalidName', `"${name}" is not a valid Sieve script name`, {
      hint: 'use a non-empty name without "/" or control characters',
    });
  }
}
