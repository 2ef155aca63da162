/** The ack gate: follow-up work waits while acks are pending, and never longer than its cap. */
import { describe, expect, it } from 'vitest';
import { AckGate } from '../../src/slack/ack-gate.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AckGate', () => {
  it('lets work through at once when nothing waits for an ack', async () => {
    const gate = new AckGate(20);
    await sleep(25);
    const started = performance.now();
    await gate.clear(1000);
    expect(performance.now() - started).toBeLessThan(10);
  });

  it('holds work until every pending ack went out and the receiver stayed quiet', async () => {
    const gate = new AckGate(20);
    gate.enter();
    gate.enter();
    let released = false;
    const cleared = gate.clear(1000).then(() => (released = true));
    await sleep(30);
    gate.leave();
    await sleep(30);
    expect(released).toBe(false); // one ack still pending
    gate.leave();
    await sleep(5);
    expect(released).toBe(false); // not quiet for 20 ms yet
    await cleared;
    expect(gate.waiting).toBe(0);
  });

  it('never holds work longer than the cap, so a trigger_id stays usable', async () => {
    const gate = new AckGate(20);
    gate.enter(); // an ack that never goes out
    const started = performance.now();
    await gate.clear(100);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(performance.now() - started).toBeLessThan(400);
  });
});
