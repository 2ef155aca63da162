import { describe, expect, it } from 'vitest';
import {
  asctime,
  encodeFolderName,
  envelopeSender,
  mboxFileNames,
  mboxRecord,
  quoteMessage,
  quotePositions,
  splitMbox,
  unquoteMessage,
} from '../../src/providers/shared/mbox.js';

const b = (text: string) => Buffer.from(text, 'latin1');

describe('asctime', () => {
  it('formats like C asctime in UTC, day space-padded', () => {
    expect(asctime(new Date(Date.UTC(1993, 5, 3, 21, 49, 8)))).toBe('Thu Jun  3 21:49:08 1993');
    expect(asctime(new Date(Date.UTC(2024, 11, 25, 7, 5, 9)))).toBe('Wed Dec 25 07:05:09 2024');
  });
});

describe('envelopeSender', () => {
  it('reads Return-Path on the first line', () => {
    expect(envelopeSender(b('Return-Path: <bob@x.test>\r\nFrom: Bob <bob@x.test>\r\n\r\nhi\r\n'))).toBe('bob@x.test');
  });
  it('finds Return-Path further down the header', () => {
    expect(envelopeSender(b('Received: by x\r\nReturn-Path: <carol@y.test>\r\n\r\nbody\r\n'))).toBe('carol@y.test');
  });
  it('ignores a Return-Path in the body', () => {
    expect(envelopeSender(b('Subject: x\r\n\r\nReturn-Path: <evil@z.test>\r\n'))).toBe('MAILER-DAEMON');
  });
  it('uses MAILER-DAEMON for the null sender and for senders that would break the separator', () => {
    expect(envelopeSender(b('Return-Path: <>\r\n\r\n'))).toBe('MAILER-DAEMON');
    expect(envelopeSender(b('Return-Path: <a b@x.test>\r\n\r\n'))).toBe('MAILER-DAEMON');
    expect(envelopeSender(b('Subject: none\r\n\r\n'))).toBe('MAILER-DAEMON');
    expect(envelopeSender(Buffer.alloc(0))).toBe('MAILER-DAEMON');
  });
});

describe('mboxrd quoting', () => {
  it('quotes exactly the lines matching /^>*From /', () => {
    const source = b('From: header is fine\r\n\r\nFrom here\r\n>From there\r\n>>From deep\r\nFromage\r\n text From mid-line\r\n\rFrom after bare CR\r\n');
    const quoted = quoteMessage(source).toString('latin1');
    expect(quoted).toBe(
      'From: header is fine\r\n\r\n>From here\r\n>>From there\r\n>>>From deep\r\nFromage\r\n text From mid-line\r\n\rFrom after bare CR\r\n',
    );
  });

  it('quotes a message that starts with "From " and one that ends in "From " without a newline', () => {
    expect(quoteMessage(b('From the top')).toString('latin1')).toBe('>From the top');
    expect(quoteMessage(b('x\nFrom ')).toString('latin1')).toBe('x\n>From ');
  });

  it('returns the same buffer when nothing needs quoting', () => {
    const source = b('Subject: hi\r\n\r\nnothing here\r\n');
    expect(quotePositions(source)).toEqual([]);
    expect(quoteMessage(source)).toBe(source);
  });

  it('round-trips random messages full of From lines, bare CR and LF', () => {
    const pieces = ['From ', '>From ', '>>From ', 'From', '\r\n', '\n', '\r', 'x', ' ', '>', 'F', 'rom ', '\u00e9'];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 500; round++) {
      let text = '';
      const n = Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) text += pieces[Math.floor(rand() * pieces.length)];
      const source = b(text);
      const quoted = quoteMessage(source);
      // No line of the quoted text may start with "From ".
      expect(/(^|\n)From /.test(quoted.toString('latin1'))).toBe(false);
      expect(unquoteMessage(quoted).equals(source)).toBe(true);
    }
  });
});

describe('mbox records and splitting', () => {
  const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

  it('splits records back into the exact source bytes', () => {
    const messages = [
      b('Return-Path: <a@x.test>\r\nSubject: one\r\n\r\nFrom me to you\r\n>From a quote\r\n'),
      b('Subject: two, no final line break\r\n\r\nlast line'),
      b('Subject: three\r\n\r\nends with a blank line\r\n\r\n'),
      b('Subject: bare LF\n\nFrom x\n'),
      b(''),
      b('From the first byte\r\n'),
    ];
    const file = Buffer.concat(messages.map((m) => mboxRecord(m, date)));
    const split = splitMbox(file);
    expect(split).toHaveLength(messages.length);
    split.forEach((message, i) => expect(message.source.equals(messages[i]!)).toBe(true));
    expect(split[0]!.separator).toBe('From a@x.test Tue Jan  2 03:04:05 2024');
    expect(split[1]!.separator).toBe('From MAILER-DAEMON Tue Jan  2 03:04:05 2024');
  });

  it('uses the Unix epoch for an unreadable INTERNALDATE', () => {
    expect(mboxRecord(b('x'), new Date('garbage')).toString('latin1')).toBe('From MAILER-DAEMON Thu Jan  1 00:00:00 1970\r\nx\r\n');
  });

  it('refuses a file that is not mbox', () => {
    expect(() => splitMbox(b('Subject: hi\r\n'))).toThrow(/not an mbox/);
    expect(splitMbox(Buffer.alloc(0))).toEqual([]);
  });
});

describe('folder file names', () => {
  const safe = /^[A-Za-z0-9_%~-]+\.mbox$/;

  it('encodes separators, dots, spaces and unicode reversibly', () => {
    expect(encodeFolderName('INBOX')).toBe('INBOX');
    expect(encodeFolderName('Archive/2023')).toBe('Archive%2F2023');
    expect(encodeFolderName('..')).toBe('%2E%2E');
    expect(encodeFolderName('../../etc/passwd')).toBe('%2E%2E%2F%2E%2E%2Fetc%2Fpasswd');
    expect(encodeFolderName('Sent Items')).toBe('Sent%20Items');
    for (const name of ['Überweisungen ✓', '客户/2024', 'a\\b', 'x\u0000y', '~tilde', 'pct%41']) {
      expect(decodeURIComponent(encodeFolderName(name))).toBe(name);
    }
  });

  it('gives every folder a distinct, safe, bounded name', () => {
    const folders = ['INBOX', 'Inbox2', 'inbox2', 'Archive/2023', 'Archive.2023', 'Archive%2F2023', '..', '.', '', 'Ü'.repeat(200), `${'Ü'.repeat(200)}x`];
    const names = mboxFileNames(folders);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(folders.length);
    for (const name of names) {
      expect(name).toMatch(safe);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    }
    // Case-only differences get a suffix instead of colliding on case-insensitive filesystems.
    expect(names[2]).toBe('inbox2~2.mbox');
  });

  it('is deterministic', () => {
    const folders = ['INBOX', 'Sent', 'Ü'.repeat(300)];
    expect(mboxFileNames(folders)).toEqual(mboxFileNames(folders));
  });
});
