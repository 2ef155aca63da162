import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/open-store.js';
import { latestSlot, runDueSlot, type SlotState } from '../../src/scheduler/slot-job.js';

const MONDAY_9_SHANGHAI = '0 9 * * 1';
let dir: string;
let store: Store;
let now: Date;
let runs: string[];

const options = () => ({
  name: 'weekly-audit',
  pattern: MONDAY_9_SHANGHAI,
  timezone: 'Asia/Shanghai',
  clock: { now: () => now },
  state: store.collection<SlotState>('schedules'),
  run: async (slot: Date) => {
    runs.push(slot.toISOString());
  },
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-slot-'));
  store = await openStore(`sqlite://${dir}/store.sqlite`);
  runs = [];
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('weekly slot job', () => {
  it('finds the slot in the configured time zone', () => {
    // Monday 2026-11-23 09:00 in Shanghai is 01:00 UTC.
    expect(latestSlot(MONDAY_9_SHANGHAI, 'Asia/Shanghai', new Date('2026-11-23T01:00:00Z'))?.toISOString()).toBe('2026-11-23T01:00:00.000Z');
    expect(latestSlot(MONDAY_9_SHANGHAI, 'Asia/Shanghai', new Date('2026-11-23T00:59:00Z'))?.toISOString()).toBe('2026-11-16T01:00:00.000Z');
  });

  it('does not post on the very first start, then posts each new week once', async () => {
    now = new Date('2026-11-24T03:00:00Z'); // Tuesday
    expect(await runDueSlot(options())).toEqual({ ran: false, reason: 'first_start' });
    now = new Date('2026-11-30T01:00:05Z'); // Monday 09:00:05 Shanghai
    expect(await runDueSlot(options())).toMatchObject({ ran: true });
    expect(runs).toEqual(['2026-11-30T01:00:00.000Z']);
  });

  it('gives one report for two restarts in the same week', async () => {
    now = new Date('2026-11-24T03:00:00Z');
    await runDueSlot(options());
    now = new Date('2026-11-30T02:00:00Z');
    await runDueSlot(options()); // the scheduled run
    now = new Date('2026-12-01T08:00:00Z');
    expect(await runDueSlot(options())).toEqual({ ran: false, reason: 'already_ran' }); // restart 1
    now = new Date('2026-12-03T08:00:00Z');
    expect(await runDueSlot(options())).toEqual({ ran: false, reason: 'already_ran' }); // restart 2
    expect(runs).toHaveLength(1);
  });

  it('catches up a missed week once, not once per missed week', async () => {
    now = new Date('2026-11-24T03:00:00Z');
    await runDueSlot(options());
    // Down for three Mondays; back on a Thursday.
    now = new Date('2026-12-17T05:00:00Z');
    expect(await runDueSlot(options())).toMatchObject({ ran: true });
    expect(await runDueSlot(options())).toEqual({ ran: false, reason: 'already_ran' });
    expect(runs).toEqual(['2026-12-14T01:00:00.000Z']);
  });

  it('gives the slot back when the run fails, so it is tried again', async () => {
    now = new Date('2026-11-24T03:00:00Z');
    await runDueSlot(options());
    now = new Date('2026-11-30T01:00:00Z');
    await expect(runDueSlot({ ...options(), run: async () => { throw new Error('Slack is down'); } })).rejects.toThrow('Slack is down');
    expect(await runDueSlot(options())).toMatchObject({ ran: true });
    expect(runs).toEqual(['2026-11-30T01:00:00.000Z']);
  });

  it('runs once when two processes tick at the same moment', async () => {
    now = new Date('2026-11-24T03:00:00Z');
    await runDueSlot(options());
    now = new Date('2026-11-30T01:00:00Z');
    const other = await openStore(`sqlite://${dir}/store.sqlite`);
    const outcomes = await Promise.all([runDueSlot(options()), runDueSlot({ ...options(), state: other.collection<SlotState>('schedules') })]);
    await other.close();
    expect(outcomes.filter((o) => o.ran)).toHaveLength(1);
    expect(runs).toHaveLength(1);
  });
});
