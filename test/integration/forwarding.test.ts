/**
 * Forwarding rules and the forwarding audit against a real Dovecot: guardrails refuse before
 * anything changes, loops are found through the users' own hand-written Sieve scripts, and a
 * conditional rule really forwards only what matches.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasDovecot, useMailServer } from '../support/mail-server.js';
import { runCli, testEnv, testPostmaster, type TestPostmaster } from '../support/postmaster.js';
import { doveadm, folderCounts, putUserScript, sieveScripts } from '../support/mail-checks.js';
import { deliverLmtp } from '../../src/sandbox/lmtp.js';

const USERS = [
  ...['alice', 'bob', 'carol', 'dave', 'erin', 'sales', 'director', 'finance-ann', 'ops', 'noc'].map((n) => ({ address: `${n}@example.test`, password: `${n}-pass` })),
  { address: 'gone@example.test', password: 'x', extra: { nologin: 'y', reason: 'Left' } },
];

describe.skipIf(!hasDovecot)('forwarding rules and audit', () => {
  const server = useMailServer({ users: USERS });
  let env: Record<string, string>;
  let app: TestPostmaster | undefined;

  beforeAll(async () => {
    const storeDir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-fwd-'));
    env = { ...testEnv(server, storeDir), FORWARD_ALLOWED_DOMAINS: 'partner.test', SENSITIVE_MAILBOXES: 'finance-*@example.test' };
    // A loop nobody made through Postmaster: bob's and carol's own scripts.
    await putUserScript(server.dovecot, 'bob@example.test', 'mine', '# bob forwards everything to carol\nrequire "copy";\nredirect :copy "carol@example.test";\n');
    await putUserScript(server.dovecot, 'carol@example.test', 'roundcube', 'require ["copy"];\nif header :contains "subject" ["urgent", "asap"] {\n  redirect :copy "alice@example.test";\n} else {\n  keep;\n}\n');
    // A loop that exists already, made by hand: the audit must find it.
    await putUserScript(server.dovecot, 'ops@example.test', 'fwd', 'redirect "noc@example.test";\n');
    await putUserScript(server.dovecot, 'noc@example.test', 'fwd', 'require ["copy"];\nif anyof (header :contains "subject" "alert", true) {\n  redirect :copy "ops@example.test";\n}\n');
    // A user forwarding to free mail, under a condition.
    await putUserScript(server.dovecot, 'dave@example.test', 'personal', '/* weekly numbers */\nif address :contains "from" "boss" { redirect "dave.private@gmail.com"; }\n');
    await putUserScript(server.dovecot, 'alice@example.test', 'own', 'require ["fileinto", "mailbox"];\nif header :contains "subject" "invoice" { fileinto :create "Invoices"; }\n');
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a loop through users\' own scripts', { mailbox: 'alice', targets: ['bob@example.test'] }, /loop.*alice@example\.test -> bob@example\.test -> carol@example\.test -> alice@example\.test/],
    ['a self-forward', { mailbox: 'alice', targets: ['alice@example.test'] }, /itself/],
    ['more than 5 targets', { mailbox: 'alice', targets: ['a@partner.test', 'b@partner.test', 'c@partner.test', 'd@partner.test', 'e@partner.test', 'f@partner.test'] }, /at most 5 addresses, and this one has 6/],
    ['a missing internal target', { mailbox: 'alice', targets: ['nobody@example.test'] }, /nobody@example\.test does not exist/],
    ['a disabled internal target', { mailbox: 'alice', targets: ['gone@example.test'] }, /gone@example\.test is disabled/],
    ['an external domain not on the allowlist', { mailbox: 'alice', targets: ['someone@gmail.com'] }, /forwarding to someone@gmail\.com is not allowed: gmail\.com is not on FORWARD_ALLOWED_DOMAINS \(it allows partner\.test\)/],
    ['a sensitive mailbox forwarding out', { mailbox: 'finance-ann', targets: ['x@partner.test'] }, /sensitive/],
    ['more redirects than the server performs', { mailbox: 'erin', targets: ['a@partner.test', 'b@partner.test', 'c@partner.test', 'd@partner.test', 'e@partner.test'] }, /server's limit of 4 redirects per message \(MAXREDIRECTS\)/],
  ];

  it.each(refusals)('refuses %s, and nothing changes', async (_name, input, message) => {
    app = await testPostmaster(env);
    const mailbox = `${String(input.mailbox)}@example.test`;
    const before = await sieveScripts(server.dovecot, mailbox);
    await expect(app.forwarding.addRule('U1', input as never)).rejects.toThrow(message);
    expect(await sieveScripts(server.dovecot, mailbox)).toEqual(before);
    expect(await app.forwarding.listRules()).toEqual([]);
  });

  it('refuses through the CLI with exit code 2 and one line', async () => {
    const result = await runCli(env, ['forward', 'add', 'alice', '--to', 'bob@example.test', '--as', 'U1']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/alice@example\.test -> bob@example\.test -> carol@example\.test -> alice@example\.test/);
  });

  it('forwards only what matches a conditional rule, end to end', async () => {
    app = await testPostmaster(env);
    const rule = await app.forwarding.addRule('U1', { mailbox: 'erin', targets: ['sales@example.test'], conditions: { subjectContains: ['订单'] }, owner: 'sales-ops', expiresAt: '2099-12-31' });
    expect(rule.id).toMatch(/^fw-/);
    const stamp = Date.now();
    await deliverLmtp(server.dovecot.ports.lmtp, { from: 'client@customer.test', to: 'erin@example.test', subject: `hello ${stamp}` });
    await deliverLmtp(server.dovecot.ports.lmtp, { from: 'client@customer.test', to: 'erin@example.test', subject: `新订单 ${stamp}` });
    const forwarded = await server.sink.waitFor((m) => m.parsed.subject === `新订单 ${stamp}`);
    expect(forwarded.envelopeTo).toEqual(['sales@example.test']);
    expect(server.sink.messages.some((m) => m.parsed.subject === `hello ${stamp}`)).toBe(false);
    // keepCopy: both stay in erin's INBOX.
    expect((await folderCounts(server.dovecot, 'erin@example.test')).INBOX).toBe(2);
    expect(await app.forwarding.listRules('erin')).toEqual([rule]);
  });

  it('forwards every message for a rule without conditions, added and removed through the CLI', async () => {
    const added = await runCli(env, ['forward', 'add', 'sales', '--to', 'director', '--reason', 'cover', '--as', 'U1']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^added fw-\S+ {2}sales@example\.test -> director@example\.test/);
    const listed = JSON.parse((await runCli(env, ['forward', 'list', 'sales', '--json'])).stdout) as Array<{ id: string; targets: string[]; conditions?: unknown }>;
    expect(listed).toEqual([expect.objectContaining({ targets: ['director@example.test'] })]);
    expect(listed[0]!.conditions).toBeUndefined();

    const stamp = Date.now();
    await deliverLmtp(server.dovecot.ports.lmtp, { from: 'client@customer.test', to: 'sales@example.test', subject: `anything ${stamp}` });
    const forwarded = await server.sink.waitFor((m) => m.parsed.subject === `anything ${stamp}`);
    expect(forwarded.envelopeTo).toEqual(['director@example.test']);

    const removed = await runCli(env, ['forward', 'remove', listed[0]!.id, '--as', 'U1']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await sieveScripts(server.dovecot, 'sales@example.test')).map((script) => script.script)).not.toContain('postmaster');
  });

  it('finds forwarding users wrote themselves, and the loop, in the audit', async () => {
    const result = await runCli(env, ['audit', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const findings = JSON.parse(result.stdout) as Array<{ severity: string; kind: string; mailbox: string; targets: string[]; freeMail?: boolean }>;
    const loop = findings.find((f) => f.kind === 'loop');
    expect(loop).toMatchObject({ severity: 'critical' });
    expect([...loop!.targets].sort()).toEqual(['noc@example.test', 'ops@example.test']);
    expect(findings).toContainEqual(expect.objectContaining({ severity: 'high', kind: 'external', mailbox: 'dave@example.test', targets: ['dave.private@gmail.com'], freeMail: true }));
    const csv = await runCli(env, ['audit', '--csv']);
    expect(csv.stdout.split('\n')[0]).toBe('severity,kind,mailbox,targets,detail,free_mail,rule_ids');
    expect(csv.stdout).toContain('dave.private@gmail.com');
  });

  it('sweeps an expired rule away, and the owner\'s own script acts again', async () => {
    app = await testPostmaster(env);
    const tomorrow = new Date(app.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
    const rule = await app.forwarding.addRule('U1', { mailbox: 'alice', targets: ['director@example.test'], conditions: { senderContains: ['vip'] }, expiresAt: tomorrow });
    expect((await sieveScripts(server.dovecot, 'alice@example.test')).find((s) => s.active === 'ACTIVE')?.script).toBe('postmaster');

    expect(await app.forwarding.sweepExpired()).toEqual([]);
    app.clock.advanceDays(3);
    const notices = await app.forwarding.sweepExpired();
    expect(notices).toEqual([expect.objectContaining({ kind: 'rule', id: rule.id, mailbox: 'alice@example.test' })]);
    expect(await app.forwarding.sweepExpired()).toEqual([]);
    expect(await app.forwarding.listRules()).not.toContainEqual(expect.objectContaining({ id: rule.id }));

    const scripts = await sieveScripts(server.dovecot, 'alice@example.test');
    expect(scripts.find((s) => s.active === 'ACTIVE')?.script).toBe('own');
    expect(scripts.map((s) => s.script)).not.toContain('postmaster');
    const own = (await doveadm(server.dovecot, 'sieveGet', { user: 'alice@example.test', scriptname: 'own' })) as Array<Record<string, string>>;
    expect(Object.values(own[0]!)[0]).toBe('require ["fileinto", "mailbox"];\nif header :contains "subject" "invoice" { fileinto :create "Invoices"; }\n');
    await deliverLmtp(server.dovecot.ports.lmtp, { from: 'vip@customer.test', to: 'alice@example.test', subject: 'invoice 7' });
    expect((await folderCounts(server.dovecot, 'alice@example.test')).Invoices).toBe(1);
  });
  it('sweeps an offboarding\'s forward away at its end date, once, and keeps its auto-reply', async () => {
    app = await testPostmaster(env);
    const tomorrow = new Date(app.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
    const request = await app.offboarding.request('U1', {
      mailbox: 'director',
      forward: { targets: ['sales@example.test'], expiresAt: tomorrow },
      autoReply: { subject: 'Away', body: 'Please write to sales@example.test.' },
      backup: false,
      revokeSessions: false,
      disable: false,
    });
    await app.offboarding.approve('U2', request.id);
    expect((await app.offboarding.run(request.id)).steps.map((step) => step.status)).toEqual(['done', 'done']);
    expect(await app.forwarding.listOffboardingForwards('director')).toEqual([expect.objectContaining({ requestId: request.id, targets: ['sales@example.test'] })]);

    expect(await app.forwarding.sweepExpired()).toEqual([]);
    app.clock.advanceDays(3);
    expect(await app.forwarding.sweepExpired()).toEqual([{ kind: 'offboarding_forward', id: request.id, mailbox: 'director@example.test', targets: ['sales@example.test'], expiresAt: tomorrow, removeByHand: undefined }]);
    expect(await app.forwarding.sweepExpired()).toEqual([]);
    expect(await app.forwarding.listOffboardingForwards('director')).toEqual([]);
    const script = (await doveadm(server.dovecot, 'sieveGet', { user: 'director@example.test', scriptname: 'postmaster' })) as Array<Record<string, string>>;
    const text = Object.values(script[0]!)[0]!;
    expect(text).not.toContain('redirect');
    expect(text).toContain('vacation');
    expect((await app.audit.read()).entries.map((e) => [e.actor, e.action, e.requestId])).toContainEqual(['system', 'forward.expired', request.id]);
  });
  it('keeps every change when two arrive for one mailbox at once (a rule, an auto-reply, a forward)', async () => {
    app = await testPostmaster(env);
    const provider = app.provider;
    await Promise.all([
      provider.setRules('ops@example.test', [{ id: 'fw-both', targets: ['sales@example.test'], keepCopy: true, match: 'all', subjectContains: ['quote'] }]),
      provider.setAutoReply('ops@example.test', { subject: 'Away', body: 'Back on Monday.' }),
      provider.setForwarding('ops@example.test', { targets: ['director@example.test'], keepCopy: true }),
    ]);
    const script = (await doveadm(server.dovecot, 'sieveGet', { user: 'ops@example.test', scriptname: 'postmaster' })) as Array<Record<string, string>>;
    const text = Object.values(script[0]!)[0]!;
    expect(text).toContain('# Rule "fw-both"');
    expect(text).toContain('vacation');
    expect(text).toContain('redirect :copy "director@example.test"');
    await Promise.all([provider.setRules('ops@example.test', []), provider.clearAutoReply('ops@example.test'), provider.clearForwarding('ops@example.test')]);
    expect((await sieveScripts(server.dovecot, 'ops@example.test')).map((s) => s.script)).not.toContain('postmaster');
  });
  it('checks two rules saved at once one after the other, so together they cannot make a loop', async () => {
    app = await testPostmaster(env);
    const results = await Promise.allSettled([
      app.forwarding.addRule('U1', { mailbox: 'sales', targets: ['director@example.test'], conditions: { subjectContains: ['x'] } }),
      app.forwarding.addRule('U1', { mailbox: 'director', targets: ['sales@example.test'], conditions: { subjectContains: ['y'] } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(/forwarding would loop/);
    const rules = [...(await app.forwarding.listRules('sales')), ...(await app.forwarding.listRules('director'))];
    expect(rules).toHaveLength(1);
    await app.forwarding.removeRule('U1', rules[0]!.id);
  });

  it('does the same between two processes on one store (the bot and a CLI command), and keeps both Sieve changes', async () => {
    // Two compositions on one SQLite file, each with its own provider: what the bot and the CLI are.
    app = await testPostmaster(env);
    const other = await testPostmaster(env);
    try {
      const results = await Promise.allSettled([
        app.forwarding.addRule('U1', { mailbox: 'sales', targets: ['director@example.test'], conditions: { subjectContains: ['x'] } }),
        other.forwarding.addRule('U1', { mailbox: 'director', targets: ['sales@example.test'], conditions: { subjectContains: ['y'] } }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(/forwarding would loop/);
      const [rule] = [...(await app.forwarding.listRules('sales')), ...(await app.forwarding.listRules('director'))];

      await Promise.all([
        app.provider.setAutoReply('ops@example.test', { subject: 'Away', body: 'Back on Monday.' }),
        other.provider.setRules('ops@example.test', [{ id: 'fw-cli', targets: ['sales@example.test'], keepCopy: true, match: 'all', subjectContains: ['quote'] }]),
      ]);
      const script = (await doveadm(server.dovecot, 'sieveGet', { user: 'ops@example.test', scriptname: 'postmaster' })) as Array<Record<string, string>>;
      const text = Object.values(script[0]!)[0]!;
      expect(text).toContain('vacation');
      expect(text).toContain('# Rule "fw-cli"');

      await other.forwarding.removeRule('U1', rule!.id);
      await Promise.all([app.provider.clearAutoReply('ops@example.test'), other.provider.setRules('ops@example.test', [])]);
    } finally {
      await other.close();
    }
  });
});
