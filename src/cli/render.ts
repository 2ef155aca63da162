/** Plain-text views of requests for the terminal. */
import type { OffboardingRequest, Step } from '../core/offboarding/model.js';
import { describeStep } from '../core/offboarding/steps.js';

const MARK: Record<Step['status'], string> = {
  pending: '·',
  running: '…',
  done: '✓',
  failed: '✗',
  awaiting_manual: '⏸',
  waiting: '⏲',
};

export function renderRequest(request: OffboardingRequest): string {
  const lines = [
    `${request.id}  ${request.mailbox}  ${request.state.replace('_', ' ')}`,
    `  requested by ${request.requestedBy} at ${request.requestedAt}${request.plan.reason ? ` — ${request.plan.reason}` : ''}`,
  ];
  if (request.decidedBy) lines.push(`  ${request.state === 'rejected' ? 'rejected' : request.state === 'cancelled' ? 'cancelled' : 'approved'} by ${request.decidedBy} at ${request.decidedAt}${request.decisionNote ? ` — ${request.decisionNote}` : ''}`);
  if (request.nextDueAt) lines.push(`  next due ${request.nextDueAt}`);
  for (const step of request.steps) {
    const manual = step.mode === 'manual' ? ' [manual]' : '';
    const detail = step.summary ?? step.error ?? describeStep(step.name, request.plan);
    const due = step.status === 'waiting' && step.dueAt ? ` (due ${step.dueAt})` : '';
    lines.push(`  ${MARK[step.status]} ${step.name}${manual}: ${detail}${due}`);
    if (step.note && step.status === 'pending') lines.push(`      note: ${step.note}`);
    if (step.status === 'awaiting_manual' && step.instructions) lines.push(`      to do: ${step.instructions}`);
  }
  if (request.backup) lines.push(`  backup: ${request.backup.directory}`);
  return lines.join('\n');
}

export function renderRequestLine(request: OffboardingRequest): string {
  return `${request.id}  ${request.state.padEnd(16)} ${request.mailbox.padEnd(32)} ${request.requestedAt.slice(0, 16)}  by ${request.requestedBy}`;
}
