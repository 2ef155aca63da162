/**
 * The offboarding request's life cycle, as pure functions over plain data.
 *
 *   pending_approval -> approved -> (scheduled ->) running -> completed | failed
 *                    -> rejected | cancelled
 *   running -> awaiting_manual (a person must do a step) -> running
 *   running -> scheduled (delete waits for the retention period) -> running
 *   failed  -> running (retry resumes at the failed step)
 */
import { conflict } from '../errors.js';
import type { OffboardingRequest, RequestState } from './model.js';

const NEXT: Record<RequestState, readonly RequestState[]> = {
  pending_approval: ['approved', 'rejected', 'cancelled'],
  approved: ['running', 'scheduled', 'cancelled'],
  scheduled: ['running', 'cancelled'],
  running: ['completed', 'failed', 'awaiting_manual', 'scheduled'],
  awaiting_manual: ['running', 'cancelled'],
  failed: ['running', 'cancelled'],
  completed: [],
  rejected: [],
  cancelled: [],
};

export function canTransition(from: RequestState, to: RequestState): boolean {
  return NEXT[from].includes(to);
}

/** Why a request in this state cannot take the action, in words a person understands. */
export function explainState(request: OffboardingRequest): string {
  const by = request.decidedBy ? ` by ${request.decidedBy}` : '';
  const approved = `request ${request.id} was already approved${by}`;
  switch (request.state) {
    case 'pending_approval':
      return `request ${request.id} is waiting for approval`;
    case 'approved':
      return approved;
    case 'rejected':
      return `request ${request.id} was rejected${by}`;
    case 'cancelled':
      return `request ${request.id} was cancelled${by}`;
    case 'scheduled':
      return `${approved} and is scheduled for ${request.nextDueAt ?? 'later'}`;
    case 'running':
      return `${approved} and is running now`;
    case 'awaiting_manual':
      return `${approved} and is waiting for a manual task to be marked done`;
    case 'completed':
      return `${approved} and has completed`;
    case 'failed':
      return `${approved} and failed; retry it to resume`;
  }
}

export function assertTransition(request: OffboardingRequest, to: RequestState): void {
  if (!canTransition(request.state, to)) throw conflict(explainState(request));
}
