import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/open-store.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-store-'));
  store = await openStore(`sqlite://${dir}/store.sqlite`);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SQLite collection', () => {
  it('insert refuses an id that is taken', async () => {
    const items = store.collection<{ n: number }>('items');
    expect(await items.insert('a', { n: 1 })).toBe(true);
    expect(await items.insert('a', { n: 2 })).toBe(false);
    expect(await items.get('a')).toEqual({ n: 1 });
  });

  it('keeps namespaces apart when listing', async () => {
    await store.collection<number>('one').set('x', 1);
    await store.collection<number>('two').set('x', 2);
    expect(await store.collection<number>('one').values()).toEqual([1]);
    expect(await store.collection<number>('two').values()).toEqual([2]);
  });

  it('loses no increment under concurrent read-modify-write in one process', async () => {
    const counters = store.collection<{ n: number }>('counters');
    await counters.insert('c', { n: 0 });
    await Promise.all(Array.from({ length: 40 }, () => counters.update('c', (c) => ({ n: c.n + 1 }))));
    expect(await counters.get('c')).toEqual({ n: 40 });
  });

  it('loses no increment when two processes update the same file', async () => {
    const counters = store.collection<{ n: number }>('counters');
    await counters.insert('c', { n: 0 });
    const script = `
      import { openStore } from ${JSON.stringify(path.resolve('src/store/open-store.ts'))};
      const store = await openStore(process.argv.at(-1));
      const c = store.collection('counters');
      for (let i = 0; i < 25; i++) await c.update('c', (v) => ({ n: v.n + 1 }));
      await store.close();
    `;
    const child = () =>
      new Promise<number>((resolve) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, `sqlite://${dir}/store.sqlite`], { stdio: 'inherit' });
        proc.on('exit', (code) => resolve(code ?? 1));
      });
    expect(await Promise.all([child(), child()])).toEqual([0, 0]);
    expect(await counters.get('c')).toEqual({ n: 50 });
  });

  it('leaves the value alone when the change returns undefined', async () => {
    const items = store.collection<{ n: number }>('items');
    await items.insert('a', { n: 1 });
    expect(await items.update('a', () => undefined)).toBeUndefined();
    expect(await items.update('missing', (v) => v)).toBeUndefined();
    expect(await items.get('a')).toEqual({ n: 1 });
  });
});
