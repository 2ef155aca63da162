/**
 * Sieve tokens (RFC 5228 §8.1). Only ever throws SieveSyntaxError: callers read scripts written by
 * people and turn any failure into an "unreadable script" finding.
 */
import { PostmasterError } from '../../../core/errors.js';

export class SieveSyntaxError extends PostmasterError {
  readonly line: number;
  /** What is wrong, without the position. */
  readonly detail: string;
  /** The script the error is in, when it was reached through include. */
  readonly script: string | undefined;

  constructor(detail: string, line: number, script?: string) {
    super('BadInput', `${script ? `Sieve script "${script}", ` : 'Sieve '}line ${line}: ${detail}`);
    this.name = 'SieveSyntaxError';
    this.line = line;
    this.detail = detail;
    this.script = script;
  }
}

export type Token =
  | { type: 'identifier'; value: string; line: number }
  | { type: 'tag'; value: string; line: number }
  | { type: 'number'; value: number; raw: string; line: number }
  | { type: 'string'; value: string; multiline: boolean; line: number }
  | { type: 'punct'; value: ';' | ',' | '(' | ')' | '{' | '}' | '[' | ']'; line: number }
  | { type: 'eof'; line: number };

// §2.4.1: a number may carry a quantifier; ABNF literals are case-insensitive, so "100k" counts.
const QUANTIFIERS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const PUNCT = new Set([';', ',', '(', ')', '{', '}', '[', ']']);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // Editors on Windows may save a byte-order mark; it is not part of the script.
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  let line = 1;
  const fail = (message: string, at = line): never => {
    throw new SieveSyntaxError(message, at);
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      // §2.3: bracketed comments do not nest and may span lines.
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated /* comment');
      line += countLines(text, i, end);
      i = end + 2;
    } else if (c === '"') {
      const start = line;
      let value = '';
      for (i++; ; i++) {
        if (i >= text.length) fail('unterminated quoted string', start);
        const ch = text[i]!;
        if (ch === '"') break;
        if (ch === '\n') line++;
        // §2.4.2: "\" escapes the next character; only \\ and \" are meant, but any other
        // escaped character stands for itself.
        if (ch === '\\') {
          if (++i >= text.length) fail('unterminated quoted string', start);
          if (text[i] === '\n') line++;
          value += text[i];
        } else {
          value += ch;
        }
      }
      i++;
      tokens.push({ type: 'string', value: normalizeNewlines(value), multiline: false, line: start });
    } else if (/[0-9]/.test(c)) {
      const match = /^([0-9]+)([kKmMgG]?)/.exec(text.slice(i, i + 40))!;
      const after = text[i + match[0].length];
      if (after !== undefined && /[A-Za-z0-9_]/.test(after)) fail(`malformed number "${match[0]}${after}"`);
      const value = Number(match[1]) * (match[2] ? QUANTIFIERS[match[2].toLowerCase()]! : 1);
      if (!Number.isSafeInteger(value)) fail(`number "${match[0]}" is too large`);
      tokens.push({ type: 'number', value, raw: match[0], line });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 256))![0];
      if (word.toLowerCase() === 'text' && text[i + word.length] === ':') {
        const start = line;
        const read = readMultiline(text, i + word.length + 1, start);
        tokens.push({ type: 'string', value: read.value, multiline: true, line: start });
        line += read.lines;
        i = read.next;
      } else {
        tokens.push({ type: 'identifier', value: word, line });
        i += word.length;
      }
    } else if (c === ':') {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1, i + 257))?.[0];
      if (!word) fail('":" must be followed by a tag name');
      tokens.push({ type: 'tag', value: word!, line });
      i += 1 + word!.length;
    } else if (PUNCT.has(c)) {
      tokens.push({ type: 'punct', value: c as ';', line });
      i++;
    } else {
      fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ type: 'eof', line });
  return tokens;
}

/**
 * §2.4.2 multi-line: "text:" [spaces] [# comment] line break, then lines up to a line holding only
 * ".". A line starting with "." has that dot removed (dot-stuffing, as in SMTP). Line breaks in the
 * value are normalized to "\n".
 */
function readMultiline(text: string, from: number, startLine: number): { value: string; next: number; lines: number } {
  let i = from;
  while (text[i] === ' ' || text[i] === '\t') i++;
  if (text[i] === '#') while (i < text.length && text[i] !== '\n') i++;
  if (text[i] === '\r') i++;
  if (text[i] !== '\n') throw new SieveSyntaxError('"text:" must be followed by a line break', startLine);
  i++;
  let lines = 1;
  const body: string[] = [];
  for (;;) {
    if (i >= text.length) throw new SieveSyntaxError('unterminated text: string (no line with a lone ".")', startLine);
    const end = text.indexOf('\n', i);
    const raw = text.slice(i, end < 0 ? text.length : end).replace(/\r$/, '');
    i = end < 0 ? text.length : end + 1;
    if (end >= 0) lines++;
    if (raw === '.') {
      if (end < 0) throw new SieveSyntaxError('the "." ending a text: string must end its line', startLine);
      break;
    }
    body.push(raw.startsWith('.') ? raw.slice(1) : raw);
  }
  return { value: body.map((l) => `${l}\n`).join(''), next: i, lines };
}

function countLines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (text[i] === '\n') count++;
  return count;
}

function normalizeNewlines(value: string): string {
  return value.replace(/\r\n/g, '\n');
}
