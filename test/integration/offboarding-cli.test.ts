/**
 * The whole offboarding through the real `postmaster` CLI, against a real Dovecot and a real
 * SQLite file: what an admin does, and what they would check on the server afterwards.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sqlite3 from 'sqlite3';
import { hasDovecot, useMailServer } from '../support/mail-server.js';
import { runCli, testEnv } from '../support/postmaster.js';
import { doveadm, folderCounts, openSession, putUserScript, sieveScripts, tryImapLogin } from '../support/mail-checks.js';
import { deliverLmtp } from '../../src/sandbox/lmtp.js';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'].map((n) => ({ address: `${n}@example.test`, password: `${n}-pass` }));

describe.skipIf(!hasDovecot)('offboarding through the CLI', () => {
  const server = useMailServer({ users: USERS });
  let env: Record<string, string>;
  let storeDir: string;

  beforeAll(async () => {
    storeDir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-cli-'));
    env = testEnv(server, storeDir);
  });

  const cli = (...args: string[]) => runCli(env, args);
  const offboardJson = async (...args: string[]) => {
    const result = await cli('offboard', ...args, '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as { id: string; state: string };
  };

  it('carries out an approved offboarding, and every effect shows on the server', async () => {
    const { dovecot, sink } = server;
    // Alice's own rule, written before Postmaster touched the mailbox: it must keep acting.
    const ownScript = 'require ["fileinto", "mailbox"];\n# file invoices\nif header :contains "subject" "invoice" {\n  fileinto :create "Invoices";\n}\n';
    await putUserScript(dovecot, 'alice@example.test', 'roundcube', ownScript);
    for (let i = 0; i < 12; i++) {
      await deliverLmtp(dovecot.ports.lmtp, { from: `client${i}@customer.test`, to: 'alice@example.test', subject: i % 4 === 0 ? `invoice ${i}` : `hello ${i}`, body: `message ${i}\nFrom here on, a line that mbox must quote.\n` });
    }
    const before = await folderCounts(dovecot, 'alice@example.test');
    expect(before).toMatchObject({ INBOX: 9, Invoices: 3 });
    const session = await openSession(dovecot, 'alice@example.test', 'alice-pass');

    const request = await offboardJson('alice', '--forward-to', 'bob@example.test', '--auto-reply', '--reason', 'left the company', '--as', 'U1');
    expect(request.id).toMatch(/^ob-/);
    expect(request.state).toBe('pending_approval');

    const approved = await cli('approve', request.id, '--as', 'U2', '--json');
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ id: request.id, state: 'completed', decidedBy: 'U2' });
    expect(approved.stderr).toMatch(/✓ backup: exported 12 messages in \d folders/);
    expect(approved.stderr).toMatch(/✓ disable/);

    // The live session was ended, and the user's own login is now refused.
    await session.closed;
    expect(await tryImapLogin(dovecot, 'alice@example.test', 'alice-pass')).toMatch(/CONTACTADMIN|disabled/i);

    // New mail is still delivered, kept, forwarded to the successor, and answered.
    const sender = `partner-${Date.now()}@partner.test`;
    await deliverLmtp(dovecot.ports.lmtp, { from: sender, to: 'alice@example.test', subject: 'invoice 99 for you', messageId: `<${Date.now()}.1@partner.test>` });
    const redirected = await sink.waitFor((m) => m.envelopeTo.includes('bob@example.test') && m.parsed.subject === 'invoice 99 for you');
    expect(redirected.parsed.headers.get('x-sieve-redirected-from')).toBe('alice@example.test');
    const reply = await sink.waitFor((m) => m.envelopeTo.includes(sender));
    expect(reply.envelopeFrom).toBe('');
    expect(String(reply.parsed.headers.get('auto-submitted'))).toMatch(/auto-replied/);
    expect(reply.parsed.text).toContain('bob@example.test');
    // Alice's own rule still filed it: the copy went to Invoices, not INBOX.
    expect(await folderCounts(dovecot, 'alice@example.test')).toMatchObject({ INBOX: 9, Invoices: 4 });

    // The backup matches the server as it was, checksum by checksum.
    const status = await cli('status', request.id, '--json');
    const stored = JSON.parse(status.stdout) as { backup: { directory: string }; steps: Array<{ name: string; status: string; attempts: number }> };
    expect(stored.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['backup', 'done', 1], ['forward', 'done', 1], ['auto_reply', 'done', 1], ['revoke_sessions', 'done', 1], ['disable', 'done', 1],
    ]);
    const manifest = JSON.parse(await readFile(path.join(stored.backup.directory, 'manifest.json'), 'utf8')) as {
      mailbox: string; verifiedAt: string | null; totalMessages: number; folders: Array<{ name: string; file: string; messages: number; sha256: string }>;
    };
    expect(manifest.mailbox).toBe('alice@example.test');
    expect(manifest.verifiedAt).not.toBeNull();
    expect(manifest.totalMessages).toBe(12);
    for (const folder of manifest.folders) {
      expect(folder.messages).toBe(before[folder.name] ?? 0);
      const bytes = await readFile(path.join(stored.backup.directory, folder.file));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(folder.sha256);
    }

    const mailboxes = await cli('mailboxes', '--json');
    expect(JSON.parse(mailboxes.stdout)).toContainEqual(expect.objectContaining({ address: 'alice@example.test', status: 'disabled' }));
    expect(JSON.parse(mailboxes.stdout)).toContainEqual(expect.objectContaining({ address: 'bob@example.test', status: 'active' }));

    // Listing alice's forwarding shows the successor forward, though it is not a rule.
    const listed = await cli('forward', 'list', 'alice');
    expect(listed.stdout.trim()).toMatch(new RegExp(`^${request.id}  alice@example\\.test -> bob@example\\.test until \\d{4}-\\d{2}-\\d{2}, set by offboarding ${request.id}$`));

    // The successor no longer wants the mail: the forward ends early, the auto-reply stays.
    const ended = await cli('forward', 'remove', request.id, '--as', 'U1');
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toMatch(new RegExp(`^removed ${request.id}  alice@example\\.test -> bob@example\\.test`));
    const script = (await doveadm(dovecot, 'sieveGet', { user: 'alice@example.test', scriptname: 'postmaster' })) as Array<Record<string, string>>;
    const text = Object.values(script[0]!)[0]!;
    expect(text).not.toContain('redirect');
    expect(text).toContain('vacation');
    expect((await cli('forward', 'list', 'alice')).stdout.trim()).toBe('no forwarding rules or offboarding forwards');
    const again = await cli('forward', 'remove', request.id, '--as', 'U1');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/has no forward in effect/);

    const verify = await cli('log', 'verify');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/audit log intact: \d+ entries/);
  });

  it('refuses self-approval, a non-approver and an unknown mailbox, changing nothing', async () => {
    const { dovecot } = server;
    const passwdBefore = await readFile(dovecot.passwdFile, 'utf8');
    const scriptsBefore = await sieveScripts(dovecot, 'dave@example.test');
    const own = await offboardJson('dave', '--forward-to', 'erin@example.test', '--as', 'U2');
    const listBefore = (await cli('list', '--json')).stdout;

    const self = await cli('approve', own.id, '--as', 'U2');
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/U2 requested .* and cannot approve it too/);
    expect(self.stderr.trim().split('\n')).toHaveLength(1);

    const stranger = await cli('approve', own.id, '--as', 'U1');
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toMatch(/U1 is not an approver/);

    const unknown = await cli('offboard', 'nobody', '--as', 'U1');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/mailbox nobody@example.test does not exist/);

    const badArgs = await cli('offboard', 'dave', '--delete-after', 'soon', '--as', 'U1');
    expect(badArgs.code).toBe(2);
    expect(badArgs.stderr).toMatch(/--delete-after takes a whole number/);

    const tooMany = await cli('offboard', 'dave', '--forward-to', 'a,b,c,d,e,f', '--as', 'U1');
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr.trim()).toBe('postmaster: the plan is not valid: forward.targets: at most 5 targets (you gave 6)');

    expect((await cli('list', '--json')).stdout).toBe(listBefore);
    expect(JSON.parse((await cli('status', own.id, '--json')).stdout)).toMatchObject({ state: 'pending_approval' });
    expect(await readFile(dovecot.passwdFile, 'utf8')).toBe(passwdBefore);
    expect(await sieveScripts(dovecot, 'dave@example.test')).toEqual(scriptsBefore);
    expect(await tryImapLogin(dovecot, 'dave@example.test', 'dave-pass')).toBe('ok');

    const log = JSON.parse((await cli('log', 'show', '--json')).stdout) as Array<{ action: string; actor: string }>;
    expect(log.filter((e) => e.action.startsWith('refused.')).map((e) => [e.action, e.actor])).toEqual(
      expect.arrayContaining([['refused.approve', 'U2'], ['refused.approve', 'U1'], ['refused.request', 'U1']]),
    );
  });

  it('runs once when two approvers click at the same moment', async () => {
    const request = await offboardJson('carol', '--no-revoke-sessions', '--as', 'U1');
    const [first, second] = await Promise.all([cli('approve', request.id, '--as', 'U2', '--json'), cli('approve', request.id, '--as', 'U3', '--json')]);
    const codes = [first.code, second.code].sort();
    expect(codes).toEqual([0, 2]);
    const loser = first.code === 2 ? first : second;
    expect(loser.stderr).toMatch(/already approved by U[23]/);

    const status = JSON.parse((await cli('status', request.id, '--json')).stdout) as { state: string; steps: Array<{ attempts: number }> };
    expect(status.state).toBe('completed');
    expect(status.steps.every((s) => s.attempts === 1)).toBe(true);
    const log = JSON.parse((await cli('log', 'show', '--request', request.id, '--json')).stdout) as Array<{ action: string }>;
    expect(log.filter((e) => e.action === 'request.approved')).toHaveLength(1);
    expect(log.filter((e) => e.action === 'run.completed')).toHaveLength(1);
    expect(log.filter((e) => e.action === 'step.done' )).toHaveLength(2);
  });

  it('detects an edited audit entry in the SQLite file', async () => {
    expect((await cli('log', 'verify')).code).toBe(0);
    const db = new sqlite3.Database(path.join(storeDir, 'postmaster.sqlite'));
    const run = (sql: string, ...params: unknown[]) => new Promise<void>((resolve, reject) => db.run(sql, params, (e) => (e ? reject(e) : resolve())));
    // Change who approved, the way someone covering their tracks would.
    await run(`UPDATE keyv SET value = replace(value, '"actor":"U2"', '"actor":"U3"') WHERE key LIKE 'audit:%' AND value LIKE '%request.approved%'`);
    await new Promise<void>((resolve) => db.close(() => resolve()));
    const verify = await cli('log', 'verify');
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/audit log is NOT intact at entry \d+: entry \d+ was edited/);
  });
});
