import { describe, expect, it } from 'vitest';
import { ManageSieveError } from '../../src/providers/dovecot/managesieve/errors.js';
import {
  encodeCommand,
  encodeLiteral,
  encodeString,
  parseLine,
  statusOf,
  toResponse,
  type ManageSieveResponse,
  type Token,
} from '../../src/providers/dovecot/managesieve/wire.js';

/** Parses a whole byte stream into responses, the way Connection does. */
function responses(bytes: Buffer): ManageSieveResponse[] {
  const out: ManageSieveResponse[] = [];
  let lines: Token[][] = [];
  let offset = 0;
  for (let line = parseLine(bytes, offset); line; line = parseLine(bytes, offset)) {
    offset = line.next;
    if (statusOf(line.tokens)) {
      out.push(toResponse(line.tokens, lines));
      lines = [];
    } else {
      lines.push(line.tokens);
    }
  }
  expect(offset).toBe(bytes.length);
  return out;
}

const one = (text: string) => responses(Buffer.from(text, 'utf8'))[0]!;

describe('ManageSieve wire format (RFC 5804 §4)', () => {
  it('reads the Dovecot greeting', () => {
    const greeting = one('"IMPLEMENTATION" "Dovecot (Debian) Pigeonhole"\r\n"SIEVE" "fileinto vacation"\r\n"STARTTLS"\r\nOK "Dovecot (Debian) ready."\r\n');
    expect(greeting.status).toBe('OK');
    expect(greeting.text).toBe('Dovecot (Debian) ready.');
    expect(greeting.lines).toEqual([
      [{ type: 'string', value: 'IMPLEMENTATION' }, { type: 'string', value: 'Dovecot (Debian) Pigeonhole' }],
      [{ type: 'string', value: 'SIEVE' }, { type: 'string', value: 'fileinto vacation' }],
      [{ type: 'string', value: 'STARTTLS' }],
    ]);
  });

  it('reads response codes with and without arguments', () => {
    expect(one('NO (NONEXISTENT) "Sieve script `nope\' not found"\r\n')).toMatchObject({ status: 'NO', code: 'NONEXISTENT', text: "Sieve script `nope' not found" });
    expect(one('no (quota/maxsize) "too big"\r\n')).toMatchObject({ status: 'NO', code: 'QUOTA/MAXSIZE' });
    expect(one('OK (TAG "abc \\"x\\"") "done"\r\n')).toMatchObject({ code: 'TAG', codeArgs: ['abc "x"'], text: 'done' });
    expect(one('BYE (REFERRAL sieve://other.example:4190) "go there"\r\n')).toMatchObject({ status: 'BYE', code: 'REFERRAL', codeArgs: ['sieve://other.example:4190'] });
    expect(one('OK\r\n')).toEqual({ status: 'OK', codeArgs: [], lines: [] });
  });

  it('reads literals by byte count, including multi-byte UTF-8 and a literal as the status text', () => {
    const script = 'vacation "订单 été";\r\n';
    const bytes = Buffer.byteLength(script);
    expect(bytes).toBeGreaterThan(script.length);
    const get = one(`{${bytes}}\r\n${script}\r\nOK "Getscript completed."\r\n`);
    expect(get.lines).toEqual([[{ type: 'string', value: script }]]);
    const warning = 'line 2: warning: x.\r\n';
    const warned = one(`OK (WARNINGS) {${warning.length}}\r\n${warning}\r\n`);
    expect(warned).toMatchObject({ code: 'WARNINGS', text: 'line 2: warning: x.\r\n' });
  });

  it('reads LISTSCRIPTS lines with the ACTIVE atom and literal names', () => {
    const list = one('"a b"\r\n"we\\"ird \\\\ 订" ACTIVE\r\n{5}\r\nx\r\nyz\r\nOK "Listscripts completed."\r\n');
    expect(list.lines).toEqual([
      [{ type: 'string', value: 'a b' }],
      [{ type: 'string', value: 'we"ird \\ 订' }, { type: 'atom', value: 'ACTIVE' }],
      [{ type: 'string', value: 'x\r\nyz' }],
    ]);
  });

  it('asks for more bytes at every split point instead of misreading', () => {
    const text = Buffer.from('"SIEVE" "fileinto"\r\n{7}\r\n订单!\r\nNO (QUOTA) {4}\r\nfull\r\n', 'utf8');
    for (let cut = 0; cut < text.length; cut++) {
      const partial = text.subarray(0, cut);
      let offset = 0;
      let statuses = 0;
      for (let line = parseLine(partial, offset); line; line = parseLine(partial, offset)) {
        offset = line.next;
        if (statusOf(line.tokens)) statuses++;
      }
      expect(statuses, `cut at ${cut}`).toBe(0);
    }
    expect(responses(text)).toHaveLength(1);
  });

  it('accepts bare LF line ends from lenient servers', () => {
    expect(one('"VERSION" "1.0"\nOK "ready"\n')).toMatchObject({ text: 'ready', lines: [[{ type: 'string', value: 'VERSION' }, { type: 'string', value: '1.0' }]] });
  });

  it.each(['"broken\rx"\r\n', '{abc}\r\nOK\r\n', '{3}x\r\nabc\r\n', 'OK (\r\n', 'OK ("x")\r\n'])('calls %j a protocol error', (text) => {
    const parse = () => responses(Buffer.from(text));
    expect(parse).toThrow(ManageSieveError);
    try {
      parse();
    } catch (error) {
      expect((error as ManageSieveError).kind).toBe('ProtocolError');
    }
  });

  it('refuses a literal too large to be a script', () => {
    expect(() => parseLine(Buffer.from('{9999999999}\r\n'), 0)).toThrow(/literal/);
  });

  it('encodes short strings quoted and anything else as a literal with its UTF-8 byte length', () => {
    expect(encodeString('we"ird \\ name').toString()).toBe('"we\\"ird \\\\ name"');
    expect(encodeString('two\nlines').toString()).toBe('{9+}\r\ntwo\nlines');
    expect(encodeString('x'.repeat(1025)).toString()).toMatch(/^\{1025\+\}\r\n/);
    expect(encodeLiteral('订单').toString('utf8')).toBe('{6+}\r\n订单');
    expect(encodeCommand('PUTSCRIPT', encodeString('a'), encodeLiteral('keep;')).toString()).toBe('PUTSCRIPT "a" {5+}\r\nkeep;\r\n');
  });
});
