/**
 * mboxrd, as Postmaster writes and reads it.
 *
 * Layout of one message in a file:
 *
 *     From <sender> <asctime INTERNALDATE, UTC>\r\n
 *     <the server's raw RFC 5322 bytes, with every line matching /^>*From / given one more '>'>
 *     \r\n
 *
 * Line endings: the message bytes are kept exactly as IMAP delivered them (CRLF, RFC 3501 section
 * 4.3), and our own separator and trailer lines use CRLF to match. Converting to LF would be lossy:
 * a message that carries a bare LF (malformed but real) could not be told apart from a CRLF line
 * after conversion, so the backup would no longer be the server's bytes. Keeping the bytes also
 * costs nothing per line. Readers that split on LF (Python's mailbox, mutt, Thunderbird, Google
 * Takeout's own CRLF mbox files) still find "From " at the start of a line.
 *
 * Unambiguous split: a separator is "From " at the start of the file or right after LF. Every
 * message line that could look like one ("From " after any run of '>') is quoted, so no message
 * byte sequence can produce LF + "From ". The writer always appends exactly one CRLF after the
 * message, whether or not the message ends with a line break, and the reader removes exactly that
 * CRLF, so a message is recovered byte for byte (after removing one '>' from quoted lines).
 */
import { createHash } from 'node:crypto';

const LF = 0x0a;
const GT = 0x3e;
const FROM_ = Buffer.from('From ', 'latin1');
const LF_FROM_ = Buffer.from('\nFrom ', 'latin1');
export const MESSAGE_TRAILER = Buffer.from('\r\n', 'latin1');
const RETURN_PATH = 'Return-Path:';
const LF_RETURN_PATH = Buffer.from('\nReturn-Path:', 'latin1');

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** C asctime(3) in UTC: "Wed Jun  3 21:49:08 1993" (day of month space-padded to width 2). */
export function asctime(date: Date): string {
  const day = date.getUTCDate();
  return (
    `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${day < 10 ? ` ${day}` : day} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} ${date.getUTCFullYear()}`
  );
}

/**
 * The envelope sender for the separator line. IMAP does not expose the SMTP envelope, but the
 * delivering server records it in Return-Path (RFC 5321 section 4.4); without one the traditional
 * placeholder is used. A sender with whitespace would break the "From sender date" field split.
 */
export function envelopeSender(source: Buffer): string {
  let line = -1;
  // Delivery prepends Return-Path, so it is nearly always the first line; the fallback search is
  // memmem-fast but case-sensitive (the spelling RFC 5322 uses), which avoids decoding the header
  // to a string for every message.
  if (source.length >= RETURN_PATH.length && source.toString('latin1', 0, RETURN_PATH.length).toLowerCase() === 'return-path:') {
    line = 0;
  } else {
    let headerEnd = source.indexOf('\r\n\r\n', 0, 'latin1');
    if (headerEnd < 0) headerEnd = source.length;
    const at = source.indexOf(LF_RETURN_PATH);
    if (at >= 0 && at < headerEnd) line = at + 1;
  }
  if (line < 0) return 'MAILER-DAEMON';
  let end = source.indexOf(LF, line);
  if (end < 0 || end - line > 1024) end = Math.min(source.length, line + 1024);
  const match = /^return-path:[ \t]*<([^<>\s]*)>/i.exec(source.toString('latin1', line, end));
  const sender = match?.[1];
  // A sender with whitespace or 8-bit bytes would break the "From sender date" field split.
  return sender && /^[\x21-\x7e]+$/.test(sender) ? sender : 'MAILER-DAEMON';
}

/** The separator line including its CRLF; ASCII only, so its length is its byte length. */
export function separatorText(sender: string, date: Date): string {
  const when = Number.isNaN(date.getTime()) ? new Date(0) : date;
  return `From ${sender} ${asctime(when)}\r\n`;
}

export function separatorLine(sender: string, date: Date): Buffer {
  return Buffer.from(separatorText(sender, date), 'latin1');
}

/**
 * Positions in `source` where a '>' must be inserted: before each "From " that starts a line
 * after any run of '>'. Inserting the extra '>' right before "From" gives the same bytes as
 * prefixing the line. Returns an empty array for the common case of no such line.
 */
export function quotePositions(source: Buffer): number[] {
  const positions: number[] = [];
  // "From " is rare in raw mail (headers use "From:"), so memmem-backed indexOf skips most bytes.
  let at = source.indexOf(FROM_);
  while (at !== -1) {
    let start = at;
    while (start > 0 && source[start - 1] === GT) start--;
    if (start === 0 || source[start - 1] === LF) positions.push(at);
    at = source.indexOf(FROM_, at + 1);
  }
  return positions;
}

/** The quoted form of one message (without separator or trailer), for tests and small tools. */
export function quoteMessage(source: Buffer): Buffer {
  const positions = quotePositions(source);
  if (positions.length === 0) return source;
  const parts: Buffer[] = [];
  let from = 0;
  for (const at of positions) {
    parts.push(source.subarray(from, at), Buffer.from('>'));
    from = at;
  }
  parts.push(source.subarray(from));
  return Buffer.concat(parts);
}

/** Reverses quoteMessage: removes one '>' from every line matching /^>+From /. */
export function unquoteMessage(quoted: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  let at = quoted.indexOf(FROM_);
  while (at !== -1) {
    let start = at;
    while (start > 0 && quoted[start - 1] === GT) start--;
    if (start < at && (start === 0 || quoted[start - 1] === LF)) {
      parts.push(quoted.subarray(from, at - 1));
      from = at;
    }
    at = quoted.indexOf(FROM_, at + 1);
  }
  if (from === 0) return quoted;
  parts.push(quoted.subarray(from));
  return Buffer.concat(parts);
}

/** The complete mbox record for one message: separator, quoted bytes, trailer. */
export function mboxRecord(source: Buffer, date: Date, sender = envelopeSender(source)): Buffer {
  return Buffer.concat([separatorLine(sender, date), quoteMessage(source), MESSAGE_TRAILER]);
}

export interface MboxMessage {
  /** The separator line without its line break, e.g. "From bob@x.test Mon Jan  1 00:00:00 2024". */
  separator: string;
  /** The message bytes exactly as the server sent them. */
  source: Buffer;
}

/**
 * Splits a whole mbox file held in memory. For tests and small restores; the exporter's own
 * verification never materialises a file (it counts separators as it reads, see file-worker.ts).
 */
export function splitMbox(file: Buffer): MboxMessage[] {
  if (file.length === 0) return [];
  if (!file.subarray(0, FROM_.length).equals(FROM_)) throw new Error('not an mbox file: it does not start with "From "');
  const starts: number[] = [0];
  let at = file.indexOf(LF_FROM_);
  while (at !== -1) {
    starts.push(at + 1);
    at = file.indexOf(LF_FROM_, at + 1);
  }
  const messages: MboxMessage[] = [];
  starts.forEach((start, i) => {
    const end = i + 1 < starts.length ? starts[i + 1]! : file.length;
    const lineEnd = file.indexOf(LF, start);
    if (lineEnd < 0 || lineEnd >= end) throw new Error(`mbox message ${i + 1} has no line after its separator`);
    const separator = file.toString('latin1', start, lineEnd).replace(/\r$/, '');
    let bodyEnd = end;
    // The trailer this writer adds; a file from another LF-only writer has just LF.
    if (file[bodyEnd - 1] === LF) bodyEnd -= file[bodyEnd - 2] === 0x0d ? 2 : 1;
    messages.push({ separator, source: unquoteMessage(file.subarray(lineEnd + 1, Math.max(lineEnd + 1, bodyEnd))) });
  });
  return messages;
}

/**
 * A file name for a folder: safe on every common filesystem and unique per folder.
 * Everything except ASCII letters, digits, '-' and '_' becomes %XX of its UTF-8 bytes, so '/',
 * '..', spaces, control characters and unicode cannot escape the directory or collide, and the
 * name decodes back with decodeURIComponent. '.' is encoded too, so no name is hidden or '..',
 * and the temp names (which start with '.') can never clash with a final one.
 */
export function encodeFolderName(folder: string): string {
  // An empty name would give the hidden file ".mbox"; the encoding below never yields '~'.
  if (folder === '') return '~';
  let out = '';
  for (const byte of Buffer.from(folder, 'utf8')) {
    const isSafe =
      (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x2d || byte === 0x5f;
    out += isSafe ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Most filesystems cap a name at 255 bytes; leave room for the temp prefix and suffix. */
const MAX_ENCODED = 180;

/**
 * Assigns a file name to each folder, in order. Long names are cut and suffixed with a hash of the
 * full name. A name that equals an earlier one ignoring letter case gets a "~N" suffix (the
 * encoding itself never yields '~' after a character), because macOS and Windows filesystems
 * would fold the two into one file.
 */
export function mboxFileNames(folders: readonly string[]): string[] {
  const seen = new Set<string>();
  return folders.map((folder) => {
    let base = encodeFolderName(folder);
    if (base.length > MAX_ENCODED) {
      const digest = createHash('sha256').update(folder, 'utf8').digest('hex').slice(0, 16);
      // Never cut inside a %XX escape.
      let cut = MAX_ENCODED - 17;
      const escape = base.lastIndexOf('%', cut);
      if (escape > cut - 3) cut = escape;
      base = `${base.slice(0, cut)}~${digest}`;
    }
    let name = `${base}.mbox`;
    for (let n = 2; seen.has(name.toLowerCase()); n++) name = `${base}~${n}.mbox`;
    seen.add(name.toLowerCase());
    return name;
  });
}
