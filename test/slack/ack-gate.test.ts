/** The ack gate: follow-up work waits while acks are pending, and never longer than its cap. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AckGate } from '../../src/slack/ack-gate.js';

// Fake timers and a fake clock: the gate's behaviour is about order and intervals, which a busy
// CI machine must not be able to blur.
let now = 0;
const advance = async (ms: number) => {
  now += ms;
  await vi.advanceTimersByTimeAsync(ms);
};
const gateWith = (quietMs: number) => new AckGate(quietMs, () => now);
const watch = (promise: Promise<void>) => {
  const state = { released: false };
  void promise.then(() => (state.released = true));
  return state;
};

beforeEach(() => {
  vi.useFakeTimers();
  now = 1_000;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('AckGate', () => {
  it('lets work through at once when nothing waits for an ack', async () => {
    const gate = gateWith(20);
    await advance(25);
    const work = watch(gate.clear(1000));
    await advance(0);
    expect(work.released).toBe(true);
  });

  it('holds work until every pending ack went out and the receiver stayed quiet', async () => {
    const gate = gateWith(20);
    gate.enter();
    gate.enter();
    const work = watch(gate.clear(1000));
    await advance(30);
    gate.leave();
    await advance(30);
    expect(work.released).toBe(false); // one ack still pending
    gate.leave();
    await advance(5);
    expect(work.released).toBe(false); // not quiet for 20 ms yet
    await advance(20);
    expect(work.released).toBe(true);
    expect(gate.waiting).toBe(0);
  });

  it('never holds work longer than the cap, so a trigger_id stays usable', async () => {
    const gate = gateWith(20);
    gate.enter(); // an ack that never goes out
    const work = watch(gate.clear(100));
    await advance(99);
    expect(work.released).toBe(false);
    await advance(2);
    expect(work.released).toBe(true);
  });

  it('lets waiters go one at a time, so a request that comes in meanwhile holds the rest back', async () => {
    const gate = gateWith(20);
    gate.enter();
    const released: string[] = [];
    void gate.clear(1000).then(() => {
      released.push('first');
      gate.enter(); // the next request arrives while the first follow-up runs
    });
    void gate.clear(1000).then(() => released.push('second'));
    gate.leave();
    await advance(25);
    expect(released).toEqual(['first']);
    gate.leave();
    await advance(25);
    expect(released).toEqual(['first', 'second']);
  });

  it('queues a late caller behind those already waiting', async () => {
    const gate = gateWith(20);
    gate.enter();
    const released: string[] = [];
    void gate.clear(1000).then(() => released.push('early'));
    gate.leave();
    await advance(25);
    expect(released).toEqual(['early']);
    gate.enter();
    void gate.clear(100).then(() => released.push('capped'));
    void gate.clear(1000).then(() => released.push('patient'));
    await advance(101); // the ack never goes out: only the capped waiter may go
    expect(released).toEqual(['early', 'capped']);
  });
});
