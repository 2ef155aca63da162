import { describe, expect, it } from 'vitest';
import { expiryInstant, hasExpired } from '../../src/core/forwarding/expiry.js';

describe('expiry', () => {
  it('runs a date-only expiry through the end of that day in the given time zone', () => {
    // 2027-01-31 in Shanghai (UTC+8) ends at 2027-01-31T16:00Z.
    expect(new Date(expiryInstant('2027-01-31', 'Asia/Shanghai')).toISOString()).toBe('2027-01-31T16:00:00.000Z');
    expect(hasExpired('2027-01-31', new Date('2027-01-31T15:59:59Z'), 'Asia/Shanghai')).toBe(false);
    expect(hasExpired('2027-01-31', new Date('2027-01-31T16:00:00Z'), 'Asia/Shanghai')).toBe(true);
  });

  it('uses UTC when no zone is given', () => {
    expect(hasExpired('2027-01-31', new Date('2027-01-31T23:59:59Z'))).toBe(false);
    expect(hasExpired('2027-01-31', new Date('2027-02-01T00:00:00Z'))).toBe(true);
  });

  it('finds midnight across a daylight-saving change', () => {
    // New York moves to EDT on 2027-03-14: the next midnight (the 15th) is at 04:00Z, not 05:00Z.
    expect(new Date(expiryInstant('2027-03-14', 'America/New_York')).toISOString()).toBe('2027-03-15T04:00:00.000Z');
    expect(new Date(expiryInstant('2027-03-13', 'America/New_York')).toISOString()).toBe('2027-03-14T05:00:00.000Z');
  });

  it('stops a date-time expiry at that instant, whatever the zone', () => {
    expect(hasExpired('2027-01-31T18:00:00+08:00', new Date('2027-01-31T09:59:59Z'), 'America/New_York')).toBe(false);
    expect(hasExpired('2027-01-31T18:00:00+08:00', new Date('2027-01-31T10:00:00Z'), 'America/New_York')).toBe(true);
  });

  it('never expires without an expiry, and treats a garbled one as expired', () => {
    expect(hasExpired(undefined, new Date())).toBe(false);
    expect(hasExpired('soon', new Date())).toBe(true);
  });

  it('names an unknown time zone', () => {
    expect(() => expiryInstant('2027-01-31', 'Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
  });
});
