/**
 * Errors a person can act on. `code` is what callers branch on (front ends map it to an exit code or
 * an ephemeral message); `message` says what was refused and why; `hint` says what to do instead.
 */
export type ErrorCode =
  | 'BadInput' // the input itself is malformed: a bad address, a missing argument
  | 'Refused' // well-formed, but policy says no: self-approval, a loop, over a limit
  | 'NotFound' // the mailbox, request or rule does not exist
  | 'Conflict' // the state moved under us: already approved, already running
  | 'Unavailable' // the mail system or a dependency could not be reached
  | 'ProviderError' // the mail system answered, but with an error
  | 'Unsupported'; // the provider cannot do this through its API

export class PostmasterError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PostmasterError';
    this.code = code;
    this.hint = options.hint;
  }
}

export const badInput = (message: string, hint?: string) => new PostmasterError('BadInput', message, { hint });
export const refused = (message: string, hint?: string) => new PostmasterError('Refused', message, { hint });
export const notFound = (message: string, hint?: string) => new PostmasterError('NotFound', message, { hint });
export const conflict = (message: string, hint?: string) => new PostmasterError('Conflict', message, { hint });

/** Codes that mean "the request was refused and nothing changed", as opposed to a failure. */
const REFUSAL_CODES: ReadonlySet<ErrorCode> = new Set(['BadInput', 'Refused', 'NotFound', 'Conflict', 'Unsupported']);

export function isRefusal(error: unknown): error is PostmasterError {
  return error instanceof PostmasterError && REFUSAL_CODES.has(error.code);
}

export function isPostmasterError(error: unknown, code?: ErrorCode): error is PostmasterError {
  return error instanceof PostmasterError && (code === undefined || error.code === code);
}

/** A one-line description of any thrown value, safe to show a user. */
export function describeError(error: unknown): string {
  if (error instanceof PostmasterError) return error.hint ? `${error.message} (${error.hint})` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
