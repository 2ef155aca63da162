import { describe, expect, it } from 'vitest';
import { FetchResponseReader, ImapProtocolError, type FetchStep } from '../../src/providers/shared/fetch-response-reader.js';

const TAG = 'PMX1';

/** Every step the reader produces for `data` fed in the given chunk sizes (cycled), bodies copied. */
function readAll(data: Buffer, sizes: number[] = [data.length], reuse = false): FetchStep[] {
  const reader = new FetchResponseReader(TAG);
  const steps: FetchStep[] = [];
  const scratch = Buffer.alloc(Math.max(...sizes));
  let at = 0;
  for (let n = 0; at < data.length; n++) {
    const size = Math.min(sizes[n % sizes.length]!, data.length - at);
    // A caller like the direct connection reads every chunk into one reused buffer.
    const chunk = reuse ? scratch.subarray(0, size) : Buffer.from(data.subarray(at, at + size));
    if (reuse) data.copy(chunk, 0, at, at + size);
    at += size;
    let offset = 0;
    for (;;) {
      const step = reader.read(chunk, offset);
      offset = reader.offset;
      if (!step) break;
      steps.push(step.kind === 'message' ? { ...step, body: Buffer.from(step.body) } : step);
    }
    if (reuse) {
      reader.releaseChunk(chunk);
      chunk.fill(0x58);
    }
  }
  return steps;
}

const bodies = [
  Buffer.from('Return-Path: <a@x.test>\r\nSubject: one\r\n\r\nFrom the start\r\n>From quoted\r\n', 'latin1'),
  Buffer.from('Subject: two {12}\r\n\r\n) ( " \\ * 3 EXISTS\r\nPMX1 OK fake\r\n', 'latin1'),
  Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x7b, 0x35, 0x7d, 0x0d, 0x0a]),
];

function dovecotStream(): Buffer {
  const parts: Buffer[] = [];
  bodies.forEach((body, i) => {
    parts.push(Buffer.from(`* ${i + 1} FETCH (UID ${10 + i} INTERNALDATE "0${i + 1}-Jan-2024 10:00:00 +0000" BODY[] {${body.length}}\r\n`, 'latin1'));
    parts.push(body, Buffer.from(')\r\n'));
  });
  parts.push(Buffer.from(`${TAG} OK Fetch completed (0.001 + 0.000 secs).\r\n`));
  return Buffer.concat(parts);
}

const messages = (steps: FetchStep[]) => steps.filter((s): s is Extract<FetchStep, { kind: 'message' }> => s.kind === 'message');

describe('FetchResponseReader', () => {
  it('reads messages, dates and the tagged completion', () => {
    const steps = readAll(dovecotStream());
    expect(messages(steps).map((m) => m.body)).toEqual(bodies);
    expect(messages(steps).map((m) => m.internalDate)).toEqual(['01-Jan-2024 10:00:00 +0000', '02-Jan-2024 10:00:00 +0000', '03-Jan-2024 10:00:00 +0000']);
    expect(steps.at(-1)).toEqual({ kind: 'tagged', status: 'OK', text: 'Fetch completed (0.001 + 0.000 secs).' });
    expect(steps).toHaveLength(4);
  });

  it('gives the same result however the bytes are split, also into one reused buffer', () => {
    const data = dovecotStream();
    const expected = readAll(data);
    for (const size of [1, 2, 3, 5, 7, 11, 64, 100]) {
      expect(readAll(data, [size]), `chunks of ${size}`).toEqual(expected);
      expect(readAll(data, [size], true), `reused chunks of ${size}`).toEqual(expected);
    }
    // Uneven chunks put the seams in ever different places: inside CRLF, markers, literals.
    expect(readAll(data, [13, 1, 40, 2, 97, 3])).toEqual(expected);
    expect(readAll(data, [13, 1, 40, 2, 97, 3], true)).toEqual(expected);
  });

  it('reads items in any order, with lists, literals inside lists and other items', () => {
    const body = Buffer.from('Subject: x\r\n\r\nbody\r\n');
    const data = Buffer.concat([
      Buffer.from(`* 7 FETCH (FLAGS (\\Seen $Label (nested)) BODY[] {${body.length}}\r\n`),
      body,
      Buffer.from(' RFC822.SIZE 20 ENVELOPE ("date" {3}\r\nabc NIL) INTERNALDATE " 5-Feb-2024 01:02:03 -0100" UID 7)\r\n'),
      Buffer.from(`${TAG} OK done\r\n`),
    ]);
    for (const size of [data.length, 1, 4]) {
      const steps = readAll(data, [size]);
      expect(steps[0]).toEqual({ kind: 'message', body, internalDate: ' 5-Feb-2024 01:02:03 -0100' });
      expect(steps[1]).toMatchObject({ kind: 'tagged', status: 'OK' });
    }
  });

  it('takes a quoted BODY[] byte for byte and skips BODY[] NIL and responses without BODY[]', () => {
    const data = Buffer.from(
      `* 1 FETCH (UID 1 BODY[] "a \\"quoted\\" \\\\ body\xe9")\r\n` +
        '* 2 FETCH (UID 2 INTERNALDATE "01-Jan-2024 00:00:00 +0000" BODY[] NIL)\r\n' +
        '* 3 FETCH (FLAGS (\\Seen))\r\n' +
        '* 4 FETCH (UID 4 BODY[] {0}\r\n)\r\n' +
        `${TAG} OK done\r\n`,
      'latin1',
    );
    const steps = readAll(data);
    expect(messages(steps).map((m) => m.body.toString('latin1'))).toEqual(['a "quoted" \\ body\xe9', '']);
    expect(messages(steps)[0]!.internalDate).toBeUndefined();
  });

  it('passes other untagged responses on, keeps BYE, and ignores other tags and literals it does not need', () => {
    const data = Buffer.from(
      '* 3 EXISTS\r\n' +
        '* OK [UIDNEXT 9] Predicted next UID\r\n' +
        '* 1 FETCH (UID 1 BODY[] {2}\r\nhi)\r\n' +
        '* 2 EXPUNGE\r\n' +
        '* LIST () "/" {3}\r\nabc\r\n' +
        'A12 OK not ours\r\n' +
        '+ go on\r\n' +
        '* BYE shutting down\r\n' +
        `${TAG} NO [SERVERBUG] failed\r\n`,
    );
    expect(readAll(data, [5])).toEqual([
      { kind: 'untagged', line: '* 3 EXISTS' },
      { kind: 'untagged', line: '* OK [UIDNEXT 9] Predicted next UID' },
      { kind: 'message', body: Buffer.from('hi'), internalDate: undefined },
      { kind: 'untagged', line: '* 2 EXPUNGE' },
      { kind: 'continuation', text: 'go on' },
      { kind: 'bye', text: 'shutting down' },
      { kind: 'tagged', status: 'NO', text: '[SERVERBUG] failed' },
    ]);
  });

  it('reads a large body split over many chunks', () => {
    const body = Buffer.alloc(300_000, 'x');
    const data = Buffer.concat([Buffer.from(`* 1 FETCH (UID 1 BODY[] {${body.length}}\r\n`), body, Buffer.from(`)\r\n${TAG} OK\r\n`)]);
    expect(messages(readAll(data, [4096], true))[0]!.body.equals(body)).toBe(true);
    expect(messages(readAll(data, [65_536, 1]))[0]!.body.equals(body)).toBe(true);
  });

  it('refuses FETCH responses it cannot read rather than guess which literal is the body', () => {
    const bad = [
      '* 1 FETCH (UID 1 BODY[] ATOM)\r\n',
      '* 1 FETCH (UID 1 BODY[] {2}\r\nhi) extra\r\n',
      '* 1 FETCH (UID 1 BODY[] {2}\r\nhi\r\n',
      '* 1 FETCH (UID 1 ("x") BODY[] NIL)\r\n',
      '* 1 FETCH UID 1\r\n',
      '* 1 FETCH (UID 1 INTERNALDATE "unterminated)\r\n',
      '* 1 FETCH ({2}\r\nhi NIL)\r\n',
      '* 1 FETCH (UID)\r\n',
    ];
    for (const text of bad) expect(() => readAll(Buffer.from(text)), text).toThrow(ImapProtocolError);
  });

  it('refuses a literal above the limit before reading it', () => {
    expect(() => readAll(Buffer.from('* 1 FETCH (UID 1 BODY[] {9999999999999}\r\n'))).toThrow(/limit/);
  });
});
