/**
 * Slack on Alibaba Mail: the real Bolt app, the real core and the real Alibaba Mail provider against
 * the Open API contract server. The modal shows NORMAL/FREEZE, the approval message shows the
 * console steps for what the API cannot do, and "Mark done" carries the run through to the freeze.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { APPROVALS, AUDIT, startSlackHarness, type SlackHarness } from '../support/slack-harness.js';
import { startAlimailServer, type AlimailServer } from '../support/alimail-server.js';
import { AliyunProvider } from '../../src/providers/aliyun/provider.js';

const SECRET = 'slack-test-alimail-secret';
const text = (value: unknown) => JSON.stringify(value);

describe('Slack on Alibaba Mail', () => {
  let h: SlackHarness | undefined;
  let api: AlimailServer | undefined;
  const tokens: string[] = [];
  afterEach(async () => {
    await h?.close();
    await api?.close();
    h = api = undefined;
  });

  it('walks manual tasks with Mark done, records who did each, and freezes the account', async () => {
    api = await startAlimailServer({
      clientId: 'app',
      clientSecret: SECRET,
      users: ['alice', 'bob', 'carol'].map((n) => ({ email: `${n}@example.test`, departmentIds: ['$root'] })),
      onTokenIssued: (token) => tokens.push(token),
    });
    const provider = new AliyunProvider({ baseUrl: api.url, clientId: 'app', clientSecret: SECRET, requestsPerSecond: 40, imapUrl: 'imaps://127.0.0.1:1' });
    h = await startSlackHarness({ provider });

    const view = await h.openForm('U1', 'alice');
    expect(text(view.view.blocks)).toContain('active (NORMAL)');
    await h.sender.submit('U1', view, { targets: 'bob', steps: ['revoke', 'disable'], reason: 'left' });
    const posted = await h.api.waitForCall('chat.postMessage', (a) => a.channel === APPROVALS);
    const [request] = await h.postmaster.offboarding.list();
    expect(text(posted.args.blocks)).toContain('邮箱管理 → 选择目标邮箱 alice@example.test → 邮件转发');
    await expect.poll(() => h!.postmaster.store.collection('slack-messages').get(request!.id)).toBeTruthy();

    await h.sender.click('U2', { actionId: 'approve_request', value: request!.id, channel: APPROVALS, messageTs: posted.response!.ts, blockId: 'decision' });
    const markers: Array<[string, string]> = [['forward', 'U3'], ['auto_reply', 'U2'], ['revoke_sessions', 'U3']];
    for (const [step, who] of markers) {
      const waiting = await h.api.waitFor(
        () => h!.api.messagesIn(APPROVALS, posted.response!.ts).find((m) => text(m.blocks).includes('manual task') && m.blocks.some((b: { type: string }) => b.type === 'actions')),
        `the ${step} manual task`,
      );
      await h.slack.idle();
      expect((await h.postmaster.offboarding.get(request!.id)).steps.find((s) => s.status === 'awaiting_manual')?.name).toBe(step);
      await h.sender.click(who, { actionId: 'mark_step_done', value: request!.id, channel: APPROVALS, messageTs: waiting.ts });
      await h.api.waitFor(() => text(h!.api.messages.get(`${APPROVALS}:${waiting.ts}`)?.blocks).includes(`Marked done by <@${who}>`) || undefined, `${step} marked done`);
    }
    await h.api.waitForCall('chat.postMessage', (a) => a.channel === AUDIT);
    await h.slack.idle();

    const done = await h.postmaster.offboarding.get(request!.id);
    expect(done.state).toBe('completed');
    expect(done.steps.map((s) => [s.name, s.doneBy])).toEqual([['forward', 'U3'], ['auto_reply', 'U2'], ['revoke_sessions', 'U3'], ['disable', undefined]]);
    expect(api.user('alice@example.test')?.status).toBe('FREEZE');

    const everything = text([...h.api.calls.map((c) => c.args), h.logLines]);
    expect(tokens.length).toBeGreaterThan(0);
    for (const secret of [SECRET, ...tokens]) expect(everything.includes(secret)).toBe(false);
  });
});
