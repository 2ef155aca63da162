/**
 * The whole flow as people do it in Slack, over HTTP with signed requests, against the real core,
 * a real SQLite file and a real Dovecot: /offboard @alice, the modal loading then showing the
 * mailbox, submit, the approval message, a refused self-approval, Approve by a second person, the
 * run against Dovecot, its thread, and the summary in the audit channel.
 */
import { access, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasDovecot, useMailServer } from '../support/mail-server.js';
import { testEnv, testPostmaster } from '../support/postmaster.js';
import { sieveScripts, tryImapLogin } from '../support/mail-checks.js';
import { APPROVALS, AUDIT, startSlackHarness, type SlackHarness } from '../support/slack-harness.js';
import { deliverLmtp } from '../../src/sandbox/lmtp.js';

const text = (value: unknown) => JSON.stringify(value);

describe.skipIf(!hasDovecot)('the whole flow in Slack, against a real Dovecot', () => {
  const server = useMailServer();
  let env: Record<string, string>;
  let h: SlackHarness | undefined;

  beforeAll(async () => {
    const storeDir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-slack-flow-'));
    env = testEnv(server, storeDir);
    for (let i = 0; i < 3; i++) await deliverLmtp(server.dovecot.ports.lmtp, { from: `sender${i}@outside.test`, to: 'alice@example.test', subject: `hello ${i}` });
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('command, modal, submit, approval, run, thread and audit summary', async () => {
    h = await startSlackHarness({ postmaster: await testPostmaster(env) });
    const { api, sender } = h;
    api.addUser({ id: 'UALICE', name: 'alice', email: 'alice@example.test' });

    // 1. /offboard @alice: the ack, the loading modal, then the mailbox as Dovecot sees it.
    const view = await h.openForm('U1', '<@UALICE|alice>');
    expect(text(api.callsTo('views.open')[0]!.args.view)).toContain('Looking up');
    const state = text(view.view.blocks[0]);
    expect(state).toContain('alice@example.test');
    expect(state).toContain('active');
    expect(state).toMatch(/3 messages/);

    // 2. Submit the plan.
    const submitted = await sender.submit('U1', view, { successor: 'bob@example.test', targets: 'bob@example.test', reason: 'Left on 31 Dec' });
    expect(submitted.json.response_action).toBe('update');
    const posted = await api.waitForCall('chat.postMessage', (a) => a.channel === APPROVALS);
    const requestTs = posted.response!.ts as string;
    const [request] = await h.postmaster.offboarding.list();
    expect(request).toMatchObject({ mailbox: 'alice@example.test', state: 'pending_approval', requestedBy: 'U1' });
    const buttons = posted.args.blocks.flatMap((b: any) => (b.type === 'actions' ? b.elements : []));
    expect(buttons.map((b: any) => b.value)).toEqual([request!.id, request!.id]);
    expect(text(posted.args.blocks)).toContain('Forward new mail to bob@example.test, keeping a copy');
    await api.waitFor(() => api.responsePosts.find((p) => text(p.body).includes(request!.id)), 'the confirmation');

    // 3. The requester cannot approve their own request.
    await sender.click('U1', { actionId: 'approve_request', value: request!.id, channel: APPROVALS, messageTs: requestTs });
    expect((await api.waitForCall('chat.postEphemeral')).args.text).toMatch(/Not approved/);
    expect((await h.postmaster.offboarding.get(request!.id)).state).toBe('pending_approval');

    // 4. A second person approves; the run goes against Dovecot.
    await sender.click('U2', { actionId: 'approve_request', value: request!.id, channel: APPROVALS, messageTs: requestTs });
    const summary = await api.waitForCall('chat.postMessage', (a) => a.channel === AUDIT, 1, 60_000);
    await h.slack.idle();

    const done = await h.postmaster.offboarding.get(request!.id);
    expect(done.state).toBe('completed');
    expect(done.decidedBy).toBe('U2');
    expect(text(api.messages.get(`${APPROVALS}:${requestTs}`)!.blocks)).toContain('Approved by <@U2>');

    // The thread: one message per step, each ending with ✓ and its figure, then the run's end.
    const thread = api.messagesIn(APPROVALS, requestTs).map((m) => text(m.blocks));
    expect(thread[0]).toMatch(/✓ \*Backup\* — exported 3 messages in \d+ folders?, [\d.]+ KB, verified/);
    expect(thread.some((t) => t.includes('✓ *Forward* — forwarding new mail to bob@example.test, keeping a copy'))).toBe(true);
    expect(thread.some((t) => t.includes('✓ *Auto-reply* — auto-reply on until'))).toBe(true);
    expect(thread.some((t) => t.includes('✓ *End sessions*'))).toBe(true);
    expect(thread.some((t) => t.includes('✓ *Disable login* — login disabled'))).toBe(true);
    expect(thread.at(-1)).toContain('completed');

    // The audit channel: who asked, who approved, each step, the backup manifest.
    const body = text(summary.args.blocks);
    expect(body).toContain('Requested by*\\n<@U1>');
    expect(body).toContain('Approved by*\\n<@U2>');
    expect(body).toMatch(/Backup manifest\*: 3 messages in \d+ folders?/);
    expect(body).toContain('INBOX: 3 messages');

    // What Dovecot says: login refused, Postmaster's Sieve script active, the backup on disk.
    expect(await tryImapLogin(server.dovecot, 'alice@example.test', 'alice-pass')).not.toBe('ok');
    expect((await sieveScripts(server.dovecot, 'alice@example.test')).some((s) => s.active === 'ACTIVE' || s.active === 'true' || s.active === '1')).toBe(true);
    await access(path.join(done.backup!.directory, 'manifest.json'));
    const manifest = JSON.parse(await readFile(path.join(done.backup!.directory, 'manifest.json'), 'utf8'));
    expect(manifest.totalMessages).toBe(3);

    const actions = (await h.postmaster.audit.read()).entries.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['request.created', 'refused.approve', 'request.approved', 'step.done', 'run.completed']));
  }, 120_000);
});
