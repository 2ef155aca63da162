/** Routing a kind of request (commands, actions, views) to the listener for its id. */
import { describe, expect, it } from 'vitest';
import { routes } from '../../src/slack/listeners/route.js';

describe('routes', () => {
  it('matches exactly the ids routed, with their punctuation taken literally', () => {
    const { pattern } = routes<void>({ '/offboard': async () => {}, 'audit.remove': async () => {} });
    expect(['/offboard', 'audit.remove'].map((id) => pattern.test(id))).toEqual([true, true]);
    expect(['/offboard2', 'x/offboard', 'auditxremove', '', '/'].map((id) => pattern.test(id))).toEqual([false, false, false, false, false]);
  });

  it('hands a request to the listener for its id only, and passes its failure on', async () => {
    const seen: string[] = [];
    const r = routes<string>({
      '/offboard': async (args) => void seen.push(`offboard ${args}`),
      '/forward': async (args) => void seen.push(`forward ${args}`),
      '/broken': async () => {
        throw new Error('listener failed');
      },
    });
    await r.dispatch('/forward', 'one');
    await r.dispatch('/unknown', 'two');
    expect(seen).toEqual(['forward one']);
    await expect(r.dispatch('/broken', 'three')).rejects.toThrow('listener failed');
  });
});
