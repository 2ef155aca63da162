/**
 * Redis and PostgreSQL are the stores for when one process is not enough: several bot processes,
 * or the bot and CLI commands, on one store. So what the core relies on must hold between
 * processes there as it does on SQLite: insert-if-absent, read-modify-write and the store locks.
 * Each backend runs for real (test/support/store-servers.ts); the "processes" are real ones.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/open-store.js';
import { postgresBinDir, redisServer, requireServer, startPostgres, startRedis, type StoreServer } from '../support/store-servers.js';

const backends = [
  { name: 'Redis', present: requireServer(Boolean(redisServer), 'Redis'), start: startRedis },
  { name: 'PostgreSQL', present: requireServer(Boolean(postgresBinDir), 'PostgreSQL'), start: startPostgres },
];

const OPEN_STORE = JSON.stringify(path.resolve('src/store/open-store.ts'));
const STORE_LOCKS = JSON.stringify(path.resolve('src/store/locks.ts'));

/**
 * Runs each body in a process of its own with `store` open on the URL (and `storeLocks` and
 * `sleep` imported), and resolves to what each printed. The processes meet at a barrier in the
 * store before their work, so the work overlaps however long each took to start.
 */
function inProcesses(url: string, bodies: string[]): Promise<string[]> {
  const barrier = `b${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return Promise.all(
    bodies.map((body, index) => {
      const script = `
        import { openStore } from ${OPEN_STORE};
        import { storeLocks } from ${STORE_LOCKS};
        import { setTimeout as sleep } from 'node:timers/promises';
        const store = await openStore(process.argv.at(-1));
        const barrier = store.collection('barrier');
        await barrier.set('${barrier}:${index}', true);
        const everyone = Array.from({ length: ${bodies.length} }, (_, i) => '${barrier}:' + i);
        while ((await Promise.all(everyone.map((key) => barrier.get(key)))).includes(undefined)) await sleep(5);
        ${body}
        await store.close();
      `;
      return new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`the child process exited with ${code}`))));
      });
    }),
  );
}

describe.each(backends)('$name store shared by processes', ({ present, start }) => {
  let server: StoreServer;
  let store: Store;
  beforeAll(async () => {
    if (!present) return;
    server = await start();
    store = await openStore(server.url);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it.skipIf(!present)('reads what the atomic operations wrote, and lists each namespace apart', async () => {
    const items = store.collection<{ n: number }>('items');
    expect(await items.insert('a', { n: 1 })).toBe(true);
    expect(await items.insert('a', { n: 2 })).toBe(false);
    expect(await items.get('a')).toEqual({ n: 1 });
    expect(await items.update('a', (v) => ({ n: v.n + 1 }))).toEqual({ n: 2 });
    expect(await items.update('missing', (v) => v)).toBeUndefined();
    await store.collection<number>('other').set('a', 7);
    expect(await items.values()).toEqual([{ n: 2 }]);
    expect(await store.collection<number>('other').values()).toEqual([7]);
  });

  it.skipIf(!present)('gives each id to exactly one of two processes inserting it at once', async () => {
    const race = (who: string) => `const claims = store.collection('claims');
      const won = await Promise.all(Array.from({ length: 200 }, (_, i) => claims.insert('id' + i, '${who}')));
      console.log(JSON.stringify(won));`;
    const [first, second] = (await inProcesses(server.url, [race('first'), race('second')])).map((out) => JSON.parse(out) as boolean[]);
    const claims = store.collection<string>('claims');
    for (let i = 0; i < 200; i++) {
      expect(first![i]! !== second![i]!).toBe(true);
      expect(await claims.get(`id${i}`)).toBe(first![i] ? 'first' : 'second');
    }
  }, 60_000);

  it.skipIf(!present)('loses no increment when two processes update one document', async () => {
    await store.collection<{ n: number }>('counters').insert('c', { n: 0 });
    // Three waves of 10 at once per process: 20 contenders at a time, well inside the collection's 50 attempts.
    const increments = `const c = store.collection('counters');
      for (let wave = 0; wave < 3; wave++) await Promise.all(Array.from({ length: 10 }, () => c.update('c', (v) => ({ n: v.n + 1 }))));`;
    await inProcesses(server.url, [increments, increments]);
    expect(await store.collection<{ n: number }>('counters').get('c')).toEqual({ n: 60 });
  }, 60_000);

  it.skipIf(!present)('makes two processes take turns under a store lock', async () => {
    const tally = store.collection<number>('tally');
    await tally.set('n', 0);
    // A read, a pause and a write: without the lock the two processes overwrite each other's counts.
    const turns = `const tally = store.collection('tally');
      const locks = storeLocks(store);
      for (let i = 0; i < 8; i++) await locks.hold('forwarding', async () => {
        const n = await tally.get('n');
        await sleep(15);
        await tally.set('n', n + 1);
      });`;
    await inProcesses(server.url, [turns, turns]);
    expect(await tally.get('n')).toBe(16);
  }, 60_000);
});

describe('a store that cannot be reached', () => {
  it('is one clear line at start-up that names the host and not the password', async () => {
    const error = await openStore('postgres://postmaster:s3cret-pw@127.0.0.1:1/mail').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe('STORE_URL: cannot use the PostgreSQL store at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
    expect(error?.message).not.toContain('s3cret');
  });
});
