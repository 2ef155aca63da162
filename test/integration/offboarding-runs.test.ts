/**
 * Runs that do not go smoothly, driven through the core use-cases with a real Dovecot, a real
 * SQLite file and a clock the test moves.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasDovecot, useMailServer } from '../support/mail-server.js';
import { testEnv, testPostmaster, type TestPostmaster } from '../support/postmaster.js';
import { folderCounts, tryImapLogin } from '../support/mail-checks.js';
import { deliverLmtp } from '../../src/sandbox/lmtp.js';
import type { MailProvider } from '../../src/core/provider.js';

const USERS = ['frank', 'grace', 'heidi', 'ivan', 'judy', 'ken', 'leo'].map((n) => ({ address: `${n}@example.test`, password: `${n}-pass` }));

/** Counts every provider call that changes something, so a test can see no step ran twice. */
function countingProvider(real: MailProvider, calls: string[], afterCall?: (method: string) => Promise<void>): MailProvider {
  return new Proxy(real, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || !['export', 'setForwarding', 'setAutoReply', 'revokeSessions', 'disable', 'delete'].includes(String(property))) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (...args: unknown[]) => {
        calls.push(String(property));
        const result = await value.apply(target, args);
        await afterCall?.(String(property));
        return result;
      };
    },
  });
}

describe.skipIf(!hasDovecot)('offboarding runs', () => {
  const server = useMailServer({ users: USERS });
  let env: Record<string, string>;
  let storeDir: string;
  let app: TestPostmaster | undefined;

  beforeAll(async () => {
    storeDir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-runs-'));
    env = testEnv(server, storeDir);
    for (const user of ['frank', 'grace', 'heidi']) {
      for (let i = 0; i < 3; i++) await deliverLmtp(server.dovecot.ports.lmtp, { from: `x${i}@sender.test`, to: `${user}@example.test`, subject: `note ${i}` });
    }
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('fails at the step where Dovecot went away, and retry finishes without repeating a step', async () => {
    const calls: string[] = [];
    let outage = true;
    app = await testPostmaster(env, {
      provider: (real) =>
        countingProvider(real, calls, async (method) => {
          if (method === 'export' && outage) {
            outage = false;
            await server.dovecot.kill();
          }
        }),
    });
    const request = await app.offboarding.request('U1', { mailbox: 'frank', forward: { targets: ['grace@example.test'] }, autoReply: { subject: 'Gone', body: 'Ask grace.' } });
    await app.offboarding.approve('U2', request.id);
    const failed = await app.offboarding.run(request.id);
    expect(failed.state).toBe('failed');
    expect(failed.steps.map((s) => [s.name, s.status])).toEqual([
      ['backup', 'done'], ['forward', 'failed'], ['auto_reply', 'pending'], ['revoke_sessions', 'pending'], ['disable', 'pending'],
    ]);
    expect(failed.steps[1]!.error).toBeTruthy();

    await server.dovecot.start();
    const finished = await app.offboarding.retry('U2', request.id);
    expect(finished.state).toBe('completed');
    expect(calls).toEqual(['export', 'setForwarding', 'setForwarding', 'setAutoReply', 'revokeSessions', 'disable']);
    expect(finished.steps.map((s) => s.attempts)).toEqual([1, 2, 1, 1, 1]);
    expect(await tryImapLogin(server.dovecot, 'frank@example.test', 'frank-pass')).not.toBe('ok');
  });

  it('deletes only after the retention period, and only with a verified backup', async () => {
    app = await testPostmaster(env);
    const request = await app.offboarding.request('U1', { mailbox: 'grace', deleteAfterDays: 30 });
    await app.offboarding.approve('U3', request.id);
    const waiting = await app.offboarding.run(request.id);
    expect(waiting.state).toBe('scheduled');
    expect(waiting.steps.at(-1)).toMatchObject({ name: 'delete', status: 'waiting' });
    expect(Date.parse(waiting.nextDueAt!)).toBeGreaterThan(app.clock.now().getTime() + 29 * 86_400_000);

    // Not yet due: a sweep leaves it alone, twice.
    app.clock.advanceDays(29);
    expect(await app.offboarding.sweep()).toEqual([]);
    expect(await app.offboarding.sweep()).toEqual([]);
    expect(await app.provider.getMailbox('grace@example.test')).toBeDefined();

    app.clock.advanceDays(2);
    const [done] = await app.offboarding.sweep();
    expect(done).toMatchObject({ id: request.id, state: 'completed' });
    expect(await app.provider.getMailbox('grace@example.test')).toBeUndefined();
    expect(await readFile(server.dovecot.passwdFile, 'utf8')).not.toContain('grace@');
    // The backup outlives the mailbox.
    const manifest = JSON.parse(await readFile(path.join(done!.backup!.directory, 'manifest.json'), 'utf8'));
    expect(manifest.totalMessages).toBe(3);
    // A second sweep has nothing left to do.
    expect(await app.offboarding.sweep()).toEqual([]);
  });

  it('refuses the delete when the backup no longer checks out, and leaves the mailbox', async () => {
    app = await testPostmaster(env);
    const request = await app.offboarding.request('U1', { mailbox: 'heidi', deleteAfterDays: 7 });
    await app.offboarding.approve('U2', request.id);
    const waiting = await app.offboarding.run(request.id);
    await rm(path.join(waiting.backup!.directory, waiting.backup!.manifest.folders[0]!.file));

    app.clock.advanceDays(8);
    const [refused] = await app.offboarding.sweep();
    expect(refused!.state).toBe('failed');
    expect(refused!.steps.at(-1)!.error).toMatch(/delete of heidi@example.test refused: the backup no longer checks out .*missing/);
    expect(await app.provider.getMailbox('heidi@example.test')).toMatchObject({ status: 'disabled' });
    expect(await folderCounts(server.dovecot, 'heidi@example.test')).toMatchObject({ INBOX: 3 });
  });

  it('waits for a future effective date, then the sweep carries it out once', async () => {
    app = await testPostmaster(env);
    const effectiveAt = new Date(app.clock.now().getTime() + 2 * 86_400_000).toISOString();
    const request = await app.offboarding.request('U1', { mailbox: 'leo', backup: false, revokeSessions: false, effectiveAt });
    const approved = await app.offboarding.approve('U2', request.id);
    expect(approved).toMatchObject({ state: 'scheduled', nextDueAt: effectiveAt });
    // Approving does not run it, and neither does a sweep before the date.
    expect((await app.offboarding.run(request.id)).state).toBe('scheduled');
    expect(await app.offboarding.sweep()).toEqual([]);
    expect(await tryImapLogin(server.dovecot, 'leo@example.test', 'leo-pass')).toBe('ok');

    app.clock.advanceDays(3);
    const [ran] = await app.offboarding.sweep();
    expect(ran).toMatchObject({ id: request.id, state: 'completed' });
    expect(await tryImapLogin(server.dovecot, 'leo@example.test', 'leo-pass')).not.toBe('ok');
    expect(await app.offboarding.sweep()).toEqual([]);
  });

  it('refuses a plan with delete but no backup before anyone approves it', async () => {
    app = await testPostmaster(env);
    await expect(app.offboarding.request('U1', { mailbox: 'ivan', backup: false, deleteAfterDays: 30 })).rejects.toThrow(/delete needs a backup/);
    expect(await app.offboarding.list()).not.toContainEqual(expect.objectContaining({ mailbox: 'ivan@example.test' }));
  });

  it('refuses a second offboarding of a mailbox, and approval once the approval window has passed', async () => {
    app = await testPostmaster(env);
    const request = await app.offboarding.request('U1', { mailbox: 'ivan' });
    await expect(app.offboarding.request('U1', { mailbox: 'ivan' })).rejects.toThrow(`ivan@example.test already has an open offboarding, ${request.id} (pending approval)`);
    app.clock.advanceDays(4);
    await expect(app.offboarding.approve('U2', request.id)).rejects.toThrow(/more than 72 h ago/);
    expect((await app.offboarding.get(request.id)).state).toBe('pending_approval');
    // Past the window it no longer stands in the way: its refusal says to file a new request.
    const again = await app.offboarding.request('U1', { mailbox: 'ivan' });
    await app.offboarding.cancel('U1', again.id);
    await app.offboarding.cancel('U1', request.id);
    expect((await app.audit.read()).entries.filter((e) => e.action === 'refused.request').map((e) => e.detail)).toContainEqual(expect.stringContaining('already has an open offboarding'));
  });

  it('refuses a forward over the server redirect limit, naming the limit', async () => {
    app = await testPostmaster(env);
    // Five targets: allowed by Postmaster, but over the stock server's MAXREDIRECTS of 4.
    const live = ['judy@example.test', 'ken@example.test', 'a@partner.test', 'b@partner.test', 'c@partner.test'];
    await expect(app.offboarding.request('U1', { mailbox: 'ivan', forward: { targets: live } })).rejects.toThrow(/server's limit of 4 redirects per message \(MAXREDIRECTS\)/);
  });

  it('never writes a secret to the logs, the store or the audit log', async () => {
    app = await testPostmaster({ ...env, LOG_LEVEL: 'trace' });
    const request = await app.offboarding.request('U1', { mailbox: 'judy', forward: { targets: ['ken@example.test'] } });
    await app.offboarding.approve('U2', request.id);
    expect((await app.offboarding.run(request.id)).state).toBe('completed');
    const logs = app.logLines.join('');
    await app.close();
    app = undefined;
    // The run was logged in detail, so the absence below means something.
    expect(logs).toContain(request.id);
    expect(logs).toMatch(/step done/);
    const secrets = [server.dovecot.adminPassword, server.dovecot.doveadmKey, Buffer.from(server.dovecot.doveadmKey).toString('base64')];
    const store = await readFile(path.join(storeDir, 'postmaster.sqlite'));
    for (const secret of secrets) {
      expect(logs).not.toContain(secret);
      expect(store.includes(secret)).toBe(false);
    }
  });
});
