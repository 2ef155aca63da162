/**
 * The request message in the approvals channel (Approve/Reject while pending, then the decision and
 * the run's state), and the same view of a request for `/offboard status`. Pure.
 */
import type { types } from '@slack/bolt';
import type { OffboardingRequest, Step } from '../../core/offboarding/model.js';
import { describeStep } from '../../core/offboarding/steps.js';
import { ACTION, BLOCK } from '../ids.js';
import { LIMITS, truncate } from './limits.js';
import { button, context, escape, fallback, header, mention, section, STATE_LABEL, STATE_MARK, STEP_MARK, STEP_TITLE, when } from './text.js';

export interface MessageContent {
  text: string;
  blocks: types.KnownBlock[];
}

/** One line per step: what it will change, marked when a person must do it. */
export function stepLine(request: OffboardingRequest, step: Step, index: number, showStatus: boolean): string {
  const mark = showStatus ? `${STEP_MARK[step.status]} ` : `${index + 1}. `;
  const what = escape(describeStep(step.name, request.plan));
  let line = `${mark}*${STEP_TITLE[step.name]}* — ${what}`;
  if (showStatus && step.summary) line += `\n      ${escape(step.summary)}`;
  if (showStatus && step.status === 'failed' && step.error) line += `\n      ✗ ${escape(step.error)}`;
  if (showStatus && step.status === 'waiting' && step.dueAt) line += `\n      waits until ${when(step.dueAt)}`;
  if (step.note && step.status === 'pending') line += `\n      ⚠️ ${escape(step.note)}`;
  if (step.mode === 'manual') {
    line += `\n      ✋ *Manual task* (the mail system cannot do this through its API): ${escape(step.instructions ?? 'do it by hand, then mark it done')}`;
  }
  return truncate(line, 1000);
}

function planSection(request: OffboardingRequest, showStatus: boolean): types.KnownBlock[] {
  if (request.steps.length === 0) return [section('_The plan has no steps._')];
  const lines = request.steps.map((step, i) => stepLine(request, step, i, showStatus));
  return [section(`*${showStatus ? 'Steps' : 'Plan — exactly what will change, in this order'}:*\n${lines.join('\n')}`)];
}

function headline(request: OffboardingRequest): string {
  const reason = request.plan.reason ? `\n*Reason:* ${escape(truncate(request.plan.reason, 1000))}` : '';
  const successor = request.plan.successor ? `\n*Successor:* ${escape(request.plan.successor)}` : '';
  return `Request \`${request.id}\` · requested by ${mention(request.requestedBy)} ${when(request.requestedAt)}${successor}${reason}`;
}

function timing(request: OffboardingRequest): string {
  if (request.plan.effectiveAt) return `Effective ${when(request.plan.effectiveAt)} (scheduled)`;
  return 'Effective as soon as it is approved';
}

export function decisionLine(request: OffboardingRequest): string | undefined {
  if (!request.decidedBy) return undefined;
  const note = request.decisionNote ? `: ${escape(truncate(request.decisionNote, 1000))}` : '';
  switch (request.state) {
    case 'rejected':
      return `⛔ Rejected by ${mention(request.decidedBy)} ${when(request.decidedAt)}${note}`;
    case 'cancelled':
      return `⊘ Cancelled by ${mention(request.decidedBy)} ${when(request.decidedAt)}${note}`;
    default:
      return `👍 Approved by ${mention(request.decidedBy)} ${when(request.decidedAt)}`;
  }
}

/** The message in the approvals channel, for every state the request goes through. */
export function requestMessage(request: OffboardingRequest, options: { approvers: readonly string[] }): MessageContent {
  const pending = request.state === 'pending_approval';
  const blocks: types.KnownBlock[] = [
    header(`Offboarding: ${request.mailbox}`),
    section(headline(request)),
    ...planSection(request, !pending),
    context(escape(timing(request))),
  ];
  if (pending) {
    const approvers = options.approvers.filter((a) => a !== request.requestedBy).map(mention);
    if (approvers.length) blocks.push(context(truncate(`Approvers: ${approvers.join(' ')}`, LIMITS.contextText)));
    const steps = request.steps.length;
    blocks.push({
      type: 'actions',
      block_id: BLOCK.decision,
      elements: [
        button('Approve', ACTION.approve, request.id, 'primary', {
          title: { type: 'plain_text', text: 'Approve this offboarding?' },
          text: { type: 'mrkdwn', text: truncate(`${steps} step${steps === 1 ? '' : 's'} will run against ${escape(request.mailbox)}.`, LIMITS.confirmText) },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Not yet' },
        }),
        button('Reject', ACTION.reject, request.id, 'danger'),
      ],
    });
  } else {
    const decided = decisionLine(request);
    const state = `${STATE_MARK[request.state]} *${STATE_LABEL[request.state]}*${request.state === 'scheduled' && request.nextDueAt ? ` until ${when(request.nextDueAt)}` : ''}`;
    blocks.push(section([decided, state].filter(Boolean).join('\n')));
  }
  const mentions = pending ? options.approvers.filter((a) => a !== request.requestedBy).map(mention).join(' ') : '';
  const text = pending
    ? `Offboarding ${request.mailbox} (${request.id}) needs approval ${mentions}`
    : `Offboarding ${request.mailbox} (${request.id}): ${STATE_LABEL[request.state]}`;
  return { text: fallback(text), blocks };
}

/** `/offboard status <id>`: the request and where each step stands. */
export function statusMessage(request: OffboardingRequest): MessageContent {
  const blocks: types.KnownBlock[] = [
    header(`${STATE_MARK[request.state]} ${request.mailbox}: ${STATE_LABEL[request.state]}`),
    section(headline(request)),
    ...planSection(request, true),
  ];
  const decided = decisionLine(request);
  if (decided) blocks.push(context(decided));
  if (request.nextDueAt) blocks.push(context(`Next due ${when(request.nextDueAt)}`));
  if (request.backup) {
    const m = request.backup.manifest;
    blocks.push(context(escape(`Backup: ${m.totalMessages} messages in ${m.folders.length} folders, verified ${m.verifiedAt ? 'yes' : 'no'}, in ${request.backup.directory}`)));
  }
  return { text: fallback(`${request.id} ${request.mailbox}: ${STATE_LABEL[request.state]}`), blocks };
}
