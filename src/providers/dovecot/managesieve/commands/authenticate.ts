/**
 * AUTHENTICATE "PLAIN" with an initial response (RFC 5804 §2.1, SASL PLAIN from RFC 4616).
 * With an authzid the admin (Dovecot "master") user logs in AS that user: the message is
 * authzid NUL authcid NUL password.
 */
import type { Connection } from '../connection.js';
import { ManageSieveError, errorFromResponse, type ManageSieveErrorKind } from '../errors.js';
import { encodeCommand, encodeString } from '../wire.js';

export interface Credentials {
  /** The authentication identity: the admin user, or the mailbox owner. */
  user: string;
  /** The mailbox to act as; omit to act as `user`. */
  authzid?: string;
  password: string;
}

export async function authenticate(connection: Connection, credentials: Credentials): Promise<void> {
  const { user, authzid = '', password } = credentials;
  const message = Buffer.from(`${authzid}\0${user}\0${password}`, 'utf8').toString('base64');
  const response = await connection.exec(encodeCommand('AUTHENTICATE', encodeString('PLAIN'), encodeString(message)));
  if (response.status === 'OK') return;

  const who = authzid ? `${authzid} through ${user}` : user;
  const what = `ManageSieve login as ${who}`;
  if (response.status === 'BYE' || response.code !== undefined) throw errorFromResponse(what, response);
  const kind = classifyRefusal(response.text ?? '');
  throw new ManageSieveError(kind, `${what} failed: ${response.text ?? 'NO'}`, {
    serverText: response.text,
    hint: HINTS[kind],
  });
}

/**
 * ManageSieve has no AUTHENTICATIONFAILED code (IMAP's RFC 5530 codes do not apply), so the text
 * is all there is. Dovecot says "Authentication failed." for bad credentials and "Authorization
 * failed" when the master user may not act as that user (or the user is unknown). A passdb
 * refusal (passwd-file nologin=y) comes back as its reason= text verbatim, or "Login disabled for
 * this user" without one, and only once the password was right — so any other text is a
 * disabled login.
 */
function classifyRefusal(text: string): ManageSieveErrorKind {
  if (/authentication (failed|error)|invalid credentials/i.test(text)) return 'AuthenticationFailed';
  if (/authori[sz]ation failed/i.test(text)) return 'AuthorizationFailed';
  if (/unsupported authentication mechanism|base64|initial response/i.test(text)) return 'ServerError';
  return 'LoginDisabled';
}

const HINTS: Partial<Record<ManageSieveErrorKind, string>> = {
  AuthenticationFailed: 'check the ManageSieve admin user and password in the configuration',
  AuthorizationFailed: 'check that the mailbox exists and that the admin user is a Dovecot master user',
  LoginDisabled: 'the account refuses logins, so change its scripts through the doveadm HTTP API instead',
};
