/**
 * The Home tab, `/offboard help`, `/offboard list` and the reject modal. Pure.
 */
import type { types } from '@slack/bolt';
import type { OffboardingRequest } from '../../core/offboarding/model.js';
import { ACTION, BLOCK, CALLBACK, inputAction } from '../ids.js';
import { LIMITS, truncate } from './limits.js';
import type { MessageContent } from './request-message.js';
import { button, context, escape, fallback, header, mention, plain, requestLine, section } from './text.js';

const ACTIVE = new Set(['approved', 'scheduled', 'running', 'awaiting_manual', 'failed']);
const FINISHED = new Set(['completed', 'rejected', 'cancelled']);

/** How many requests of each kind the Home tab lists (each takes up to 2 blocks; 100 in all). */
export const HOME_LIST_MAX = { pending: 15, active: 15, recent: 10 } as const;

function listBlocks(requests: OffboardingRequest[], max: number, withButtons: boolean): types.KnownBlock[] {
  const blocks: types.KnownBlock[] = [];
  for (const request of requests.slice(0, max)) {
    const reason = request.plan.reason ? `\n_${escape(truncate(request.plan.reason, 200))}_` : '';
    blocks.push(section(`${requestLine(request)}${reason}`));
    if (withButtons) {
      blocks.push({
        type: 'actions',
        elements: [button('Approve', ACTION.approve, request.id, 'primary'), button('Reject', ACTION.reject, request.id, 'danger')],
      });
    }
  }
  if (requests.length > max) blocks.push(context(`…and ${requests.length - max} more. \`/offboard list\` shows them all.`));
  if (requests.length === 0) blocks.push(context('_None._'));
  return blocks;
}

export function homeView(options: { userId: string; isApprover: boolean; requests: OffboardingRequest[] }): types.HomeView {
  const { userId, isApprover, requests } = options;
  const blocks: types.KnownBlock[] = [header('Postmaster'), context('Offboard a mailbox with `/offboard alice`. `/offboard help` lists everything.')];
  if (isApprover) {
    const pending = requests.filter((r) => r.state === 'pending_approval' && r.requestedBy !== userId);
    blocks.push({ type: 'divider' }, section('*Waiting for your approval*'), ...listBlocks(pending, HOME_LIST_MAX.pending, true));
  }
  const mine = isApprover ? [] : requests.filter((r) => r.state === 'pending_approval' && r.requestedBy === userId);
  if (mine.length) blocks.push({ type: 'divider' }, section('*Your requests waiting for approval*'), ...listBlocks(mine, HOME_LIST_MAX.pending, false));
  blocks.push({ type: 'divider' }, section('*Running and scheduled*'), ...listBlocks(requests.filter((r) => ACTIVE.has(r.state)), HOME_LIST_MAX.active, false));
  blocks.push({ type: 'divider' }, section('*Recent results*'), ...listBlocks(requests.filter((r) => FINISHED.has(r.state)), HOME_LIST_MAX.recent, false));
  return { type: 'home', blocks };
}

export function helpMessage(domain: string): MessageContent {
  const d = escape(domain);
  return {
    text: 'How to use /offboard',
    blocks: [
      section(
        [
          '*`/offboard alice`* — offboard a mailbox: a form opens with its current state, then the request goes to an approver.',
          `   Also \`/offboard alice@${d}\` or \`/offboard @alice\` (the Slack user's profile email).`,
          '*`/offboard status <id>`* — where a request stands, step by step.',
          '*`/offboard list`* — recent requests.',
          '*`/offboard help`* — this message.',
        ].join('\n'),
      ),
      context('Someone other than the requester, listed in POSTMASTER_APPROVERS, must approve. Progress appears in the request\'s thread.'),
    ],
  };
}

export function listMessage(requests: OffboardingRequest[]): MessageContent {
  const max = 40;
  const blocks: types.KnownBlock[] = [section(`*Offboarding requests* (${requests.length})`)];
  for (const request of requests.slice(0, max)) blocks.push(section(requestLine(request)));
  if (requests.length > max) blocks.push(context(`…and ${requests.length - max} older ones. \`postmaster list\` shows every request.`));
  if (requests.length === 0) blocks.push(context('_No requests yet._'));
  return { text: fallback(`${requests.length} offboarding requests`), blocks };
}

/** One line, ephemeral: what was refused and what to do instead. */
export function noticeMessage(text: string): MessageContent {
  return { text: fallback(text), blocks: [section(escape(text))] };
}

export function rejectModal(request: OffboardingRequest): types.ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.reject,
    // Only the id: the reject use-case reloads the request and checks who may reject it.
    private_metadata: request.id,
    title: plain('Reject request', LIMITS.modalTitle),
    submit: plain('Reject', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks: [
      section(`Reject \`${request.id}\`: offboarding of *${escape(request.mailbox)}* requested by ${mention(request.requestedBy)}?`),
      {
        type: 'input',
        block_id: BLOCK.rejectReason,
        label: plain('Reason (the requester sees it)', LIMITS.inputLabel),
        element: { type: 'plain_text_input', action_id: inputAction(BLOCK.rejectReason), multiline: true, max_length: 1000 },
      },
    ],
  };
}
