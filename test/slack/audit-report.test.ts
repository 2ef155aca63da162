/**
 * The forwarding audit report in Slack: the weekly post to the audit channel through the Web API
 * recorder with its CSV (files.uploadV2: getUploadURLExternal, the bytes, completeUploadExternal),
 * the "Remove forward" button (an approver removes; another requester's click becomes a request an
 * approver answers in the approvals channel; anyone else is refused), and the expiry notice. The
 * weekly report is also checked against a real Dovecot, where a user's own Sieve forward shows
 * without a button.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeProvider } from '../support/slack-fake-provider.js';
import { APPROVALS, AUDIT, startSlackHarness, type SlackHarness } from '../support/slack-harness.js';
import { hasDovecot, useMailServer } from '../support/mail-server.js';
import { testEnv, testPostmaster } from '../support/postmaster.js';
import { putUserScript } from '../support/mail-checks.js';
import { createSlackReporter } from '../../src/slack/audit-report.js';

const ADDRESSES = ['alice@example.test', 'bob@example.test', 'carol@example.test', 'dave@example.test'];
const CSV_HEADER = 'severity,kind,mailbox,targets,detail,free_mail';
const text = (value: unknown) => JSON.stringify(value);
const buttonsOf = (blocks: any[]) => blocks.flatMap((b: any) => [...(b.accessory ? [b.accessory] : []), ...(b.type === 'actions' ? b.elements : [])]);

function reporterFor(h: SlackHarness) {
  return createSlackReporter({ postmaster: h.postmaster, slack: h.slackConfig, logger: h.logger, clientOptions: { retryConfig: { retries: 0 } } });
}

describe('the audit report in Slack', () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const start = async () => {
    const provider = new FakeProvider(ADDRESSES);
    // Forwarding Postmaster did not create: free mail, no rule behind it.
    provider.mailboxes.get('dave@example.test')!.forwarding = { targets: ['dave.private@gmail.com'], keepCopy: true, managed: false };
    h = await startSlackHarness({ provider });
    return h;
  };

  it('the weekly report posts to the audit channel with the CSV uploaded through files.uploadV2', async () => {
    const h = await start();
    const rule = await h.postmaster.forwarding.addRule('U2', { mailbox: 'alice', targets: ['bob@example.test'] });
    const run = await h.postmaster.forwarding.runAudit({ record: true });
    const posted = await reporterFor(h).postAuditReport(run);
    expect(posted.csvFileId).toBeTruthy();

    const [message] = h.api.messagesIn(AUDIT);
    expect(message!.ts).toBe(posted.ts);
    const blocks = text(message!.blocks);
    expect(blocks).toContain('Forwarding audit');
    expect(blocks).toContain(run.summary.headline);
    expect(blocks).toContain('🟠 *high*: 1');
    expect(blocks).toContain('First report');
    // The user's own forward: no button, and the text says where it is.
    expect(blocks).toContain("dave@example.test's own Sieve script");
    // Postmaster's rule: a button carrying only the rule id.
    expect(buttonsOf(message!.blocks).map((b: any) => [b.action_id, b.value])).toEqual(expect.arrayContaining([['audit_remove_forward', rule.id]]));
    expect(buttonsOf(message!.blocks).every((b: any) => b.value === rule.id)).toBe(true);

    // The CSV: the three calls of files.uploadV2, and the bytes.
    expect(h.api.calls.map((c) => c.method).filter((m) => m.startsWith('files.'))).toEqual(['files.getUploadURLExternal', 'files.completeUploadExternal']);
    const [upload] = [...h.api.uploads.values()];
    expect(upload).toMatchObject({ channel: AUDIT, completed: true });
    expect(upload!.filename).toMatch(/^forwarding-audit-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(upload!.content!.startsWith(CSV_HEADER)).toBe(true);
    expect(upload!.content).toBe(run.csv);
    expect(upload!.length).toBe(Buffer.byteLength(run.csv));
    expect(upload!.content).toContain('dave.private@gmail.com');

    // Next week: the change since last week.
    await h.postmaster.forwarding.removeRule('U2', rule.id);
    await reporterFor(h).postAuditReport(await h.postmaster.forwarding.runAudit({ record: true }));
    const second = h.api.messagesIn(AUDIT).find((m) => m.ts !== posted.ts && text(m.blocks).includes('Since last week'));
    expect(text(second!.blocks)).toMatch(/Since last week:\* 0 new, 2 resolved/);
  });

  it('a failed CSV upload is noted in the report thread, and the report still stands', async () => {
    const h = await start();
    h.api.fail('files.getUploadURLExternal', 'missing_scope');
    const posted = await reporterFor(h).postAuditReport(await h.postmaster.forwarding.runAudit());
    expect(posted.csvFileId).toBeUndefined();
    expect(h.api.messagesIn(AUDIT, posted.ts)[0]!.text).toMatch(/Could not upload forwarding-audit-.*missing_scope.*files:write/);
  });

  it('Remove forward: an approver removes; another requester needs an approver; anyone else is refused', async () => {
    const h = await start();
    const rule = await h.postmaster.forwarding.addRule('U2', { mailbox: 'alice', targets: ['bob@example.test'] });
    const own = await h.postmaster.forwarding.addRule('U1', { mailbox: 'carol', targets: ['bob@example.test'], owner: 'me', expiresAt: '2099-01-01' });
    const posted = await reporterFor(h).postAuditReport(await h.postmaster.forwarding.runAudit());
    const click = (user: string, value: string, actionId = 'audit_remove_forward', channel = AUDIT, ts = posted.ts!) =>
      h.sender.click(user, { actionId, value, channel, messageTs: ts });
    const ephemeralTo = (user: string, n = 1) => h.api.waitForCall('chat.postEphemeral', (a) => a.user === user, n);

    await click('U9', rule.id);
    expect((await ephemeralTo('U9')).args.text).toMatch(/Not removed: U9 may not change forwarding/);

    // A requester, someone else's forward: nothing changes yet; the request goes to the approvers.
    await click('U1', rule.id);
    expect((await ephemeralTo('U1')).args.text).toMatch(/needs an approver/);
    expect((await h.postmaster.forwarding.listRules()).map((r) => r.id)).toContain(rule.id);
    const request = await h.api.waitForCall('chat.postMessage', (a) => a.channel === APPROVALS);
    expect(text(request.args.blocks)).toContain('<@U1> asks to remove');
    expect(buttonsOf(request.args.blocks).map((b: any) => [b.action_id, b.value])).toEqual([['audit_remove_forward_approved', rule.id]]);

    // Only an approver may answer it.
    await click('U1', rule.id, 'audit_remove_forward_approved', APPROVALS, request.response!.ts);
    expect((await ephemeralTo('U1', 2)).args.text).toMatch(/only approvers/);
    expect((await h.postmaster.forwarding.listRules()).map((r) => r.id)).toContain(rule.id);
    await click('U3', rule.id, 'audit_remove_forward_approved', APPROVALS, request.response!.ts);
    await h.api.waitForCall('chat.update', (a) => a.channel === APPROVALS);
    expect((await h.postmaster.forwarding.listRules()).map((r) => r.id)).not.toContain(rule.id);

    // A requester's own rule: removed at once.
    await click('U1', own.id);
    expect((await ephemeralTo('U1', 3)).args.text).toContain(`Forwarding rule ${own.id} removed`);
    expect(await h.postmaster.forwarding.listRules()).toEqual([]);
    const audited = (await h.postmaster.audit.read()).entries.map((e) => [e.actor, e.action]);
    expect(audited).toEqual(expect.arrayContaining([['U9', 'refused.rule.remove'], ['U1', 'rule.remove.requested'], ['U3', 'rule.removed'], ['U1', 'rule.removed']]));
  });

  it('an approver removes from the report directly', async () => {
    const h = await start();
    const rule = await h.postmaster.forwarding.addRule('U1', { mailbox: 'alice', targets: ['bob@example.test'] });
    const posted = await reporterFor(h).postAuditReport(await h.postmaster.forwarding.runAudit());
    await h.sender.click('U2', { actionId: 'audit_remove_forward', value: rule.id, channel: AUDIT, messageTs: posted.ts! });
    expect((await h.api.waitForCall('chat.postEphemeral', (a) => a.user === 'U2')).args.text).toContain('removed');
    expect(await h.postmaster.forwarding.listRules()).toEqual([]);
    expect(h.api.messagesIn(APPROVALS)).toEqual([]);
  });

  it('posts one expiry notice listing the removed forwards', async () => {
    const h = await start();
    const reporter = reporterFor(h);
    expect(await reporter.postExpiryNotices([])).toBeUndefined();
    await reporter.postExpiryNotices([
      { kind: 'rule', id: 'fw-abc', mailbox: 'alice@example.test', targets: ['bob@example.test'], expiresAt: '2026-01-31' },
      { kind: 'offboarding_forward', id: 'ob-xyz', mailbox: 'carol@example.test', targets: ['dave@example.test'], expiresAt: '2026-02-01' },
    ]);
    const [notice] = h.api.messagesIn(AUDIT);
    expect(notice!.text).toBe('2 expired forwards removed');
    expect(text(notice!.blocks)).toContain('rule `fw-abc` · *alice@example.test* no longer forwards to bob@example.test');
    expect(text(notice!.blocks)).toContain('offboarding `ob-xyz`');
  });
});

describe.skipIf(!hasDovecot)('the weekly audit report against a real Dovecot', () => {
  const server = useMailServer();
  let env: Record<string, string>;
  let h: SlackHarness | undefined;

  beforeAll(async () => {
    const storeDir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-slack-audit-'));
    env = { ...testEnv(server, storeDir), FORWARD_ALLOWED_DOMAINS: 'partner.test' };
    await putUserScript(server.dovecot, 'dave@example.test', 'personal', '# to my phone\nif address :contains "from" "boss" {\n  redirect "dave.private@gmail.com";\n}\n');
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("posts the report with the CSV; the user's own conditional forward has no button, Postmaster's rule has one", async () => {
    h = await startSlackHarness({ postmaster: await testPostmaster(env) });
    const rule = await h.postmaster.forwarding.addRule('U1', { mailbox: 'alice', targets: ['x@partner.test'], conditions: { subjectContains: ['订单'] } });
    const run = await h.postmaster.forwarding.runAudit({ record: true });
    expect(run.findings.some((f) => f.mailbox === 'dave@example.test' && f.kind === 'external' && f.freeMail)).toBe(true);
    await reporterFor(h).postAuditReport(run);

    const [message] = h.api.messagesIn(AUDIT);
    const sections = message!.blocks.filter((b: any) => b.type === 'section' && b.text);
    const dave = sections.find((b: any) => b.text.text.includes('dave.private@gmail.com'));
    expect(dave.accessory).toBeUndefined();
    expect(dave.text.text).toContain("dave@example.test's own Sieve script");
    const alice = sections.filter((b: any) => b.text.text.includes('*alice@example.test*'));
    expect(alice.length).toBeGreaterThan(0);
    expect(alice.every((b: any) => b.accessory?.value === rule.id)).toBe(true);

    const [upload] = [...h.api.uploads.values()];
    expect(upload!.content!.startsWith(CSV_HEADER)).toBe(true);
    expect(upload!.content).toContain('dave.private@gmail.com');
    expect(upload!.channel).toBe(AUDIT);
  });
});
