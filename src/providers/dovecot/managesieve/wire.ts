/**
 * The ManageSieve wire format (RFC 5804 §4): lines of atoms, quoted strings and literals, ending in
 * a status line `OK|NO|BYE [(code ...)] [string]`. Works on bytes, because a literal's {N} counts
 * octets, not characters.
 */
import { ManageSieveError } from './errors.js';

export type Token =
  | { type: 'atom'; value: string }
  | { type: 'string'; value: string }
  | { type: 'open' }
  | { type: 'close' };

export interface ManageSieveResponse {
  status: 'OK' | 'NO' | 'BYE';
  /** Upper-cased response code, e.g. 'NONEXISTENT', 'QUOTA/MAXSIZE', 'WARNINGS'. */
  code?: string;
  /** Arguments after the code: the URL of REFERRAL, the string of TAG or SASL. */
  codeArgs: string[];
  text?: string;
  /** The data lines that came before the status line. */
  lines: Token[][];
}

/** A server that announces a bigger literal is broken or hostile; scripts are far smaller. */
const MAX_LITERAL = 64 * 1024 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const ATOM_END = new Set([SP, TAB, CR, LF, 0x28, 0x29, DQUOTE, 0x7b]);

const protocolError = (message: string) =>
  new ManageSieveError('ProtocolError', `ManageSieve server sent an unreadable response: ${message}`);

/**
 * Parses the line that starts at `offset`. Returns undefined when the buffer ends before the line
 * (or a literal inside it) does, so the caller can wait for more bytes and try again.
 */
export function parseLine(buf: Buffer, offset: number): { tokens: Token[]; next: number } | undefined {
  const tokens: Token[] = [];
  let i = offset;
  for (;;) {
    while (i < buf.length && (buf[i] === SP || buf[i] === TAB)) i++;
    if (i >= buf.length) return undefined;
    const byte = buf[i]!;
    if (byte === LF) return { tokens, next: i + 1 };
    if (byte === CR) {
      if (i + 1 >= buf.length) return undefined;
      if (buf[i + 1] !== LF) throw protocolError('bare CR');
      return { tokens, next: i + 2 };
    }
    if (byte === 0x28 || byte === 0x29) {
      tokens.push({ type: byte === 0x28 ? 'open' : 'close' });
      i++;
    } else if (byte === DQUOTE) {
      const quoted = readQuoted(buf, i + 1);
      if (!quoted) return undefined;
      tokens.push({ type: 'string', value: quoted.value });
      i = quoted.next;
    } else if (byte === 0x7b) {
      const literal = readLiteral(buf, i);
      if (!literal) return undefined;
      tokens.push({ type: 'string', value: literal.value });
      i = literal.next;
    } else {
      let end = i;
      while (end < buf.length && !ATOM_END.has(buf[end]!)) end++;
      if (end >= buf.length) return undefined;
      tokens.push({ type: 'atom', value: buf.toString('utf8', i, end) });
      i = end;
    }
  }
}

// RFC 5804 §4: quoted = DQUOTE *QUOTED-CHAR DQUOTE, where only \" and \\ are escapes and CR/LF
// may not appear (anything longer or multi-line must be sent as a literal).
function readQuoted(buf: Buffer, start: number): { value: string; next: number } | undefined {
  const bytes: number[] = [];
  for (let i = start; i < buf.length; i++) {
    const byte = buf[i]!;
    if (byte === DQUOTE) return { value: Buffer.from(bytes).toString('utf8'), next: i + 1 };
    if (byte === CR || byte === LF) throw protocolError('line break inside a quoted string');
    if (byte === BACKSLASH) {
      if (++i >= buf.length) return undefined;
      bytes.push(buf[i]!);
    } else {
      bytes.push(byte);
    }
  }
  return undefined;
}

// literal-s2c = "{" number "}" CRLF *OCTET; the client-to-server form may carry "+" (non-sync).
function readLiteral(buf: Buffer, start: number): { value: string; next: number } | undefined {
  const close = buf.indexOf(0x7d, start);
  if (close < 0) return buf.length - start > 24 ? failLiteral() : undefined;
  const match = /^\{(\d{1,10})\+?\}$/.exec(buf.toString('latin1', start, close + 1));
  if (!match) return failLiteral();
  const size = Number(match[1]);
  if (size > MAX_LITERAL) throw protocolError(`literal of ${size} bytes`);
  let body = close + 1;
  if (body >= buf.length) return undefined;
  if (buf[body] === CR) body++;
  if (body >= buf.length) return undefined;
  if (buf[body] !== LF) return failLiteral();
  body++;
  if (buf.length < body + size) return undefined;
  return { value: buf.toString('utf8', body, body + size), next: body + size };
}

function failLiteral(): never {
  throw protocolError('malformed literal header');
}

const STATUSES = new Set(['OK', 'NO', 'BYE']);

/** The status word of a line, when it is a status line. Data lines start with a string instead. */
export function statusOf(tokens: Token[]): ManageSieveResponse['status'] | undefined {
  const first = tokens[0];
  if (first?.type !== 'atom') return undefined;
  const word = first.value.toUpperCase();
  return STATUSES.has(word) ? (word as ManageSieveResponse['status']) : undefined;
}

/** Builds a response from its status line (response-oknobye in RFC 5804 §4) and the data lines before it. */
export function toResponse(statusLine: Token[], lines: Token[][]): ManageSieveResponse {
  const status = statusOf(statusLine);
  if (!status) throw protocolError('expected OK, NO or BYE');
  const response: ManageSieveResponse = { status, codeArgs: [], lines };
  let i = 1;
  if (statusLine[i]?.type === 'open') {
    const code = statusLine[i + 1];
    if (code?.type !== 'atom') throw protocolError('response code without a name');
    response.code = code.value.toUpperCase();
    for (i += 2; i < statusLine.length && statusLine[i]!.type !== 'close'; i++) {
      const arg = statusLine[i]!;
      if (arg.type === 'atom' || arg.type === 'string') response.codeArgs.push(arg.value);
    }
    if (statusLine[i]?.type !== 'close') throw protocolError('unterminated response code');
    i++;
  }
  const text = statusLine[i];
  if (text?.type === 'string') response.text = text.value;
  return response;
}

/** The string values of a data line, skipping atoms (ACTIVE in LISTSCRIPTS is an atom). */
export function stringsOf(line: Token[]): string[] {
  return line.flatMap((token) => (token.type === 'string' ? [token.value] : []));
}

/**
 * Encodes a string argument. RFC 5804 §4 limits quoted strings to 1024 octets without CR/LF, so
 * anything else goes as a non-synchronizing literal {N+}, where N is the UTF-8 byte length.
 */
export function encodeString(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= 1024 && !/[\r\n\0]/.test(value)) {
    return Buffer.from(`"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`, 'utf8');
  }
  return encodeLiteral(value);
}

export function encodeLiteral(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.from(`{${bytes.length}+}\r\n`, 'latin1'), bytes]);
}

/** Joins a command word and encoded arguments into one command line, ending in CRLF. */
export function encodeCommand(verb: string, ...args: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(verb, 'latin1')];
  for (const arg of args) parts.push(Buffer.from(' '), arg);
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}
