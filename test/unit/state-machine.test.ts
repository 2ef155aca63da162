import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition } from '../../src/core/offboarding/state-machine.js';
import type { OffboardingRequest } from '../../src/core/offboarding/model.js';
import { isPostmasterError } from '../../src/core/errors.js';

const request = (state: OffboardingRequest['state']): OffboardingRequest => ({
  id: 'ob-test',
  mailbox: 'alice@example.test',
  plan: { mailbox: 'alice@example.test', backup: true, revokeSessions: true, disable: true, deleteAfterDays: 0 },
  state,
  requestedBy: 'U1',
  requestedAt: '2026-11-23T00:00:00.000Z',
  decidedBy: 'U2',
  steps: [],
  version: 0,
  updatedAt: '2026-11-23T00:00:00.000Z',
});

describe('offboarding state machine', () => {
  it('follows the agreed life cycle', () => {
    expect(canTransition('pending_approval', 'approved')).toBe(true);
    expect(canTransition('approved', 'running')).toBe(true);
    expect(canTransition('approved', 'scheduled')).toBe(true);
    expect(canTransition('running', 'completed')).toBe(true);
    expect(canTransition('failed', 'running')).toBe(true);
    expect(canTransition('awaiting_manual', 'running')).toBe(true);
  });

  it('never leaves a terminal state', () => {
    for (const terminal of ['completed', 'rejected', 'cancelled'] as const) {
      for (const to of ['approved', 'running', 'pending_approval', 'failed'] as const) expect(canTransition(terminal, to)).toBe(false);
    }
  });

  it('cannot approve twice, and says who approved', () => {
    expect(() => assertTransition(request('approved'), 'approved')).toThrow(/already approved by U2/);
    try {
      assertTransition(request('approved'), 'approved');
    } catch (error) {
      expect(isPostmasterError(error, 'Conflict')).toBe(true);
    }
  });

  it('cannot skip approval', () => {
    expect(() => assertTransition(request('pending_approval'), 'running')).toThrow(/waiting for approval/);
  });
});
