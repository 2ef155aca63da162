/**
 * Edits a Dovecot passwd-file: `user:password:uid:gid:gecos:home:shell:extra_fields`, the extra
 * fields being space-separated key=value pairs. Disabling a login is `nologin=y reason=X`: IMAP then
 * answers `NO [CONTACTADMIN] X` (master-user logins included) while LMTP still delivers.
 *
 * Only the line being changed is rewritten; every other byte stays as it was. The file is worked on
 * as latin1 so that bytes which are not UTF-8 (an old gecos) survive a round trip.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, realpath, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PostmasterError, isPostmasterError } from '../../core/errors.js';

export interface PasswdEntry {
  address: string;
  /** True when a `nologin` field is present: Dovecot refuses the login whatever its value, even `nologin=n`. */
  disabled: boolean;
  /** The text Dovecot shows, with `%%` read back as `%`. */
  reason?: string;
  /** Every extra field, `nologin` and `reason` included; a field without `=` has the value ''. */
  extra: Record<string, string>;
}

/** A lock older than this is left over from a crashed writer; an edit holds it for milliseconds. */
const STALE_LOCK_MS = 10_000;
/** How long a writer waits for another one before giving up. */
const LOCK_WAIT_MS = 15_000;

/**
 * Reads the accounts in a passwd-file. Blank lines and `#` comments are skipped.
 * @throws PostmasterError Unavailable when the file cannot be read.
 */
export async function readPasswdFile(file: string): Promise<PasswdEntry[]> {
  const lines = splitLines(await readText(file));
  const entries: PasswdEntry[] = [];
  for (const line of lines) {
    const parsed = parseLine(line.text);
    if (parsed) entries.push(toEntry(parsed));
  }
  return entries;
}

/**
 * Sets or clears `nologin=y` (and `reason=`) on an account. Without a reason, disabling keeps a
 * reason already there. Enabling removes both fields and leaves every other field in place.
 * @param reason shown to the user by IMAP; whitespace becomes `_` because Dovecot splits on spaces.
 * @returns 'unchanged' when the account was already in that state (the file is not rewritten).
 * @throws PostmasterError NotFound when the account is not in the file, Unavailable when the file
 *   cannot be read, written or locked.
 */
export async function setLoginDisabled(
  file: string,
  address: string,
  disabled: boolean,
  reason?: string,
): Promise<'changed' | 'unchanged'> {
  const wanted = matchKey(address);
  const reasonField = disabled && reason !== undefined ? encodeReason(reason) : undefined;
  return updateFile(file, (lines) => {
    let found = false;
    let changed = false;
    for (const line of lines) {
      const parsed = parseLine(line.text);
      if (!parsed || matchKey(parsed.user) !== wanted) continue;
      // Every line of the address, not only the first: a duplicate left enabled would be a way back in.
      found = true;
      const extra = new ExtraFields(parsed.extra);
      if (disabled) {
        if (!extra.has('nologin')) extra.append('nologin=y');
        if (reasonField !== undefined) extra.set('reason', reasonField);
      } else {
        extra.removeAll('nologin');
        extra.removeAll('reason');
      }
      const text = parsed.prefix + extra.toString();
      if (text !== line.text) {
        line.text = text;
        changed = true;
      }
    }
    if (!found) throw notFoundIn(file, address);
    return changed ? lines : undefined;
  }).then((written) => (written ? 'changed' : 'unchanged'));
}

/**
 * Deletes an account's line(s).
 * @returns 'absent' when there was nothing to delete (the file is not rewritten).
 * @throws PostmasterError Unavailable when the file cannot be read, written or locked.
 */
export async function removeEntry(file: string, address: string): Promise<'removed' | 'absent'> {
  const wanted = matchKey(address);
  const written = await updateFile(file, (lines) => {
    const kept = lines.filter((line) => {
      const parsed = parseLine(line.text);
      return !parsed || matchKey(parsed.user) !== wanted;
    });
    return kept.length === lines.length ? undefined : kept;
  });
  return written ? 'removed' : 'absent';
}

// ---------------------------------------------------------------------------------------------
// Lines

interface Line {
  /** latin1, without the line ending */
  text: string;
  eol: '' | '\n' | '\r\n';
}

function splitLines(content: string): Line[] {
  const parts = content.split('\n');
  return parts.map((part, index) => {
    const last = index === parts.length - 1;
    if (!last && part.endsWith('\r')) return { text: part.slice(0, -1), eol: '\r\n' as const };
    return { text: part, eol: last ? ('' as const) : ('\n' as const) };
  });
}

function joinLines(lines: Line[]): string {
  return lines.map((line) => line.text + line.eol).join('');
}

interface ParsedLine {
  user: string;
  /** Everything up to and including the colon before the extra fields, padded to seven colons. */
  prefix: string;
  extra: string;
}

function parseLine(text: string): ParsedLine | undefined {
  // Dovecot skips lines that are empty or start with '#' or ':' (no user name). An indented '#' is
  // a user name to Dovecot, but one nobody can log in as; reading it as a comment is kinder.
  if (text.trim() === '' || text.trimStart().startsWith('#') || text.startsWith(':')) return undefined;
  let colons = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== ':') continue;
    if (++colons === 7) return { user: text.slice(0, text.indexOf(':')), prefix: text.slice(0, i + 1), extra: text.slice(i + 1) };
  }
  const colon = text.indexOf(':');
  // Fewer than seven fields: extra fields can only be added after the missing ones.
  return { user: colon < 0 ? text : text.slice(0, colon), prefix: text + ':'.repeat(7 - colons), extra: '' };
}

function toEntry(parsed: ParsedLine): PasswdEntry {
  const extra: Record<string, string> = {};
  for (const token of new ExtraFields(parsed.extra).tokens()) {
    const eq = token.indexOf('=');
    // Dovecot keeps the last value of a repeated field.
    extra[fromLatin1(eq < 0 ? token : token.slice(0, eq))] = eq < 0 ? '' : fromLatin1(token.slice(eq + 1));
  }
  const entry: PasswdEntry = { address: fromLatin1(parsed.user), disabled: 'nologin' in extra, extra };
  if (extra.reason !== undefined) entry.reason = extra.reason.replace(/%%/g, '%');
  return entry;
}

/**
 * The extra fields of one line as tokens and the spaces between them, so that an edit touches only
 * the tokens it changes. Dovecot splits on spaces only (a tab belongs to the token).
 */
class ExtraFields {
  private parts: string[];

  constructor(extra: string) {
    this.parts = extra.split(/( +)/);
  }

  tokens(): string[] {
    return this.parts.filter((_, i) => i % 2 === 0 && this.parts[i] !== '');
  }

  has(key: string): boolean {
    return this.indexes(key).length > 0;
  }

  /** Replaces the first `key` field in place and drops any repeats; appends when there is none. */
  set(key: string, token: string): void {
    const [first, ...rest] = this.indexes(key);
    if (first === undefined) return this.append(token);
    this.parts[first] = token;
    for (const index of rest.reverse()) this.removeAt(index);
  }

  removeAll(key: string): void {
    for (const index of this.indexes(key).reverse()) this.removeAt(index);
  }

  append(token: string): void {
    const current = this.parts.join('');
    if (current.trim() === '') this.parts = [token];
    else this.parts.push(current.endsWith(' ') ? '' : ' ', token);
  }

  toString(): string {
    const text = this.parts.join('');
    return text.trim() === '' ? '' : text;
  }

  private indexes(key: string): number[] {
    const out: number[] = [];
    this.parts.forEach((part, i) => {
      if (i % 2 === 0 && part !== '' && (part === key || part.startsWith(`${key}=`))) out.push(i);
    });
    return out;
  }

  /** Removes a token with the separator after it (or before it, for the last token). */
  private removeAt(index: number): void {
    if (index + 1 < this.parts.length) this.parts.splice(index, 2);
    else if (index > 0) this.parts.splice(index - 1, 2);
    else this.parts.splice(index, 1);
  }
}

/** `reason=...` for the file, or undefined when nothing printable is left. */
function encodeReason(reason: string): string | undefined {
  const cleaned = reason
    .trim()
    // Dovecot splits extra fields on spaces, and a line break would end the entry.
    .replace(/\s/gu, '_')
    .replace(/\p{Cc}/gu, '');
  if (cleaned === '') return undefined;
  // passwd-file extra fields are %-expanded: "100%_off" fails the whole login with
  // "[UNAVAILABLE] Temporary authentication failure", and "%u" would print the user name.
  return `reason=${toLatin1(cleaned.replace(/%/g, '%%'))}`;
}

/** Dovecot compares user names after ASCII-only lower-casing (%Lu), so this does the same. */
function matchKey(user: string): string {
  return toLatin1(user.trim()).replace(/[A-Z]/g, (c) => c.toLowerCase());
}

const toLatin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
const fromLatin1 = (text: string) => Buffer.from(text, 'latin1').toString('utf8');

// ---------------------------------------------------------------------------------------------
// Safe replacement

async function readText(file: string): Promise<string> {
  try {
    return (await readFile(file)).toString('latin1');
  } catch (cause) {
    throw unavailable(`could not read passwd-file ${file}`, cause);
  }
}

/**
 * Runs `edit` on the current lines while holding the file's lock, and writes its result when it
 * returns lines. Resolves true when the file was rewritten.
 */
async function updateFile(file: string, edit: (lines: Line[]) => Line[] | undefined): Promise<boolean> {
  // Through a symlink to the real file, so the rename replaces the file and keeps the link.
  const resolved = await realpath(file).catch((cause: unknown) => {
    throw unavailable(`could not read passwd-file ${file}`, cause);
  });
  return serialized(resolved, () =>
    withLock(resolved, async () => {
      let before: Stats;
      try {
        before = await stat(resolved);
      } catch (cause) {
        throw unavailable(`could not read passwd-file ${file}`, cause);
      }
      const lines = edit(splitLines(await readText(resolved)));
      if (!lines) return false;
      await replaceFile(resolved, Buffer.from(joinLines(lines), 'latin1'), before);
      return true;
    }),
  );
}

async function replaceFile(file: string, content: Buffer, before: Stats): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const mode = before.mode & 0o7777;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(content);
      await handle.chmod(mode); // the umask may have narrowed the mode given to open
      await keepOwner(handle, before, file);
      // Dovecot re-reads a passwd-file only when its mtime (whole seconds) or size differs from
      // what it last loaded, so two edits within a second that keep the size (disable one user,
      // enable another) would be missed for good. Every write moves the mtime forward a second.
      const previous = Math.floor(before.mtimeMs / 1000);
      const mtime = Math.max(Math.floor(Date.now() / 1000), previous + 1);
      await handle.utimes(Date.now() / 1000, mtime);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    if (isPostmasterError(cause)) throw cause;
    throw unavailable(`could not write passwd-file ${file}`, cause);
  }
  await syncDirectory(path.dirname(file));
}

async function keepOwner(handle: FileHandle, before: Stats, file: string): Promise<void> {
  const current = await handle.stat();
  if (current.uid === before.uid && current.gid === before.gid) return;
  const root = process.getuid?.() === 0;
  try {
    // Without root only the group can be kept (and only a group we are in); the owner becomes us.
    await handle.chown(root ? before.uid : current.uid, before.gid);
  } catch (cause) {
    // A users file Dovecot cannot read fails every login with "Temporary authentication failure".
    throw new PostmasterError('Unavailable', `could not give the new passwd-file ${file} its group (gid ${before.gid})`, {
      hint: 'run Postmaster as root, or as a member of the group that owns the file',
      cause,
    });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems cannot fsync a directory; the rename itself has already happened.
  }
}

// ---------------------------------------------------------------------------------------------
// Locking: a promise chain within this process, a lock file between processes.

const queues = new Map<string, Promise<unknown>>();

async function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(task, task);
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

async function withLock<T>(file: string, task: () => Promise<T>): Promise<T> {
  const lockPath = `${file}.lock`;
  const token = `${process.pid} ${os.hostname()} ${Date.now()} ${randomBytes(4).toString('hex')}\n`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let delay = 2;
  for (;;) {
    try {
      await writeFile(lockPath, token, { flag: 'wx', mode: 0o600 });
      break;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw unavailable(`could not create lock file ${lockPath}`, cause);
    }
    if (await breakIfStale(lockPath)) continue;
    if (Date.now() > deadline) {
      throw new PostmasterError('Unavailable', `passwd-file ${file} stayed locked by another writer for ${LOCK_WAIT_MS / 1000} s`, {
        hint: `if no other Postmaster is running, delete ${lockPath}`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await task();
  } finally {
    // Only our own lock: if ours was judged stale and broken, the file now belongs to someone else.
    const current = await readFile(lockPath, 'utf8').catch(() => undefined);
    if (current === token) await unlink(lockPath).catch(() => undefined);
  }
}

/** Removes the lock when its writer is gone; true when the caller should try again at once. */
async function breakIfStale(lockPath: string): Promise<boolean> {
  let content: string;
  let age: number;
  try {
    content = await readFile(lockPath, 'utf8');
    age = Date.now() - (await stat(lockPath)).mtimeMs;
  } catch {
    return true; // released meanwhile
  }
  const [pid, host] = content.split(' ');
  const ownerDead = host === os.hostname() && Number(pid) > 0 && !processAlive(Number(pid));
  if (!ownerDead && age < STALE_LOCK_MS) return false;
  // Move it aside rather than unlink it, then check we moved the lock we judged: two writers can
  // both find the same stale lock, and the slower one must not remove the faster one's new lock.
  const aside = `${lockPath}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch {
    return true;
  }
  const moved = await readFile(aside, 'utf8').catch(() => content);
  if (moved !== content) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return true;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function notFoundIn(file: string, address: string): PostmasterError {
  return new PostmasterError('NotFound', `no account ${address} in ${file}`);
}

function unavailable(message: string, cause: unknown): PostmasterError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new PostmasterError('Unavailable', code ? `${message} (${code})` : message, { cause });
}
