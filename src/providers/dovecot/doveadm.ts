/**
 * Client for Dovecot's doveadm HTTP API (Dovecot 2.3). Postmaster uses it for what IMAP and
 * ManageSieve cannot do: ending live sessions, and editing Sieve scripts or deleting mail of a user
 * whose login is disabled (nologin refuses master-user logins too, but doveadm ignores it).
 *
 * Wire format: POST /doveadm/v1 with `[[command, params, tag]]`; the answer is
 * `[["doveadmResponse", result, tag]]` or `[["error", {type, exitCode}, tag]]`, always HTTP 200.
 * Parameter names come from `GET /doveadm/v1` on a real 2.3.19 server.
 */
import { PostmasterError, type ErrorCode } from '../../core/errors.js';

export interface DoveadmClientOptions {
  /** Base URL of the doveadm HTTP listener, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The server's `doveadm_api_key`. */
  apiKey: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

/** What doveadm reported; kept as the `cause` of a PostmasterError so callers can branch on it. */
export class DoveadmFailure extends Error {
  readonly command: string;
  readonly type: string;
  readonly exitCode: number;

  constructor(command: string, type: string, exitCode: number) {
    super(`doveadm ${command}: ${type} ${exitCode}`);
    this.name = 'DoveadmFailure';
    this.command = command;
    this.type = type;
    this.exitCode = exitCode;
  }
}

/** The exit code of a failed doveadm command, when the error came from one. */
export function doveadmExitCode(error: unknown): number | undefined {
  return error instanceof PostmasterError && error.cause instanceof DoveadmFailure ? error.cause.exitCode : undefined;
}

// sysexits.h values, as doveadm uses them.
export const EX_USAGE = 64;
export const EX_DATAERR = 65; // doveadm's "not possible": a script that does not compile, deleting INBOX or an active script
export const EX_NOUSER = 67; // no such user in the userdb
export const EX_NOTFOUND = 68; // doveadm's "not found": no such script, mailbox or session
export const EX_TEMPFAIL = 75;
export const EX_NOPERM = 77;

const EXIT_MEANING: Record<number, string> = {
  [EX_USAGE]: 'bad parameters',
  [EX_DATAERR]: 'not possible',
  [EX_NOUSER]: 'user unknown',
  [EX_NOTFOUND]: 'not found',
  [EX_TEMPFAIL]: 'temporary failure',
  [EX_NOPERM]: 'permission denied',
};

export interface WhoSession {
  user: string;
  /** imap, pop3, sieve (ManageSieve), ... */
  service: string;
  pid: number;
  ip: string;
}

export interface SieveScriptInfo {
  name: string;
  active: boolean;
}

// The status fields doveadm 2.3 knows. An unknown one makes the doveadm process die with
// "Fatal: Unknown status field" and the HTTP connection close without an answer.
export const MAILBOX_STATUS_FIELDS = [
  'messages',
  'recent',
  'uidnext',
  'uidvalidity',
  'unseen',
  'highestmodseq',
  'vsize',
  'guid',
  'firstsaved',
] as const;
export type MailboxStatusField = (typeof MAILBOX_STATUS_FIELDS)[number] | 'all';

export interface MailboxStatusRow {
  mailbox: string;
  messages?: number;
  recent?: number;
  uidnext?: number;
  uidvalidity?: number;
  unseen?: number;
  highestmodseq?: number;
  vsize?: number;
  guid?: string;
  /** Unix seconds of the first message saved; null when doveadm says "never". */
  firstsaved?: number | null;
}

interface ErrorContext {
  /** Shown in messages: "alice@example.test", "script vacation of alice@example.test". */
  subject?: string;
  /** Overrides for particular exit codes. */
  codes?: Partial<Record<number, { code: ErrorCode; message: string; hint?: string }>>;
}

let tagCounter = 0;

export class DoveadmClient {
  private readonly endpoint: string;
  /** The endpoint without any userinfo, safe for messages. */
  private readonly shownUrl: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof globalThis.fetch;

  constructor(options: DoveadmClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch (cause) {
      throw new PostmasterError('BadInput', `doveadm API URL is not a URL: ${options.url}`, { cause });
    }
    base.username = '';
    base.password = '';
    const root = base.toString().replace(/\/+$/, '');
    this.endpoint = `${root}/doveadm/v1`;
    this.shownUrl = this.endpoint;
    this.authorization = `X-Dovecot-API ${Buffer.from(options.apiKey, 'utf8').toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /**
   * Runs any doveadm command.
   * @param command camelCase API name, e.g. `mailboxList` (see `GET /doveadm/v1`).
   * @param params the command's named parameters; `false` flags are left out (see withoutFalseFlags).
   * @returns the command's result as doveadm sent it (an array of rows for most commands).
   * @throws PostmasterError Unavailable (unreachable, timeout, key refused), NotFound (exit 67/68),
   *   Unsupported (unknown command), ProviderError (any other failure).
   */
  async run<T = unknown>(command: string, params: Record<string, unknown> = {}): Promise<T> {
    return (await this.call(command, params, {})) as T;
  }

  /**
   * Ends every IMAP, POP3 and ManageSieve session of a user.
   * @returns how many connections were open just before the kick (0 when there were none).
   * @throws PostmasterError BadInput for a wildcard in `user`; Unavailable / ProviderError as `run`.
   */
  async kick(user: string): Promise<number> {
    const mask = exactMask(user);
    // The API's kick answers only with the user names it kicked ([{"result": "bob@..."}]), never a
    // connection count, so the count comes from `who` just before.
    const open = (await this.who(user)).length;
    try {
      const kicked = await this.call('kick', { mask: [mask] }, { subject: mask });
      const users = Array.isArray(kicked) ? kicked.length : 0;
      return Math.max(open, users);
    } catch (error) {
      if (doveadmExitCode(error) === EX_NOTFOUND) return 0;
      throw error;
    }
  }

  /**
   * Lists a user's live sessions, one row per connection.
   * @returns sessions of exactly this user (an unknown user simply has none).
   */
  async who(user: string): Promise<WhoSession[]> {
    const mask = exactMask(user);
    const rows = await this.call('who', { mask: [mask], separateConnections: true }, { subject: mask });
    return asRows(rows, 'who')
      .filter((row) => String(row.username ?? '').toLowerCase() === mask)
      .map((row) => ({
        user: String(row.username),
        service: String(row.service ?? ''),
        pid: Number(row.pid),
        ip: String(row.ip ?? ''),
      }));
  }

  /**
   * Lists a user's Sieve scripts, sorted by name.
   * @throws PostmasterError NotFound when the user does not exist.
   */
  async sieveList(user: string): Promise<SieveScriptInfo[]> {
    const rows = await this.call('sieveList', { user }, { subject: user });
    return asRows(rows, 'sieveList')
      .map((row) => ({ name: String(row.script), active: row.active === 'ACTIVE' }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // doveadm lists in directory order
  }

  /**
   * Reads one Sieve script.
   * @returns the script text.
   * @throws PostmasterError NotFound when the user or the script does not exist.
   */
  async sieveGet(user: string, name: string): Promise<string> {
    const rows = await this.call('sieveGet', { user, scriptname: name }, scriptContext(user, name));
    const text = asRows(rows, 'sieveGet')[0]?.['sieve script'];
    if (typeof text !== 'string') throw malformed('sieveGet', this.shownUrl);
    return text;
  }

  /**
   * Creates or replaces a Sieve script, optionally making it the active one.
   * @throws PostmasterError BadInput when Dovecot refuses the script (it does not compile),
   *   NotFound when the user does not exist.
   */
  async sievePut(user: string, name: string, text: string, activate = false): Promise<void> {
    await this.call('sievePut', { user, scriptname: name, file: text, activate }, {
      subject: `Sieve script "${name}" of ${user}`,
      codes: {
        [EX_DATAERR]: {
          code: 'BadInput',
          message: `Dovecot refused Sieve script "${name}" for ${user}: it does not compile`,
          hint: 'the compile error is in the Dovecot log',
        },
      },
    });
  }

  /**
   * Makes a script the active one (the previous active script stays, inactive).
   * @throws PostmasterError NotFound when the user or the script does not exist.
   */
  async sieveActivate(user: string, name: string): Promise<void> {
    await this.call('sieveActivate', { user, scriptname: name }, scriptContext(user, name));
  }

  /**
   * Leaves the user with no active script. Succeeds when none was active.
   * @throws PostmasterError NotFound when the user does not exist.
   */
  async sieveDeactivate(user: string): Promise<void> {
    await this.call('sieveDeactivate', { user }, { subject: user });
  }

  /**
   * Deletes a Sieve script.
   * @param options.ignoreActive delete it even when it is the active script.
   * @throws PostmasterError NotFound when the user or the script does not exist, Conflict when it
   *   is active and `ignoreActive` is not set.
   */
  async sieveDelete(user: string, name: string, options: { ignoreActive?: boolean } = {}): Promise<void> {
    const context = scriptContext(user, name);
    context.codes = {
      ...context.codes,
      [EX_DATAERR]: {
        code: 'Conflict',
        message: `Sieve script "${name}" of ${user} is active and was not deleted`,
        hint: 'deactivate it first, or delete with ignoreActive',
      },
    };
    await this.call('sieveDelete', { user, scriptname: [name], ignoreActive: options.ignoreActive ?? false }, context);
  }

  /**
   * Reads status fields of the mailboxes matching `mask` (`*` for all, `%` for one level).
   * @returns one row per existing mailbox, numbers parsed. A user whose mail was never touched has none.
   * @throws PostmasterError BadInput for an unknown field, NotFound when the user does not exist or
   *   no mailbox matches a mask without wildcards.
   */
  async mailboxStatus(user: string, fields: MailboxStatusField[], mask: string | string[] = '*'): Promise<MailboxStatusRow[]> {
    const unknown = fields.filter((field) => field !== 'all' && !(MAILBOX_STATUS_FIELDS as readonly string[]).includes(field));
    if (fields.length === 0 || unknown.length > 0) {
      throw new PostmasterError('BadInput', `unknown mailbox status field(s): ${unknown.join(', ') || '(none given)'}`, {
        hint: `known fields: ${MAILBOX_STATUS_FIELDS.join(', ')}, all`,
      });
    }
    const masks = Array.isArray(mask) ? mask : [mask];
    const rows = await this.call('mailboxStatus', { user, field: fields, mailboxMask: masks }, {
      subject: `mailboxes ${masks.join(' ')} of ${user}`,
    });
    return asRows(rows, 'mailboxStatus').map(parseStatusRow);
  }

  /**
   * Expunges every message in every folder of the user. Folders stay.
   * @throws PostmasterError NotFound when the user does not exist.
   */
  async expungeAll(user: string): Promise<void> {
    await this.call('expunge', { user, query: ['mailbox', '*', 'all'] }, { subject: user });
  }

  /**
   * Deletes all of a user's mail: expunges every message, deletes every folder except INBOX (which
   * IMAP cannot delete), purges, then checks that no message is left. Sieve scripts are not touched.
   * Disable or remove the user's LMTP delivery first, or new mail can arrive right after.
   * @returns the folders it deleted.
   * @throws PostmasterError NotFound when the user does not exist, ProviderError when mail remains.
   */
  async mailboxDeleteAll(user: string): Promise<{ deletedMailboxes: string[] }> {
    await this.expungeAll(user);
    const listed = asRows(await this.call('mailboxList', { user }, { subject: user }), 'mailboxList')
      .map((row) => String(row.mailbox))
      .filter((name) => name.toUpperCase() !== 'INBOX');
    // Children first, one call each: a recursive delete reports 68 when a parent was only implied
    // by its children (Maildir++ has no directory for it) even though it deleted everything.
    // (A child's name is longer than its parent's, whatever the hierarchy separator.)
    const ordered = [...new Set(listed)].sort((a, b) => b.length - a.length || b.localeCompare(a));
    const deletedMailboxes: string[] = [];
    for (const mailbox of ordered) {
      try {
        await this.call('mailboxDelete', { user, mailbox: [mailbox] }, { subject: `mailbox ${mailbox} of ${user}` });
        deletedMailboxes.push(mailbox);
      } catch (error) {
        // Listed but absent on disk: implied parents, and autocreated folders (Sent, Trash) that
        // were never opened. Nothing to delete.
        if (doveadmExitCode(error) !== EX_NOTFOUND) throw error;
      }
    }
    // A no-op for Maildir; for mdbox/sdbox this is what frees the expunged messages.
    await this.call('purge', { user }, { subject: user });
    const left = (await this.mailboxStatus(user, ['messages'], '*')).reduce((sum, row) => sum + (row.messages ?? 0), 0);
    if (left > 0) {
      throw new PostmasterError('ProviderError', `${left} message(s) of ${user} are still on the server after deleting all mail`, {
        hint: 'mail may still be arriving: disable delivery to the user, then retry',
      });
    }
    return { deletedMailboxes };
  }

  private async call(command: string, params: Record<string, unknown>, context: ErrorContext): Promise<unknown> {
    const tag = `pm${++tagCounter}`;
    let response: Response;
    try {
      response = await this.fetchImpl(this.endpoint, {
        method: 'POST',
        headers: { Authorization: this.authorization, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify([[command, withoutFalseFlags(params), tag]]),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw this.transportError(command, cause);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new PostmasterError('Unavailable', 'doveadm API refused the key (DOVECOT_DOVEADM_KEY)', {
        hint: `check that it matches doveadm_api_key on the server behind ${this.shownUrl}`,
      });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      throw this.transportError(command, cause);
    }
    if (!response.ok) {
      throw new PostmasterError('ProviderError', `doveadm API at ${this.shownUrl} answered HTTP ${response.status} to ${command}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new PostmasterError('ProviderError', `doveadm API at ${this.shownUrl} sent a reply to ${command} that is not JSON`, { cause });
    }
    const entry = Array.isArray(body) ? body.find((item) => Array.isArray(item) && item[2] === tag) : undefined;
    if (!Array.isArray(entry)) throw malformed(command, this.shownUrl);
    const [kind, payload] = entry as [unknown, unknown];
    if (kind === 'doveadmResponse') return payload;
    if (kind === 'error' && payload && typeof payload === 'object') {
      const { type, exitCode } = payload as { type?: unknown; exitCode?: unknown };
      throw commandError(command, String(type ?? 'error'), Number(exitCode ?? 0), context);
    }
    throw malformed(command, this.shownUrl);
  }

  private transportError(command: string, cause: unknown): PostmasterError {
    const name = cause instanceof Error ? cause.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new PostmasterError('Unavailable', `doveadm API at ${this.shownUrl} did not answer ${command} within ${this.timeoutMs} ms`, { cause });
    }
    const code = networkCode(cause);
    // undici's "other side closed": the doveadm worker accepted the request and died on it
    // (Dovecot logs a Fatal), so retrying the same request will not help.
    if (code === 'UND_ERR_SOCKET') {
      return new PostmasterError('ProviderError', `doveadm API at ${this.shownUrl} closed the connection without answering ${command}`, {
        hint: 'the doveadm process probably failed on this request; see the Dovecot log',
        cause,
      });
    }
    return new PostmasterError('Unavailable', `doveadm API at ${this.shownUrl} could not be reached${code ? ` (${code})` : ''}`, {
      hint: 'check DOVECOT_DOVEADM_URL and that Dovecot has a doveadm inet_listener http',
      cause,
    });
  }
}

/**
 * Dovecot 2.3 turns a boolean parameter into its command-line flag whenever the key is present,
 * so `"activate": false` activates and `"ignoreActive": false` deletes the active script. A false
 * flag must be left out.
 */
function withoutFalseFlags(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== false && value !== undefined));
}

/** The user as an anvil mask that can match nobody else. */
function exactMask(user: string): string {
  if (/[*?]/.test(user) || user.trim() === '') {
    throw new PostmasterError('BadInput', `not a single user: "${user}"`, { hint: 'wildcards would match other users' });
  }
  return user.trim().toLowerCase();
}

function scriptContext(user: string, name: string): ErrorContext {
  return {
    subject: `Sieve script "${name}" of ${user}`,
    codes: { [EX_NOTFOUND]: { code: 'NotFound', message: `${user} has no Sieve script "${name}"` } },
  };
}

function commandError(command: string, type: string, exitCode: number, context: ErrorContext): PostmasterError {
  const cause = new DoveadmFailure(command, type, exitCode);
  if (type === 'unknownMethod') {
    return new PostmasterError('Unsupported', `this Dovecot's doveadm API has no command ${command}`, { cause });
  }
  const override = context.codes?.[exitCode];
  if (override) return new PostmasterError(override.code, override.message, { hint: override.hint, cause });
  const about = context.subject ? ` for ${context.subject}` : '';
  if (exitCode === EX_NOUSER) {
    return new PostmasterError('NotFound', `doveadm ${command}${about} failed: user unknown (exit code 67)`, { cause });
  }
  if (exitCode === EX_NOTFOUND) {
    return new PostmasterError('NotFound', `doveadm ${command}${about} failed: not found (exit code 68)`, { cause });
  }
  const meaning = EXIT_MEANING[exitCode] ?? type;
  return new PostmasterError('ProviderError', `doveadm ${command}${about} failed: ${meaning} (exit code ${exitCode})`, {
    hint: 'details are in the Dovecot log',
    cause,
  });
}

function malformed(command: string, url: string): PostmasterError {
  return new PostmasterError('ProviderError', `doveadm API at ${url} sent a reply to ${command} in an unexpected shape`);
}

function asRows(result: unknown, command: string): Array<Record<string, unknown>> {
  if (!Array.isArray(result)) {
    throw new PostmasterError('ProviderError', `doveadm ${command} returned ${typeof result} instead of a list`);
  }
  return result.filter((row): row is Record<string, unknown> => typeof row === 'object' && row !== null);
}

function parseStatusRow(row: Record<string, unknown>): MailboxStatusRow {
  const out: MailboxStatusRow = { mailbox: String(row.mailbox ?? '') };
  for (const field of ['messages', 'recent', 'uidnext', 'uidvalidity', 'unseen', 'highestmodseq', 'vsize'] as const) {
    if (row[field] !== undefined) out[field] = Number(row[field]);
  }
  if (row.guid !== undefined) out.guid = String(row.guid);
  if (row.firstsaved !== undefined) out.firstsaved = row.firstsaved === 'never' ? null : Number(row.firstsaved);
  return out;
}

function networkCode(error: unknown): string | undefined {
  for (let current: unknown = error, i = 0; current && i < 5; current = (current as { cause?: unknown }).cause, i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
