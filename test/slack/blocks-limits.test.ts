/**
 * Every message and view the Slack front end builds stays within Slack's limits (shared/stack.md),
 * checked on worst-case input: 5 long targets, a 200-character mailbox, long reasons, errors and
 * instructions, hundreds of folders, hundreds of requests on the Home tab.
 */
import { describe, expect, it } from 'vitest';
import type { OffboardingRequest, RequestState, Step, StepStatus } from '../../src/core/offboarding/model.js';
import { STEP_NAMES } from '../../src/core/offboarding/model.js';
import type { Mailbox } from '../../src/core/mailbox.js';
import { LIMITS, limitViolations, truncate } from '../../src/slack/blocks/limits.js';
import {
  checkingModal,
  defaultFormValues,
  errorModal,
  loadingModal,
  offboardModal,
  submittedModal,
} from '../../src/slack/blocks/offboard-modal.js';
import { requestMessage, statusMessage } from '../../src/slack/blocks/request-message.js';
import { auditSummary, runEndMessage, stepMessage } from '../../src/slack/blocks/thread.js';
import { helpMessage, homeView, listMessage, noticeMessage, rejectModal } from '../../src/slack/blocks/home.js';
import { defaultAutoReply } from '../../src/core/offboarding/auto-reply-template.js';

const long = (n: number, seed = 'x') => seed.repeat(Math.ceil(n / seed.length)).slice(0, n);
// Addresses at their longest: a 64-character local part is the RFC limit, but nothing upstream
// enforces it, so the builders are held to 200.
const address = (local: string) => `${local}${long(200 - local.length - '@example.test'.length, 'q')}@example.test`;
const MAILBOX = address('alice');
const TARGETS = ['b', 'c', 'd', 'e', 'f'].map(address);
const STATES: RequestState[] = ['pending_approval', 'approved', 'scheduled', 'running', 'awaiting_manual', 'completed', 'failed', 'rejected', 'cancelled'];
const STATUSES: StepStatus[] = ['pending', 'running', 'done', 'failed', 'awaiting_manual', 'waiting'];

function worstRequest(state: RequestState, id = 'ob-abcdefghjkmnpqrs'): OffboardingRequest {
  const steps: Step[] = STEP_NAMES.map((name, i) => ({
    name,
    mode: i % 2 ? 'manual' : 'automatic',
    status: STATUSES[i % STATUSES.length]!,
    attempts: 7,
    startedAt: '2027-01-01T00:00:00.000Z',
    endedAt: '2027-01-01T01:00:00.000Z',
    summary: long(5000, 'summary <!channel> & '),
    error: long(5000, 'error <@U1> '),
    instructions: long(5000, 'do this by hand & then that; '),
    doneBy: 'U0123456789',
    dueAt: '2027-03-01T00:00:00.000Z',
  }));
  return {
    id,
    mailbox: MAILBOX,
    plan: {
      mailbox: MAILBOX,
      successor: TARGETS[0],
      backup: true,
      forward: { targets: TARGETS, keepCopy: true, expiresAt: '2027-04-01' },
      autoReply: { subject: long(200, 'S'), body: long(10_000, '正文 body '), startDate: '2027-01-01', endDate: '2027-04-01' },
      revokeSessions: true,
      disable: true,
      deleteAfterDays: 3650,
      effectiveAt: '2027-01-01T09:00:00.000Z',
      reason: long(5000, 'reason <!here> & more '),
    },
    state,
    requestedBy: 'U0123456789',
    requestedAt: '2026-12-31T10:00:00.000Z',
    decidedBy: 'UABCDEFGHIJ',
    decidedAt: '2026-12-31T11:00:00.000Z',
    decisionNote: long(5000, 'note '),
    steps,
    nextDueAt: '2027-03-01T00:00:00.000Z',
    backup: {
      directory: `/var/lib/postmaster/backups/${MAILBOX}/${id}/${long(2000, 'd/')}`,
      manifest: {
        mailbox: MAILBOX,
        runId: id,
        createdAt: '2027-01-01T00:00:00.000Z',
        verifiedAt: '2027-01-01T00:30:00.000Z',
        totalMessages: 123_456_789,
        totalBytes: 9_876_543_210_123,
        folders: Array.from({ length: 500 }, (_, i) => ({ name: `${long(300, 'Folder/')}${i}`, file: `f${i}.mbox`, messages: 1_000_000 + i, bytes: 5_000_000_000, sha256: 'f'.repeat(64) })),
      },
    },
    version: 42,
    updatedAt: '2027-01-01T01:00:00.000Z',
  };
}

const worstMailbox: Mailbox = {
  address: MAILBOX,
  status: 'disabled',
  displayName: long(500, 'Name '),
  forwarding: { targets: TARGETS, keepCopy: false, managed: false, expiresAt: '2027-01-01' },
  autoReply: { subject: long(200), body: long(10_000), endDate: '2027-01-01' },
  messages: 123_456_789,
  bytes: 9_876_543_210_123,
};

const within = (surface: Parameters<typeof limitViolations>[0]) => expect(limitViolations(surface)).toEqual([]);

describe('every builder stays within Slack limits on worst-case input', () => {
  it('the /offboard modal and its other views', () => {
    const values = {
      ...defaultFormValues({ successor: TARGETS[0], until: '2027-04-01', template: defaultAutoReply({ successor: TARGETS[0] }) }),
      targets: long(5000, `${TARGETS[1]}\n`),
      autoReplySubject: long(500),
      autoReplyBody: long(20_000),
      reason: long(5000),
      effectiveAt: 1_800_000_000,
      deleteAfterDays: '3650',
    };
    const meta = { mailbox: MAILBOX, responseUrl: `https://hooks.slack.com/commands/T1/${long(2900, '1')}`, templateFor: TARGETS[0]!, templateUntil: '2027-04-01', arv: 99 };
    within({ kind: 'modal', view: offboardModal({ mailbox: worstMailbox, values, meta, error: long(5000, 'error <!channel> ') }) });
    within({ kind: 'modal', view: offboardModal({ mailbox: { address: 'a@example.test', status: 'active' }, values: defaultFormValues({ until: '2027-01-01', template: defaultAutoReply({}) }), meta: { mailbox: 'a@example.test', templateFor: '', arv: 0 } }) });
    within({ kind: 'modal', view: loadingModal(long(5000)) });
    within({ kind: 'modal', view: errorModal(long(5000), long(5000)) });
    within({ kind: 'modal', view: checkingModal(MAILBOX) });
    within({ kind: 'modal', view: submittedModal(worstRequest('pending_approval')) });
    within({ kind: 'modal', view: rejectModal(worstRequest('pending_approval')) });
  });

  it.each(STATES)('the request message and status when %s', (state) => {
    const approvers = Array.from({ length: 300 }, (_, i) => `U${String(i).padStart(10, '0')}`);
    within({ kind: 'message', ...requestMessage(worstRequest(state), { approvers }) });
    within({ kind: 'message', ...statusMessage(worstRequest(state)) });
    within({ kind: 'message', ...runEndMessage(worstRequest(state)) });
    within({ kind: 'message', ...auditSummary(worstRequest(state)) });
  });

  it.each(STATUSES)('the thread message of a step that is %s', (status) => {
    const request = worstRequest('running');
    for (const step of request.steps) {
      const progress = { folder: long(2000, 'INBOX/'), folderIndex: 999, folderCount: 1000, messagesDone: 123_456_789, messagesTotal: 123_456_789, bytesDone: 9_876_543_210_123 };
      within({ kind: 'message', ...stepMessage(request, { ...step, status }, progress) });
    }
  });

  it('the Home tab with hundreds of requests, for approvers and others', () => {
    const requests = Array.from({ length: 400 }, (_, i) => worstRequest(STATES[i % STATES.length]!, `ob-${String(i).padStart(16, '0')}`));
    within({ kind: 'home', view: homeView({ userId: 'UOTHER', isApprover: true, requests }) });
    within({ kind: 'home', view: homeView({ userId: 'U0123456789', isApprover: false, requests }) });
    within({ kind: 'home', view: homeView({ userId: 'U0123456789', isApprover: true, requests: [] }) });
    within({ kind: 'message', ...listMessage(requests) });
    within({ kind: 'message', ...listMessage([]) });
  });

  it('help and notices', () => {
    within({ kind: 'message', ...helpMessage(long(300, 'example.') + 'test') });
    within({ kind: 'message', ...noticeMessage(long(10_000, 'refused <!channel> ')) });
  });

  it('buttons carry only the request id', () => {
    const request = worstRequest('pending_approval');
    const values = requestMessage(request, { approvers: ['U2'] }).blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => (e as { value?: string }).value) : []));
    expect(values).toEqual([request.id, request.id]);
  });
});

describe('the limit checker itself', () => {
  it('catches what Slack would refuse', () => {
    const blocks = Array.from({ length: 51 }, () => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'x' } }));
    expect(limitViolations({ kind: 'message', text: 'x', blocks })).toContain('message: 51 blocks > 50');
    expect(limitViolations({ kind: 'modal', view: { type: 'modal', title: { type: 'plain_text', text: long(25) }, blocks: [] } })).toContain('title: 25 > 24');
    const button = { type: 'actions' as const, elements: [{ type: 'button' as const, text: { type: 'plain_text' as const, text: 'x' }, action_id: 'a', value: long(2001) }] };
    expect(limitViolations({ kind: 'message', text: 'x', blocks: [button] })).toEqual(['block 0 (actions) element 0 value: 2001 > 2000']);
    expect(limitViolations({ kind: 'message', text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: long(3001) } }] })).toEqual(['block 0 (section) text: 3001 > 3000']);
  });

  it('truncates without splitting a surrogate pair', () => {
    expect(truncate('ab😀cd', 4)).toBe('ab…');
    expect(truncate('short', LIMITS.buttonText)).toBe('short');
  });
});
