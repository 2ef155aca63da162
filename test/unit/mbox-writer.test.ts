import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scanMboxFile } from '../../src/providers/shared/backup-verify.js';
import { FileWorker, SCAN_READ_SIZE } from '../../src/providers/shared/file-worker.js';
import { mboxRecord, splitMbox } from '../../src/providers/shared/mbox.js';
import { BufferPool, MboxFileWriter } from '../../src/providers/shared/mbox-writer.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let dir: string;
let worker: FileWorker;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-mbox-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await worker?.terminate();
});

function message(i: number, bodyBytes: number): Buffer {
  const body = Buffer.alloc(bodyBytes, 'a');
  for (let at = 80; at < body.length; at += 81) body[at] = 0x0a;
  const head = Buffer.from(`Return-Path: <s${i}@x.test>\r\nSubject: ${i}\r\n\r\nFrom the start of line ${i}\r\n>From quoted\r\n`, 'latin1');
  return Buffer.concat([head, body, Buffer.from('\r\n')]);
}

async function writeAll(file: string, messages: Buffer[], dates: Date[], pool = new BufferPool()) {
  const writer = await MboxFileWriter.create(worker, file, pool);
  for (const [i, m] of messages.entries()) {
    const wait = writer.write(m, dates[i]!);
    if (wait) await wait;
  }
  return writer.close();
}

describe('MboxFileWriter', () => {
  it('writes exactly the mboxrd records, with sha256 and byte count of the file', async () => {
    worker = new FileWorker();
    // Sizes straddle the 1 MiB buffers: small, several per buffer, and larger than a buffer.
    const sizes = [10, 3000, 700_000, 5, 2_500_000, 400_000, 400_000, 1_048_000, 0, 64];
    const messages = sizes.map((size, i) => message(i, size));
    const dates = messages.map((_, i) => new Date(Date.UTC(2020, 0, 1 + i)));
    const file = path.join(dir, 'a.mbox');
    const summary = await writeAll(file, messages, dates);
    const onDisk = await readFile(file);
    const expected = Buffer.concat(messages.map((m, i) => mboxRecord(m, dates[i]!)));
    expect(onDisk.equals(expected)).toBe(true);
    expect(summary).toEqual({ messages: messages.length, bytes: onDisk.length, sha256: sha256(onDisk) });
    const split = splitMbox(onDisk);
    split.forEach((m, i) => expect(m.source.equals(messages[i]!)).toBe(true));
    expect(await worker.scan(file)).toEqual({ messages: messages.length, bytes: onDisk.length, sha256: sha256(onDisk) });
  });

  it('keeps memory to its pool across many files (buffers come back after close)', async () => {
    worker = new FileWorker();
    const pool = new BufferPool();
    const before = pool.free.length;
    for (let f = 0; f < 5; f++) {
      const messages = Array.from({ length: 300 }, (_, i) => message(i, 9000));
      await writeAll(path.join(dir, `many-${f}.mbox`), messages, messages.map(() => new Date(0)), pool);
      expect(pool.free.length).toBe(before);
    }
  });

  it('writes an empty file for an empty folder', async () => {
    worker = new FileWorker();
    const file = path.join(dir, 'empty.mbox');
    const summary = await writeAll(file, [], []);
    expect(summary).toEqual({ messages: 0, bytes: 0, sha256: sha256(Buffer.alloc(0)) });
    expect(await scanMboxFile(file)).toEqual({ messages: 0, bytes: 0, sha256: summary.sha256 });
  });

  it('reports a write failure instead of claiming success', async () => {
    worker = new FileWorker();
    const writer = await MboxFileWriter.create(worker, path.join(dir, 'no-such-dir', 'x.mbox'), new BufferPool()).catch((e: unknown) => e);
    expect((writer as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('scanMboxFile', () => {
  it('counts a separator split across the read boundary at every offset', async () => {
    worker = new FileWorker();
    for (let cut = 0; cut <= 6; cut++) {
      // "\nFrom " starts `cut` bytes before the end of the first read.
      const first = Buffer.from('From a Thu Jan  1 00:00:00 1970\r\n', 'latin1');
      const filler = Buffer.alloc(SCAN_READ_SIZE - first.length - cut, 'x');
      const rest = Buffer.from('\nFrom b Thu Jan  1 00:00:00 1970\r\nbody\nFrom c Thu Jan  1 00:00:00 1970\r\n', 'latin1');
      const data = Buffer.concat([first, filler, rest]);
      const file = path.join(dir, `seam-${cut}.mbox`);
      await writeFile(file, data);
      expect((await worker.scan(file)).messages, `cut ${cut}`).toBe(3);
    }
  });

  it('does not count quoted or mid-line From', async () => {
    worker = new FileWorker();
    const file = path.join(dir, 'quoted.mbox');
    await writeFile(file, 'From a x\r\n>From b\r\nsay From c\r\n\r\nFrom d y\r\n');
    expect((await worker.scan(file)).messages).toBe(2);
  });

  it('hashes large random files like a one-shot sha256', async () => {
    worker = new FileWorker();
    const data = Buffer.concat([Buffer.from('From x y\r\n'), randomBytes(3 * SCAN_READ_SIZE + 12345)]);
    const file = path.join(dir, 'random.mbox');
    await writeFile(file, data);
    const scan = await worker.scan(file);
    expect(scan.sha256).toBe(sha256(data));
    expect(scan.bytes).toBe(data.length);
    const naive = (data.toString('latin1').match(/\nFrom /g) ?? []).length + 1;
    expect(scan.messages).toBe(naive);
  });

  it('counts without hashing when asked to (the export\'s read-back)', async () => {
    worker = new FileWorker();
    const data = Buffer.concat([Buffer.from('From x y\r\nbody\r\n\r\nFrom z y\r\n'), randomBytes(2 * SCAN_READ_SIZE + 7)]);
    const file = path.join(dir, 'count.mbox');
    await writeFile(file, data);
    const scan = await worker.scan(file);
    expect(await worker.count(file)).toEqual({ messages: scan.messages, bytes: data.length });
  });

  it('reports a missing file as ENOENT', async () => {
    worker = new FileWorker();
    await expect(worker.scan(path.join(dir, 'missing.mbox'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
