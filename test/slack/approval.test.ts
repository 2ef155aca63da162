/**
 * Approve, Reject, Retry and Mark done over HTTP against the real Bolt app and the real core:
 * refusals change nothing and reach only the clicker; a double click runs once; the thread and
 * the audit channel follow the run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider } from '../support/slack-fake-provider.js';
import { APPROVALS, AUDIT, startSlackHarness, type SlackHarness } from '../support/slack-harness.js';
import type { OffboardingRequest } from '../../src/core/offboarding/model.js';
import type { Capability } from '../../src/core/provider.js';

const ADDRESSES = ['alice@example.test', 'bob@example.test', 'carol@example.test'];

interface Filed {
  request: OffboardingRequest;
  ts: string;
}

/** Files a request the way a person does: /offboard, fill the modal, submit. */
async function fileRequest(h: SlackHarness, user: string, values: Record<string, unknown> = { targets: 'bob@example.test', reason: 'left' }): Promise<Filed> {
  const view = await h.openForm(user, 'alice');
  const sent = await h.sender.submit(user, view, values);
  expect(sent.json?.response_action).toBe('update');
  const posted = await h.api.waitForCall('chat.postMessage', (a) => a.channel === APPROVALS);
  const [request] = await h.postmaster.offboarding.list();
  await expect.poll(() => h.postmaster.store.collection('slack-messages').get(request!.id)).toBeTruthy();
  return { request: request!, ts: posted.response!.ts };
}

const approveClick = (h: SlackHarness, user: string, filed: Filed, value = filed.request.id) =>
  h.sender.click(user, { actionId: 'approve_request', value, channel: APPROVALS, messageTs: filed.ts, blockId: 'decision' });

const text = (value: unknown) => JSON.stringify(value);

describe('approving from Slack', () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const start = async (options: { without?: Capability[] } = {}) => {
    const provider = new FakeProvider(ADDRESSES, options);
    h = await startSlackHarness({ provider });
    return { h, provider };
  };

  /** Nothing changed: same request record, no message edited, no mail system change, one refusal audited. */
  async function expectNothingChanged(h: SlackHarness, provider: FakeProvider, before: OffboardingRequest, auditBefore: number, action: string) {
    expect(await h.postmaster.offboarding.get(before.id)).toEqual(before);
    expect(h.api.callsTo('chat.update')).toHaveLength(0);
    expect(provider.changes).toEqual([]);
    const { entries } = await h.postmaster.audit.read();
    expect(entries.slice(auditBefore).map((e) => [e.action, e.result])).toEqual([[action, 'refused']]);
  }

  it('refuses self-approval: an ephemeral to the requester, and nothing changes', async () => {
    const { h, provider } = await start();
    const filed = await fileRequest(h, 'U2'); // U2 is an approver, and the requester here
    const before = await h.postmaster.offboarding.get(filed.request.id);
    const auditBefore = (await h.postmaster.audit.read()).entries.length;
    expect((await approveClick(h, 'U2', filed)).status).toBe(200);
    const ephemeral = await h.api.waitForCall('chat.postEphemeral');
    expect(ephemeral.args).toMatchObject({ channel: APPROVALS, user: 'U2' });
    expect(ephemeral.args.text).toMatch(/Not approved: U2 requested ob-\w+ and cannot approve it too/);
    await h.slack.idle();
    await expectNothingChanged(h, provider, before, auditBefore, 'refused.approve');
  });

  it('refuses a non-approver: an ephemeral to the clicker, and nothing changes', async () => {
    const { h, provider } = await start();
    const filed = await fileRequest(h, 'U1');
    const before = await h.postmaster.offboarding.get(filed.request.id);
    const auditBefore = (await h.postmaster.audit.read()).entries.length;
    await approveClick(h, 'U9', filed);
    const ephemeral = await h.api.waitForCall('chat.postEphemeral');
    expect(ephemeral.args.user).toBe('U9');
    expect(ephemeral.args.text).toMatch(/U9 is not an approver/);
    await h.slack.idle();
    await expectNothingChanged(h, provider, before, auditBefore, 'refused.approve');
  });

  it('ignores a tampered button value: only a stored request id means anything', async () => {
    const { h, provider } = await start();
    const filed = await fileRequest(h, 'U1');
    const before = await h.postmaster.offboarding.get(filed.request.id);
    const forged = JSON.stringify({ id: filed.request.id, plan: { mailbox: 'bob@example.test', deleteAfterDays: 1 } });
    await approveClick(h, 'U2', filed, forged);
    const ephemeral = await h.api.waitForCall('chat.postEphemeral');
    expect(ephemeral.args.text).toMatch(/Not approved: no request/);
    await h.slack.idle();
    expect(await h.postmaster.offboarding.get(filed.request.id)).toEqual(before);
    expect(provider.changes).toEqual([]);
  });

  it('runs once when two approvers click at the same moment', async () => {
    const { h, provider } = await start();
    const filed = await fileRequest(h, 'U1');
    const [a, b] = await Promise.all([approveClick(h, 'U2', filed), approveClick(h, 'U3', filed)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const ephemeral = await h.api.waitForCall('chat.postEphemeral');
    expect(ephemeral.args.text).toMatch(/already approved by U[23]/);
    await h.api.waitForCall('chat.postMessage', (x) => x.channel === AUDIT);
    await h.slack.idle();
    expect(provider.changes).toEqual(['export', 'setForwarding', 'setAutoReply', 'revokeSessions', 'disable']);
    const { entries } = await h.postmaster.audit.read();
    expect(entries.filter((e) => e.action === 'request.approved')).toHaveLength(1);
    expect(entries.filter((e) => e.action === 'run.completed')).toHaveLength(1);
    expect(h.api.callsTo('chat.postMessage').filter((c) => c.args.channel === AUDIT)).toHaveLength(1);
  });

  it('approves: the message names the approver and loses its buttons, the thread follows each step, the audit channel gets the summary', async () => {
    const { h } = await start();
    const filed = await fileRequest(h, 'U1');
    await approveClick(h, 'U2', filed);
    const summary = await h.api.waitForCall('chat.postMessage', (a) => a.channel === AUDIT);
    await h.slack.idle();

    const first = h.api.callsTo('chat.update').find((c) => c.args.ts === filed.ts)!;
    expect(text(first.args.blocks)).toContain('Approved by <@U2>');
    const message = h.api.messages.get(`${APPROVALS}:${filed.ts}`)!;
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(text(message.blocks)).toContain('completed');

    const thread = h.api.messagesIn(APPROVALS, filed.ts);
    const lines = thread.map((m) => text(m.blocks));
    expect(lines[0]).toContain('✓ *Backup* — exported 12,408 messages in 1 folder, 1.9 GB, verified');
    expect(lines.some((l) => l.includes('✓ *Forward* — forwarding new mail to bob@example.test'))).toBe(true);
    expect(lines.some((l) => l.includes('✓ *Disable login*'))).toBe(true);
    expect(lines.at(-1)).toContain('completed');
    // Each step's message was posted when it started and edited when it ended.
    const backupTs = thread[0]!.ts;
    const edits = h.api.callsTo('chat.update').filter((c) => c.args.ts === backupTs);
    expect(edits.length).toBeGreaterThanOrEqual(1);
    expect(text(h.api.callsTo('chat.postMessage').find((c) => c.response?.ts === backupTs)!.args.blocks)).toContain('⏳ *Backup* started');

    const body = text(summary.args.blocks);
    expect(body).toContain('Requested by*\\n<@U1>');
    expect(body).toContain('Approved by*\\n<@U2>');
    expect(body).toContain('Backup manifest*: 12,408 messages in 1 folder, 1.9 GB');
    expect(body).toContain('✓ *End sessions* — ended 1 live session');
  });

  it('throttles export progress to one edit per interval, and a rate-limited edit does not stop the run', async () => {
    const provider = new FakeProvider(ADDRESSES);
    provider.exportSteps = 40;
    provider.exportStepMs = 10;
    h = await startSlackHarness({ provider, progressIntervalMs: 100 });
    const filed = await fileRequest(h, 'U1');
    h.api.rateLimit('chat.update', 1, 1);
    await approveClick(h, 'U2', filed);
    await h.api.waitForCall('chat.postMessage', (a) => a.channel === AUDIT, 1, 20_000);
    await h.slack.idle();
    const backupTs = h.api.messagesIn(APPROVALS, filed.ts)[0]!.ts;
    const progressEdits = h.api.callsTo('chat.update').filter((c) => c.args.ts === backupTs && text(c.args.blocks).includes('folder 1 of 1'));
    expect(progressEdits.length).toBeGreaterThanOrEqual(1);
    expect(progressEdits.length).toBeLessThan(10); // 40 progress events in ~400 ms
    expect(h.api.callsTo('chat.update').filter((c) => c.result === 'ratelimited')).toHaveLength(1);
    expect((await h.postmaster.offboarding.get(filed.request.id)).state).toBe('completed');
  });

  it('shows Retry on a failed step; Retry resumes there and the audit channel hears both ends', async () => {
    const { h, provider } = await start();
    provider.failures.setForwarding = 1;
    const filed = await fileRequest(h, 'U1');
    await approveClick(h, 'U2', filed);
    await h.api.waitForCall('chat.postMessage', (a) => a.channel === AUDIT);
    await h.slack.idle();
    const failed = h.api.messagesIn(APPROVALS, filed.ts).find((m) => text(m.blocks).includes('✗ *Forward* failed'))!;
    const retry = failed.blocks.find((b) => b.type === 'actions').elements[0];
    expect([retry.text.text, retry.value]).toEqual(['Retry', filed.request.id]);

    // Someone outside the request may not retry it.
    await h.sender.click('U9', { actionId: 'retry_run', value: filed.request.id, channel: APPROVALS, messageTs: failed.ts });
    expect((await h.api.waitForCall('chat.postEphemeral')).args.text).toMatch(/Not retried: U9 may not retry/);

    await h.sender.click('U1', { actionId: 'retry_run', value: filed.request.id, channel: APPROVALS, messageTs: failed.ts });
    await h.api.waitForCall('chat.postMessage', (a) => a.channel === AUDIT, 2);
    await h.slack.idle();
    expect(provider.changes).toEqual(['export', 'setForwarding', 'setForwarding', 'setAutoReply', 'revokeSessions', 'disable']);
    const forward = h.api.messages.get(`${APPROVALS}:${failed.ts}`)!;
    expect(text(forward.blocks)).toContain('✓ *Forward*');
    expect(forward.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('shows a manual task with Mark done; marking it done lets the run finish', async () => {
    const { h, provider } = await start({ without: ['setForwarding'] });
    const filed = await fileRequest(h, 'U1');
    await approveClick(h, 'U2', filed);
    const manual = await h.api.waitFor(() => h.api.messagesIn(APPROVALS, filed.ts).find((m) => text(m.blocks).includes('manual task')), 'the manual task');
    await h.slack.idle();
    expect(text(manual.blocks)).toContain('In the admin console, do \\"setForwarding\\" for alice@example.test');
    const button = manual.blocks.find((b) => b.type === 'actions').elements[0];
    expect([button.text.text, button.value]).toEqual(['Mark done', filed.request.id]);
    expect((await h.postmaster.offboarding.get(filed.request.id)).state).toBe('awaiting_manual');

    await h.sender.click('U3', { actionId: 'mark_step_done', value: filed.request.id, channel: APPROVALS, messageTs: manual.ts });
    await h.api.waitForCall('chat.postMessage', (a) => a.channel === AUDIT);
    await h.slack.idle();
    expect((await h.postmaster.offboarding.get(filed.request.id)).state).toBe('completed');
    expect(provider.changes).toEqual(['export', 'setAutoReply', 'revokeSessions', 'disable']);
    const marked = h.api.messages.get(`${APPROVALS}:${manual.ts}`)!;
    expect(text(marked.blocks)).toContain('Marked done by <@U3>');
  });

  it('schedules a request with a future effective date instead of running it', async () => {
    const { h, provider } = await start();
    const filed = await fileRequest(h, 'U1', { targets: 'bob', effective: Math.floor(Date.now() / 1000) + 86_400 });
    await approveClick(h, 'U2', filed);
    await h.api.waitForCall('chat.update', (a) => a.ts === filed.ts);
    await h.slack.idle();
    expect((await h.postmaster.offboarding.get(filed.request.id)).state).toBe('scheduled');
    expect(text(h.api.messages.get(`${APPROVALS}:${filed.ts}`)!.blocks)).toContain('scheduled');
    expect(provider.changes).toEqual([]);
  });
});

describe('rejecting from Slack', () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('opens a modal for the reason, rejects, updates the message and tells the requester', async () => {
    h = await startSlackHarness({ provider: new FakeProvider(ADDRESSES) });
    const filed = await fileRequest(h, 'U1');
    await h.sender.click('U3', { actionId: 'reject_request', value: filed.request.id, channel: APPROVALS, messageTs: filed.ts });
    const opened = await h.api.waitForCall('views.open', (a) => a.view.callback_id === 'reject_submit');
    const modal = h.view(opened.response!.view.id);
    expect(modal.view.private_metadata).toBe(filed.request.id);

    // A non-approver who is not the requester cannot reject: the error shows on the reason field.
    const refused = await h.sender.submit('U9', modal, { reject_reason: 'no' });
    expect(refused.json).toMatchObject({ response_action: 'errors', errors: { reject_reason: expect.stringMatching(/U9 may not reject/) } });
    expect((await h.postmaster.offboarding.get(filed.request.id)).state).toBe('pending_approval');

    const sent = await h.sender.submit('U3', modal, { reject_reason: 'Wrong mailbox <!here>' });
    expect(sent.status).toBe(200);
    expect(sent.text).toBe('');
    await h.api.waitForCall('chat.postMessage', (a) => a.channel === 'DU1');
    await h.slack.idle();
    const rejected = await h.postmaster.offboarding.get(filed.request.id);
    expect(rejected).toMatchObject({ state: 'rejected', decidedBy: 'U3', decisionNote: 'Wrong mailbox <!here>' });
    const message = h.api.messages.get(`${APPROVALS}:${filed.ts}`)!;
    expect(text(message.blocks)).toContain('Rejected by <@U3>');
    expect(text(message.blocks)).toContain('Wrong mailbox &lt;!here&gt;');
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    const dm = h.api.callsTo('chat.postMessage').find((c) => c.args.channel === 'DU1')!;
    expect(dm.args.text).toContain(`${filed.request.id} to offboard alice@example.test was rejected`);
  });
});

describe('the Home tab', () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('shows approvers what waits for them, with buttons that work from the Home tab', async () => {
    h = await startSlackHarness({ provider: new FakeProvider(ADDRESSES) });
    const filed = await fileRequest(h, 'U1');
    await h.sender.event({ type: 'app_home_opened', user: 'U2', channel: 'DU2', tab: 'home' });
    const published = await h.api.waitForCall('views.publish', (a) => a.user_id === 'U2');
    expect(text(published.args.view.blocks)).toContain('Waiting for your approval');
    expect(text(published.args.view.blocks)).toContain(filed.request.id);

    await h.sender.event({ type: 'app_home_opened', user: 'U1', channel: 'DU1', tab: 'home' });
    const mine = await h.api.waitForCall('views.publish', (a) => a.user_id === 'U1');
    expect(text(mine.args.view.blocks)).not.toContain('approve_request');
    expect(text(mine.args.view.blocks)).toContain('Your requests waiting for approval');

    await h.sender.click('U2', { actionId: 'approve_request', value: filed.request.id, home: true });
    await h.api.waitForCall('chat.postMessage', (a) => a.channel === AUDIT);
    await h.slack.idle();
    expect(text(h.api.messages.get(`${APPROVALS}:${filed.ts}`)!.blocks)).toContain('Approved by <@U2>');
    expect(h.api.callsTo('views.publish').filter((c) => c.args.user_id === 'U2').length).toBe(2);
  });
});
