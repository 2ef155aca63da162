/**
 * When a rule or an offboarding forward stops. A date-only value is inclusive: "2027-01-31" runs
 * through the last second of that day, matching the provider's Sieve test
 * (`currentdate :value "le" "date" "2027-01-31"`). Whose day that is depends on a time zone, so
 * callers pass one (AUDIT_TZ); a date-time carries its own offset and needs none.
 */
import { badInput } from '../errors.js';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw badInput(`unknown time zone "${timeZone}"`, 'use an IANA name such as Asia/Shanghai or UTC');
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** How far the zone's wall clock is ahead of UTC at `instant`, in ms. */
function zoneOffset(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant (epoch ms) that a wall-clock time in `timeZone` names. */
function wallClockToInstant(wall: number, timeZone: string): number {
  // Two rounds settle on the right side of a DST change; zones without DST need only the first.
  const first = wall - zoneOffset(wall, timeZone);
  return wall - zoneOffset(first, timeZone);
}

// An audit asks about the same few dates thousands of times, and Intl is slow; the answer for a
// (date, zone) pair never changes, so it is remembered. Bounded, for a process that runs for months.
const instants = new Map<string, number>();
const MAX_REMEMBERED = 10_000;

/**
 * The first instant (epoch ms) at which `expiresAt` has passed: for a date, midnight at the start
 * of the next day in `timeZone`; for a date-time, that instant. NaN for a value that is neither.
 */
export function expiryInstant(expiresAt: string, timeZone = 'UTC'): number {
  const date = DATE_ONLY.exec(expiresAt);
  if (!date) return Date.parse(expiresAt);
  const nextMidnight = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]) + 1);
  if (timeZone === 'UTC') return nextMidnight;
  const key = `${timeZone} ${expiresAt}`;
  let instant = instants.get(key);
  if (instant === undefined) {
    instant = wallClockToInstant(nextMidnight, timeZone);
    if (instants.size >= MAX_REMEMBERED) instants.clear();
    instants.set(key, instant);
  }
  return instant;
}

/** True once `expiresAt` is over. No expiry never expires; an unparseable one counts as expired, the safe side. */
export function hasExpired(expiresAt: string | undefined, now: Date, timeZone = 'UTC'): boolean {
  if (expiresAt === undefined) return false;
  const end = expiryInstant(expiresAt, timeZone);
  return Number.isNaN(end) || now.getTime() >= end;
}
