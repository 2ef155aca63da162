/**
 * A job that runs once per cron slot and remembers, in the store, the last slot it ran for. So a
 * restart never runs a slot twice, a slot missed while the process was down runs once when it
 * comes back (only the latest missed slot: a report for three missed weeks is one report), and
 * two processes sharing a store run it once between them (the claim is a compare-and-set).
 */
import { Cron } from 'croner';
import type { Clock } from '../core/ports.js';
import type { Collection } from '../store/collection.js';

export interface SlotState {
  /** The scheduled time (ISO) of the last slot that was claimed. */
  lastSlot: string;
  claimedAt: string;
}

export interface SlotJobOptions {
  name: string;
  pattern: string;
  timezone: string;
  clock: Clock;
  state: Collection<SlotState>;
  run: (slot: Date) => Promise<void>;
}

export type SlotOutcome = { ran: true; slot: Date } | { ran: false; reason: 'first_start' | 'already_ran' | 'no_slot_yet' };

/** The most recent scheduled time at or before `now`. */
export function latestSlot(pattern: string, timezone: string, now: Date): Date | undefined {
  const schedule = new Cron(pattern, { timezone, paused: true });
  // previousRuns excludes a slot exactly at `now`; nudge forward so "09:00:00 sharp" counts.
  return schedule.previousRuns(1, new Date(now.getTime() + 1))[0];
}

/**
 * Runs the latest slot if it has not run yet. The very first start records the current slot
 * without running it: installing Postmaster on a Tuesday should not post Monday's report.
 */
export async function runDueSlot(options: SlotJobOptions): Promise<SlotOutcome> {
  const now = options.clock.now();
  const slot = latestSlot(options.pattern, options.timezone, now);
  if (!slot) return { ran: false, reason: 'no_slot_yet' };
  const claim: SlotState = { lastSlot: slot.toISOString(), claimedAt: now.toISOString() };
  if (await options.state.insert(options.name, claim)) return { ran: false, reason: 'first_start' };
  let previous: SlotState | undefined;
  const claimed = await options.state.update(options.name, (current) => {
    previous = current;
    return Date.parse(current.lastSlot) < slot.getTime() ? claim : undefined;
  });
  if (!claimed) return { ran: false, reason: 'already_ran' };
  try {
    await options.run(slot);
  } catch (error) {
    // Give the slot back so the next tick (or restart) tries again, unless someone moved on since.
    await options.state.update(options.name, (current) => (current.claimedAt === claim.claimedAt && current.lastSlot === claim.lastSlot ? previous : undefined));
    throw error;
  }
  return { ran: true, slot };
}

/** Starts the cron timer in the long-running process, and catches up once at start. */
export function startSlotJob(options: SlotJobOptions, onError: (error: unknown) => void): Cron {
  const tick = async () => {
    try {
      await runDueSlot(options);
    } catch (error) {
      onError(error);
    }
  };
  const job = new Cron(options.pattern, { timezone: options.timezone, protect: true, name: options.name }, tick);
  void tick();
  return job;
}
