import { describe, expect, it } from 'vitest';
import { assertMayAct, assertMayApprove, assertMayRequest, type Policy } from '../../src/core/policy.js';
import type { OffboardingRequest } from '../../src/core/offboarding/model.js';

const policy: Policy = { requesters: new Set(['U1']), approvers: new Set(['U2', 'U3']), approvalWindowMs: 72 * 3_600_000 };
const request = { id: 'ob-x', requestedBy: 'U1', requestedAt: '2026-11-20T00:00:00.000Z' } as OffboardingRequest;

describe('policy', () => {
  it('lets requesters and approvers request, nobody else', () => {
    expect(() => assertMayRequest(policy, 'U1')).not.toThrow();
    expect(() => assertMayRequest(policy, 'U2')).not.toThrow();
    expect(() => assertMayRequest(policy, 'U9')).toThrow(/may not request/);
  });

  it('refuses self-approval even for an approver', () => {
    const own = { ...request, requestedBy: 'U2' };
    expect(() => assertMayApprove(policy, own, 'U2', new Date('2026-11-20T01:00:00Z'))).toThrow(/cannot approve it too/);
  });

  it('refuses a non-approver', () => {
    expect(() => assertMayApprove(policy, request, 'U9', new Date('2026-11-20T01:00:00Z'))).toThrow(/not an approver/);
  });

  it('refuses approval after the window', () => {
    expect(() => assertMayApprove(policy, request, 'U2', new Date('2026-11-22T23:59:00Z'))).not.toThrow();
    expect(() => assertMayApprove(policy, request, 'U2', new Date('2026-11-23T00:01:00Z'))).toThrow(/more than 72 h ago/);
  });

  it('lets only the people involved reject or retry', () => {
    expect(() => assertMayAct(policy, request, 'U1', 'retry')).not.toThrow();
    expect(() => assertMayAct(policy, request, 'U3', 'retry')).not.toThrow();
    expect(() => assertMayAct(policy, request, 'U9', 'retry')).toThrow(/may not retry/);
  });
});
