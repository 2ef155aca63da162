import { describe, expect, it } from 'vitest';
import { oneAtATimePer } from '../../src/core/one-at-a-time.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('oneAtATimePer', () => {
  it('starts each piece on a key after the one before has ended, even when that one failed', async () => {
    const serial = oneAtATimePer();
    const log: string[] = [];
    const piece = (name: string, fail = false) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([serial('k', piece('a', true)), serial('k', piece('b')), serial('k', piece('c'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('runs other keys side by side', async () => {
    const serial = oneAtATimePer();
    const log: string[] = [];
    const piece = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([serial('x', piece('x1')), serial('y', piece('y1')), serial('x', piece('x2'))]);
    expect(log.indexOf('y1 start')).toBeLessThan(log.indexOf('x1 end'));
    expect(log.indexOf('x2 start')).toBeGreaterThan(log.indexOf('x1 end'));
  });
});
