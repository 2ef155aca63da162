/**
 * Named locks kept in the store, so they hold across every process that shares it (the bot and
 * any CLI command). A lock is a lease: its holder renews it while the work runs, and a process that
 * died leaves a lease that runs out, so nobody waits for a crashed holder for ever. Lease times are
 * wall-clock times: they are about processes being alive, not about the business clock.
 *
 * They rest on the collection's insert-if-absent and compare-and-set, which every backend does
 * atomically (store/raw-access.ts). Within one process, holders of one name queue up locally and
 * only the head of the queue polls the store, so concurrent work in the bot does not poll.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict } from '../core/errors.js';
import { oneAtATimePer } from '../core/one-at-a-time.js';
import type { Locks } from '../core/ports.js';
import type { Store } from './open-store.js';

interface Lease {
  /** Who holds it: host, process and one hold of that process. */
  holder: string;
  /** Epoch ms; at or before now, the lease is free. */
  until: number;
}

export interface LockTimings {
  /** How long a lease lasts unless renewed; it is renewed every third of that while held. */
  leaseMs: number;
  /** How long to wait for another holder before giving up with a Conflict. */
  waitMs: number;
  /** The first pause between attempts; it doubles up to a second. */
  pollMs: number;
}

const DEFAULT_TIMINGS: LockTimings = { leaseMs: 30_000, waitMs: 60_000, pollMs: 25 };

export function storeLocks(store: Store, timings: Partial<LockTimings> = {}): Locks {
  const { leaseMs, waitMs, pollMs } = { ...DEFAULT_TIMINGS, ...timings };
  const leases = store.collection<Lease>('locks');
  const processTag = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const local = oneAtATimePer();
  let holds = 0;

  const take = async (name: string, holder: string): Promise<boolean> => {
    const lease = (): Lease => ({ holder, until: Date.now() + leaseMs });
    if (await leases.insert(name, lease())) return true;
    return (await leases.update(name, (current) => (current.until <= Date.now() ? lease() : undefined))) !== undefined;
  };
  const extend = (name: string, holder: string, until: () => number) =>
    leases.update(name, (current) => (current.holder === holder ? { holder, until: until() } : undefined));

  const acquire = async (name: string, holder: string): Promise<void> => {
    const deadline = Date.now() + waitMs;
    for (let pause = pollMs; !(await take(name, holder)); pause = Math.min(pause * 2, 1_000)) {
      if (Date.now() >= deadline) {
        const current = await leases.get(name);
        const who = current ? ` (held by process ${current.holder.split(':').slice(0, 2).join(':')})` : '';
        throw conflict(`another Postmaster process is still working on ${name}${who}`, 'try again in a minute');
      }
      await sleep(pause * (0.5 + Math.random()));
    }
  };

  return {
    hold(name, work) {
      return local(name, async () => {
        const holder = `${processTag}#${++holds}`;
        await acquire(name, holder);
        const renewal = setInterval(() => void extend(name, holder, () => Date.now() + leaseMs).catch(() => undefined), leaseMs / 3);
        renewal.unref();
        try {
          return await work();
        } finally {
          clearInterval(renewal);
          // Released by expiring it: the collection has no conditional delete.
          await extend(name, holder, () => 0).catch(() => undefined);
        }
      });
    },
  };
}
