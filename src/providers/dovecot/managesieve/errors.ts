/**
 * ManageSieve failures as PostmasterErrors. `code` is the generic one front ends map (NotFound,
 * Refused, Unavailable...); `kind` is the protocol-level reason providers branch on.
 */
import { PostmasterError, type ErrorCode } from '../../../core/errors.js';
import type { ManageSieveResponse } from './wire.js';

export type ManageSieveErrorKind =
  | 'AuthenticationFailed' // wrong credentials (or wrong master password)
  | 'AuthorizationFailed' // credentials fine, but may not act as that user (unknown user, master not allowed)
  | 'LoginDisabled' // credentials fine, the account refuses logins (passwd-file nologin=y)
  | 'NonExistent' // (NONEXISTENT): no such script
  | 'AlreadyExists' // (ALREADYEXISTS)
  | 'Active' // (ACTIVE): the active script cannot be deleted
  | 'Quota' // (QUOTA), (QUOTA/MAXSCRIPTS), (QUOTA/MAXSIZE)
  | 'ScriptError' // PUTSCRIPT / CHECKSCRIPT: the server's Sieve compiler rejected the script
  | 'EncryptNeeded' // (ENCRYPT-NEEDED) / (AUTH-TOO-WEAK)
  | 'TryLater' // (TRYLATER): the server's auth backend is down
  | 'InvalidName' // refused before sending: a script name no server accepts
  | 'ServerError' // any other NO
  | 'ProtocolError' // the server sent something this client cannot parse
  | 'ConnectionFailed' // could not connect at all
  | 'ConnectionClosed' // BYE, or the socket closed mid-command
  | 'Timeout'; // no complete response within timeoutMs

const GENERIC: Record<ManageSieveErrorKind, ErrorCode> = {
  AuthenticationFailed: 'ProviderError',
  AuthorizationFailed: 'Refused',
  LoginDisabled: 'Refused',
  NonExistent: 'NotFound',
  AlreadyExists: 'Conflict',
  Active: 'Conflict',
  Quota: 'Refused',
  ScriptError: 'BadInput',
  EncryptNeeded: 'ProviderError',
  TryLater: 'Unavailable',
  InvalidName: 'BadInput',
  ServerError: 'ProviderError',
  ProtocolError: 'ProviderError',
  ConnectionFailed: 'Unavailable',
  ConnectionClosed: 'Unavailable',
  Timeout: 'Unavailable',
};

export class ManageSieveError extends PostmasterError {
  readonly kind: ManageSieveErrorKind;
  /** The server's human-readable text, verbatim (compiler errors for ScriptError). */
  readonly serverText: string | undefined;
  /** The response code as sent, upper-cased, e.g. 'NONEXISTENT' or 'QUOTA/MAXSIZE'. */
  readonly responseCode: string | undefined;

  constructor(
    kind: ManageSieveErrorKind,
    message: string,
    options: { serverText?: string; responseCode?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(GENERIC[kind], message, { hint: options.hint, cause: options.cause });
    this.name = 'ManageSieveError';
    this.kind = kind;
    this.serverText = options.serverText;
    this.responseCode = options.responseCode;
  }
}

export function isManageSieveError(error: unknown, kind?: ManageSieveErrorKind): error is ManageSieveError {
  return error instanceof ManageSieveError && (kind === undefined || error.kind === kind);
}

const BY_RESPONSE_CODE: Record<string, ManageSieveErrorKind> = {
  NONEXISTENT: 'NonExistent',
  ALREADYEXISTS: 'AlreadyExists',
  ACTIVE: 'Active',
  QUOTA: 'Quota',
  'QUOTA/MAXSCRIPTS': 'Quota',
  'QUOTA/MAXSIZE': 'Quota',
  'ENCRYPT-NEEDED': 'EncryptNeeded',
  'AUTH-TOO-WEAK': 'EncryptNeeded',
  TRYLATER: 'TryLater',
  'LIMIT/CONNECTIONS': 'TryLater',
};

/**
 * Turns a NO or BYE into an error. `fallback` is the kind for a NO without a known response code:
 * RFC 5804 §2.6 and §2.12 answer a script the compiler rejects with a bare NO, so PUTSCRIPT and
 * CHECKSCRIPT pass 'ScriptError'.
 */
export function errorFromResponse(
  what: string,
  response: ManageSieveResponse,
  fallback: ManageSieveErrorKind = 'ServerError',
): ManageSieveError {
  const text = (response.text ?? '').trim();
  const kind: ManageSieveErrorKind =
    response.status === 'BYE'
      ? 'ConnectionClosed'
      : (response.code !== undefined ? BY_RESPONSE_CODE[response.code] : undefined) ?? fallback;
  return new ManageSieveError(kind, `${what} failed: ${text || response.status}`, {
    serverText: response.text,
    responseCode: response.code,
  });
}
