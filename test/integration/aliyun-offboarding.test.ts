/**
 * A whole offboarding with MAIL_PROVIDER=aliyun through the real CLI: the Open API is the local
 * contract server, and a real Dovecot stands in for Alibaba Mail's IMAP server (the contract
 * server's password reset sets the same password on Dovecot, as Alibaba's would on its own).
 * Automated steps run, manual tasks wait until someone marks them done, and no secret leaks.
 */
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDovecot, useMailServer } from '../support/mail-server.js';
import { baseTestEnv, runCli, testPostmaster, type CliResult } from '../support/postmaster.js';
import { folderCounts, tryImapLogin } from '../support/mail-checks.js';
import { startAlimailServer, type AlimailServer } from '../support/alimail-server.js';
import { writeFileAtomic } from '../../src/sandbox/dovecot-instance.js';
import { AliyunProvider } from '../../src/providers/aliyun/provider.js';
import { deliverLmtp } from '../../src/sandbox/lmtp.js';
import type { DovecotInstance } from '../../src/sandbox/dovecot-instance.js';

const CLIENT_SECRET = 'alimail-client-secret-7f3a9c';
const USERS = ['alice', 'bob', 'carol', 'dave'].map((n) => ({ address: `${n}@example.test`, password: `${n}-pass` }));

/** What Alibaba does on a password reset, done to the stand-in: the new password works once the call returns. */
async function setDovecotPassword(dovecot: DovecotInstance, address: string, password: string): Promise<void> {
  const text = await readFile(dovecot.passwdFile, 'utf8');
  const line = new RegExp(`^${address.replace(/[.]/g, '\\.')}:\\{PLAIN\\}[^:]*:`, 'm');
  await writeFileAtomic(dovecot.passwdFile, text.replace(line, `${address}:{PLAIN}${password}:`));
  const deadline = Date.now() + 10_000;
  while ((await tryImapLogin(dovecot, address, password)) !== 'ok') {
    if (Date.now() > deadline) throw new Error(`Dovecot did not take the new password for ${address}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!hasDovecot)('offboarding on Alibaba Mail through the CLI', () => {
  const mail = useMailServer({ users: USERS });
  let api: AlimailServer;
  let env: Record<string, string>;
  let storeDir: string;
  const secrets: string[] = [CLIENT_SECRET];
  const outputs: CliResult[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    api = await startAlimailServer({
      clientId: 'postmaster-app',
      clientSecret: CLIENT_SECRET,
      departments: [{ id: 'ops', name: 'Operations', parentId: '$root' }],
      users: USERS.map((u, i) => ({ id: `u${i}`, email: u.address, departmentIds: ['ops'] })),
      onPasswordReset: async (email, password) => {
        secrets.push(password);
        await setDovecotPassword(mail.dovecot, email, password);
      },
      onTokenIssued: (token) => secrets.push(token),
    });
    storeDir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-aliyun-'));
    env = {
      ...baseTestEnv(storeDir),
      MAIL_PROVIDER: 'aliyun',
      ALIMAIL_CLIENT_ID: 'postmaster-app',
      ALIMAIL_CLIENT_SECRET: CLIENT_SECRET,
      ALIMAIL_BASE_URL: api.url,
      ALIMAIL_IMAP_URL: mail.dovecot.imapUrl,
      LOG_LEVEL: 'trace',
    };
  });
  afterAll(async () => {
    await api?.close();
  });

  const cli = async (...args: string[]) => {
    const result = await runCli(env, args);
    outputs.push(result);
    return result;
  };
  const status = async (id: string) => JSON.parse((await cli('status', id, '--json')).stdout) as {
    state: string;
    steps: Array<{ name: string; status: string; mode: string; doneBy?: string; note?: string; instructions?: string }>;
    backup?: { directory: string };
  };

  it('lists mailboxes exactly as for dovecot, with NORMAL/FREEZE shown', async () => {
    const listed = await cli('mailboxes', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(USERS.map((u) => ({ address: u.address, status: 'active', providerStatus: 'NORMAL', displayName: u.address.split('@')[0] })));
    const text = await cli('mailboxes');
    expect(text.stdout).toMatch(/alice@example.test\s+active \(NORMAL\)/);
  });

  it('runs the automated steps, waits at each manual task, and finishes once people mark them done', async () => {
    for (let i = 0; i < 7; i++) {
      await deliverLmtp(mail.dovecot.ports.lmtp, { from: `client${i}@customer.test`, to: 'alice@example.test', subject: `order ${i}`, body: `message ${i}\n` });
    }
    expect(await folderCounts(mail.dovecot, 'alice@example.test')).toMatchObject({ INBOX: 7 });

    const requested = await cli('offboard', 'alice', '--forward-to', 'bob', '--auto-reply', '--reason', 'left', '--as', 'U1');
    expect(requested.code, requested.stderr).toBe(0);
    // Before approval the plan says the backup resets the password, and which steps are manual.
    expect(requested.stdout).toMatch(/note: .*resets alice@example.test's password to a random one/);
    expect(requested.stdout).toMatch(/forward \[manual\]/);
    const id = /ob-[\w-]+/.exec(requested.stdout)![0];
    const planned = await status(id);
    expect(planned.steps.map((s) => [s.name, s.mode])).toEqual([
      ['backup', 'automatic'], ['forward', 'manual'], ['auto_reply', 'manual'], ['revoke_sessions', 'manual'], ['disable', 'automatic'],
    ]);
    expect(planned.steps[1]!.instructions).toMatch(/邮箱管理 → 选择目标邮箱 alice@example.test → 邮件转发/);

    const approved = await cli('approve', id, '--as', 'U2');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stderr).toMatch(/✓ backup: exported 7 messages/);
    expect(approved.stderr).toMatch(/waiting for a person to do "forward"/);
    let now = await status(id);
    expect(now.state).toBe('awaiting_manual');
    expect(api.user('alice@example.test')?.status).toBe('NORMAL');
    // Alice's old password no longer works: the backup replaced it with one nobody knows.
    expect(await tryImapLogin(mail.dovecot, 'alice@example.test', 'alice-pass')).not.toBe('ok');

    const backup = JSON.parse(await readFile(path.join(now.backup!.directory, 'manifest.json'), 'utf8')) as { totalMessages: number; verifiedAt?: string };
    expect(backup.totalMessages).toBe(7);
    expect(backup.verifiedAt).toBeTruthy();

    for (const [step, who] of [['forward', 'U3'], ['auto_reply', 'U2'], ['revoke_sessions', 'U3']] as const) {
      const marked = await cli('mark-done', id, step, '--as', who);
      expect(marked.code, marked.stderr).toBe(0);
    }
    now = await status(id);
    expect(now.state).toBe('completed');
    expect(now.steps.map((s) => [s.name, s.status, s.doneBy])).toEqual([
      ['backup', 'done', undefined], ['forward', 'done', 'U3'], ['auto_reply', 'done', 'U2'], ['revoke_sessions', 'done', 'U3'], ['disable', 'done', undefined],
    ]);
    expect(api.user('alice@example.test')?.status).toBe('FREEZE');
    const log = await cli('log', 'show', '--json');
    const entries = JSON.parse(log.stdout) as Array<{ actor: string; action: string; detail?: string }>;
    expect(entries.filter((e) => e.action === 'step.marked_done').map((e) => e.actor)).toEqual(['U3', 'U2', 'U3']);
  });

  it('deletes the account only after retention, with a verified backup; a second sweep is a no-op', async () => {
    await deliverLmtp(mail.dovecot.ports.lmtp, { from: 'x@customer.test', to: 'dave@example.test', subject: 'keep me', body: 'hello\n' });
    const app = await testPostmaster(env);
    try {
      const request = await app.offboarding.request('U1', { mailbox: 'dave', revokeSessions: false, deleteAfterDays: 30 });
      await app.offboarding.approve('U2', request.id);
      const waiting = await app.offboarding.run(request.id);
      expect(waiting.state).toBe('scheduled');
      expect(waiting.steps.map((s) => [s.name, s.status])).toEqual([['backup', 'done'], ['disable', 'done'], ['delete', 'waiting']]);
      expect(api.user('dave@example.test')?.status).toBe('FREEZE');

      app.clock.advanceDays(29);
      expect(await app.offboarding.sweep()).toEqual([]);
      expect(api.user('dave@example.test')).toBeDefined();
      app.clock.advanceDays(2);
      const [done] = await app.offboarding.sweep();
      expect(done).toMatchObject({ id: request.id, state: 'completed' });
      expect(api.user('dave@example.test')).toBeUndefined();
      expect(await app.offboarding.sweep()).toEqual([]);
      // Deleting an account that is already gone (a retry after a lost answer) still succeeds.
      await app.provider.delete('dave@example.test');
      expect(api.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([200, 404]);
    } finally {
      logLines.push(...app.logLines);
      await app.close();
    }
  });

  it('says what to check when IMAP refuses the one-off password, and the password is not in the message', async () => {
    // An API that accepts the reset but never passes it to the IMAP server: the login must fail.
    let reset = '';
    const closed = await startAlimailServer({ clientId: 'x', clientSecret: 'y', users: [{ email: 'carol@example.test', departmentIds: ['$root'] }], onPasswordReset: (_email, password) => void (reset = password) });
    const provider = new AliyunProvider({ baseUrl: closed.url, clientId: 'x', clientSecret: 'y', requestsPerSecond: 40, imapUrl: mail.dovecot.imapUrl });
    try {
      const error = await provider.export('carol@example.test', { directory: path.join(storeDir, 'refused'), runId: 'r1' }).then(
        () => expect.fail('the export should have failed'),
        (e: unknown) => e as Error & { hint?: string },
      );
      expect(error.message).toMatch(/IMAP login to .* as carol@example.test was refused/);
      expect(error.hint).toMatch(/三方客户端安全密码/);
      expect(reset).not.toBe('');
      expect(`${error.message} ${error.hint}`.includes(reset)).toBe(false);
    } finally {
      await provider.close();
      await closed.close();
    }
  });

  it('refuses to add a forwarding rule it cannot guard, exiting 2, with the console steps', async () => {
    const refused = await cli('forward', 'add', 'bob', '--to', 'carol', '--as', 'U1');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/aliyun cannot set forwarding rules through its API/);
    expect(refused.stderr).toMatch(/邮件转发/);
  });

  it('says in the audit that forwarding could not be read, rather than calling the domain clean', async () => {
    const audit = await cli('audit');
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout + audit.stderr).toMatch(/forwarding for 3 mailboxes could not be read through the API/); // dave is gone
  });

  it('never writes a secret (client secret, token, reset password) to logs, output, the store or the audit log', async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(3); // the client secret, at least one token, the reset password
    const files = await readdir(storeDir, { recursive: true });
    const stored = await Promise.all(files.map((f) => readFile(path.join(storeDir, f)).catch(() => Buffer.alloc(0))));
    const haystacks = [...outputs.map((o) => o.stdout + o.stderr), logLines.join(''), ...stored.map((b) => b.toString('latin1'))];
    // The trace-level logs really are in the haystack: the API calls were logged.
    expect(outputs.some((o) => o.stderr.includes('Alibaba Mail API call'))).toBe(true);
    for (const secret of secrets) {
      for (const hay of haystacks) expect(hay.includes(secret), `a secret leaked: ${secret.slice(0, 3)}…`).toBe(false);
    }
  });
});
