import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BackupFolder } from '../../src/core/backup.js';
import { FileWorker } from '../../src/providers/shared/file-worker.js';
import { ReadBack } from '../../src/providers/shared/read-back.js';

const TWO_MESSAGES = 'From a Thu Jan  1 00:00:00 1970\r\nbody\r\n\r\nFrom b Thu Jan  1 00:00:00 1970\r\n>From quoted\r\n\r\n';

let dir: string;
let worker: FileWorker;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-readback-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await worker?.terminate();
});

async function folderFile(name: string, content: string): Promise<BackupFolder> {
  const file = `${name}.mbox`;
  await writeFile(path.join(dir, file), content, 'latin1');
  return { name, file, messages: 2, bytes: Buffer.byteLength(content, 'latin1'), sha256: 'not read back' };
}

describe('ReadBack', () => {
  it('passes files whose message count matches the server and whose size matches what was written', async () => {
    worker = new FileWorker();
    const readBack = new ReadBack(dir, worker);
    readBack.check(await folderFile('one', TWO_MESSAGES), 2);
    readBack.check(await folderFile('two', ''), 0);
    expect(await readBack.result()).toBeUndefined();
  });

  it('reports the server count against the count on disk', async () => {
    worker = new FileWorker();
    const readBack = new ReadBack(dir, worker);
    readBack.check(await folderFile('short', TWO_MESSAGES), 3);
    expect(await readBack.result()).toBe('folder short: server has 3, backup has 2');
  });

  it('reports a file whose size on disk is not what was written', async () => {
    worker = new FileWorker();
    const readBack = new ReadBack(dir, worker);
    const folder = await folderFile('cut', TWO_MESSAGES);
    readBack.check({ ...folder, bytes: folder.bytes + 1 }, 2);
    expect(await readBack.result()).toBe(`folder cut: file cut.mbox has ${folder.bytes} bytes on disk, ${folder.bytes + 1} were written`);
  });

  it('keeps the first problem and rethrows a read failure', async () => {
    worker = new FileWorker();
    const first = new ReadBack(dir, worker);
    first.check(await folderFile('a', TWO_MESSAGES), 1);
    first.check(await folderFile('b', TWO_MESSAGES), 5);
    expect(await first.result()).toBe('folder a: server has 1, backup has 2');
    const missing = new ReadBack(dir, worker);
    missing.check({ name: 'gone', file: 'gone.mbox', messages: 0, bytes: 0, sha256: '' }, 0);
    await expect(missing.result()).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
