/**
 * Store locks between two store connections on one SQLite file, as the bot and a CLI command have:
 * one holder at a time, a dead holder's lease runs out, a live one is renewed, and waiting too
 * long is a clear Conflict with nothing run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/open-store.js';
import { storeLocks } from '../../src/store/locks.js';

let dir: string;
let bot: Store;
let cli: Store;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-locks-'));
  bot = await openStore(`sqlite://${dir}/store.sqlite`);
  cli = await openStore(`sqlite://${dir}/store.sqlite`);
});
afterEach(async () => {
  await bot.close();
  await cli.close();
  await rm(dir, { recursive: true, force: true });
});

describe('store locks', () => {
  it('lets one connection hold a name at a time; the other waits and then runs', async () => {
    const events: string[] = [];
    const work = (who: string, ms: number) => async () => {
      events.push(`${who} start`);
      await sleep(ms);
      events.push(`${who} end`);
      return who;
    };
    const first = storeLocks(bot).hold('forwarding', work('bot', 150));
    await sleep(20);
    const second = storeLocks(cli).hold('forwarding', work('cli', 10));
    expect(await Promise.all([first, second])).toEqual(['bot', 'cli']);
    expect(events).toEqual(['bot start', 'bot end', 'cli start', 'cli end']);
  });

  it('runs different names side by side', async () => {
    const events: string[] = [];
    const work = (who: string) => async () => {
      events.push(`${who} start`);
      await sleep(80);
      events.push(`${who} end`);
    };
    await Promise.all([storeLocks(bot).hold('mailbox a@x.test', work('a')), storeLocks(cli).hold('mailbox b@x.test', work('b'))]);
    expect(events.slice(0, 2).sort()).toEqual(['a start', 'b start']);
  });

  it('takes over the lease of a holder that died, once it runs out', async () => {
    // A process that took the lock and died: its lease is in the store, nobody renews it.
    await bot.collection<{ holder: string; until: number }>('locks').insert('forwarding', { holder: 'other-host:4242:dead#1', until: Date.now() + 300 });
    const started = Date.now();
    expect(await storeLocks(cli, { waitMs: 5_000 }).hold('forwarding', async () => 'ran')).toBe('ran');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('renews a lease while its work runs longer than the lease', async () => {
    const events: string[] = [];
    const slow = storeLocks(bot, { leaseMs: 150 }).hold('forwarding', async () => {
      events.push('bot start');
      await sleep(600);
      events.push('bot end');
    });
    await sleep(20);
    await storeLocks(cli, { leaseMs: 150 }).hold('forwarding', async () => void events.push('cli ran'));
    await slow;
    expect(events).toEqual(['bot start', 'bot end', 'cli ran']);
  });

  it('gives up after the wait limit with a Conflict naming the holder, without running the work', async () => {
    let ran = false;
    const holding = storeLocks(bot).hold('offboarding requests', () => sleep(400));
    await sleep(20);
    await expect(storeLocks(cli, { waitMs: 100 }).hold('offboarding requests', async () => (ran = true))).rejects.toMatchObject({
      code: 'Conflict',
      message: expect.stringMatching(new RegExp(`another Postmaster process is still working on offboarding requests \\(held by process ${os.hostname()}:${process.pid}\\)`)),
    });
    expect(ran).toBe(false);
    await holding;
  });

  it('releases the lock when the work fails', async () => {
    await expect(storeLocks(bot).hold('forwarding', async () => Promise.reject(new Error('provider down')))).rejects.toThrow('provider down');
    const started = Date.now();
    expect(await storeLocks(cli, { waitMs: 1_000 }).hold('forwarding', async () => 'next')).toBe('next');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
