/**
 * Who may do what. Pure: the ids come from config (Slack user ids, or the CLI's --as value).
 */
import { refused } from './errors.js';
import type { OffboardingRequest } from './offboarding/model.js';

export interface Policy {
  requesters: ReadonlySet<string>;
  approvers: ReadonlySet<string>;
  /** A request older than this cannot be approved (default 72 h). */
  approvalWindowMs: number;
}

export function assertMayRequest(policy: Policy, actor: string): void {
  if (!policy.requesters.has(actor) && !policy.approvers.has(actor)) {
    throw refused(`${actor} may not request offboardings`, 'ask an admin to add you to POSTMASTER_REQUESTERS');
  }
}

/** The request is older than the approval window: nobody can approve it any more. */
export function approvalWindowPassed(policy: Policy, request: OffboardingRequest, now: Date): boolean {
  return now.getTime() - Date.parse(request.requestedAt) > policy.approvalWindowMs;
}

export function assertMayApprove(policy: Policy, request: OffboardingRequest, actor: string, now: Date): void {
  if (actor === request.requestedBy) {
    throw refused(`${actor} requested ${request.id} and cannot approve it too`, 'a second person from POSTMASTER_APPROVERS must approve');
  }
  if (!policy.approvers.has(actor)) {
    throw refused(`${actor} is not an approver`, 'approvers are listed in POSTMASTER_APPROVERS');
  }
  if (approvalWindowPassed(policy, request, now)) {
    const hours = Math.round(policy.approvalWindowMs / 3_600_000);
    throw refused(`${request.id} was requested more than ${hours} h ago and can no longer be approved`, 'file a new request');
  }
}

/** Reject, cancel, retry and mark-done are for the people involved: approvers and the requester. */
export function assertMayAct(policy: Policy, request: OffboardingRequest, actor: string, action: string): void {
  if (policy.approvers.has(actor) || actor === request.requestedBy) return;
  throw refused(`${actor} may not ${action} ${request.id}`, 'only approvers and the requester may');
}
