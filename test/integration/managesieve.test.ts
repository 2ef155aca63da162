/**
 * The ManageSieve client, the Sieve reader and Postmaster's own script against a real Dovecot +
 * Pigeonhole: what the server answers, and what delivery then does with the scripts.
 */
import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManageSieveClient, isManageSieveError, type ManageSieveError } from '../../src/providers/dovecot/managesieve/index.js';
import { countRedirects, extractForwarding } from '../../src/providers/dovecot/sieve/forwarding.js';
import { POSTMASTER_SCRIPT_NAME, renderPostmasterScript, type PostmasterSieveState } from '../../src/providers/dovecot/sieve/postmaster-script.js';
import { deliverLmtp } from '../../src/sandbox/lmtp.js';
import type { SunkMessage } from '../../src/sandbox/smtp-sink.js';
import { DEFAULT_USERS, hasDovecot, useMailServer } from '../support/mail-server.js';

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const header = (message: SunkMessage, name: string) => String(message.parsed.headers.get(name) ?? '');

async function failure(promise: Promise<unknown>): Promise<ManageSieveError> {
  try {
    await promise;
  } catch (error) {
    if (isManageSieveError(error)) return error;
    throw error;
  }
  throw new Error('expected a ManageSieveError');
}

describe.skipIf(!hasDovecot)('ManageSieve and Sieve delivery on a real Dovecot', () => {
  const server = useMailServer({
    users: [...DEFAULT_USERS, { address: 'eve@example.test', password: 'eve-pass', extra: { nologin: 'y', reason: 'Account_disabled' } }],
  });
  beforeAll(async () => {
    // mkdtemp makes the run directory 0700; as root, Dovecot's auth (user dovecot) and delivery
    // (uid 5000) then cannot reach the passwd files or the mail homes below it ("Temporary
    // authentication failure"). They open those lazily, so opening the directory up here suffices.
    if (process.getuid?.() === 0) await chmod(server.dir, 0o711);
  });
  const as = (mailbox: string, password?: string) =>
    ManageSieveClient.connect({
      host: '127.0.0.1',
      port: server.dovecot.ports.sieve,
      user: server.dovecot.adminUser,
      authzid: mailbox,
      password: password ?? server.dovecot.adminPassword,
      timeoutMs: 5000,
    });
  const sieveLog = (localpart: string) => readFile(path.join(server.dovecot.dir, 'mail/example.test', localpart, '.dovecot.sieve.log'), 'utf8').catch(() => '');

  it('logs in as alice through the master user and sees MAXREDIRECTS only after login', async () => {
    const client = await as('alice@example.test');
    expect(client.capabilities.maxRedirects).toBe(4);
    expect(client.capabilities.implementation).toMatch(/Pigeonhole/);
    expect(client.capabilities.sieveExtensions).toEqual(expect.arrayContaining(['vacation', 'copy', 'include', 'date', 'relational', 'fileinto']));
    expect(await client.listScripts()).toEqual([]);
    await client.logout();
  });

  it('puts, checks, lists, gets, activates, deactivates and deletes scripts', async () => {
    const client = await as('bob@example.test');
    const name = 'bob rules "订单"';
    const text = 'require ["fileinto"];\r\n# 订单 → Orders\r\nif header :contains "subject" "订单" { fileinto "Orders"; }\r\n';
    expect(await client.checkScript(text)).toEqual({});
    expect(await client.putScript(name, text)).toEqual({});
    await client.putScript('other', 'keep;\n');
    expect(await client.listScripts()).toEqual(expect.arrayContaining([{ name, active: false }, { name: 'other', active: false }]));
    expect(await client.getScript(name)).toBe(text);

    await client.setActive(name);
    expect(await client.activeScript()).toBe(name);
    expect((await failure(client.deleteScript(name))).kind).toBe('Active');

    await client.setActive('');
    expect(await client.activeScript()).toBeNull();
    await client.deleteScript(name);
    await client.deleteScript('other');
    expect(await client.listScripts()).toEqual([]);
    expect(await failure(client.getScript(name))).toMatchObject({ kind: 'NonExistent', code: 'NotFound', responseCode: 'NONEXISTENT' });
    expect((await failure(client.setActive('missing'))).kind).toBe('NonExistent');
    await client.logout();
  });

  it('refuses a bad script with ScriptError carrying the compiler messages, and stores nothing', async () => {
    const client = await as('bob@example.test');
    const checked = await failure(client.checkScript('require "copy";\nredirect :copy 42;\n'));
    expect(checked).toMatchObject({ kind: 'ScriptError', code: 'BadInput' });
    expect(checked.serverText).toMatch(/line 2: error/);
    expect((await failure(client.putScript('broken', 'if true {\n  keep;\n'))).kind).toBe('ScriptError');
    expect(await client.listScripts()).toEqual([]);
    expect(await client.checkScript('require "include";\ninclude "nowhere";\n')).toEqual({ warnings: expect.stringMatching(/does not exist/) });
    await client.logout();
  });

  it('tells a wrong password, an unknown mailbox and a disabled login apart', async () => {
    const wrong = await failure(as('alice@example.test', 'not-the-password'));
    expect(wrong).toMatchObject({ kind: 'AuthenticationFailed', serverText: 'Authentication failed.' });
    expect(wrong.message).not.toContain('not-the-password');
    expect(await failure(as('nobody@example.test'))).toMatchObject({ kind: 'AuthorizationFailed', serverText: 'Authorization failed' });
    // passwd-file nologin=y reason=Account_disabled: Dovecot answers NO "Account_disabled", even to the master user.
    expect(await failure(as('eve@example.test'))).toMatchObject({ kind: 'LoginDisabled', code: 'Refused', serverText: 'Account_disabled' });
  });

  it('accepts the rendered postmaster script with every feature in CHECKSCRIPT', async () => {
    const client = await as('carol@example.test');
    const state: PostmasterSieveState = {
      userScript: 'carol "own" rules',
      forward: { targets: ['a@external.test', 'b@external.test'], keepCopy: false, expiresAt: '2031-01-01T00:00:00Z' },
      autoReply: { subject: 'Abwesend: "Grüße" \\ 订单', body: 'Line one.\n.\n..two dots\nThe end.', addresses: ['carol@example.test'], startDate: '2020-01-01', endDate: '2031-01-01', days: 2 },
      rules: [{ id: 'r1', targets: ['c@external.test'], keepCopy: true, match: 'all', senderContains: ['boss@'], subjectContains: ['订单'] }],
    };
    expect(await client.checkScript(renderPostmasterScript(state))).toEqual({});
    expect(await client.checkScript(renderPostmasterScript({ userScript: null, forward: { targets: ['a@external.test'], keepCopy: true } }))).toEqual({});
    await client.logout();
  });

  it('forwards, replies and still runs the user\'s own rule when the postmaster script includes it', async () => {
    const client = await as('alice@example.test');
    const userScript = 'alice-rules';
    const userText = 'require ["fileinto", "mailbox"];\nif header :contains "subject" "invoice" { fileinto :create "Invoices"; }\n';
    await client.putScript(userScript, userText);
    await client.setActive(userScript);

    const state: PostmasterSieveState = {
      userScript: (await client.activeScript())!,
      forward: { targets: ['dave@external.test'], keepCopy: true, expiresAt: '2999-12-31' },
      autoReply: { subject: 'Out of office', body: 'I have left the company.\nPlease write to bob@example.test.\n', addresses: ['alice@example.test'], startDate: '2000-01-01', endDate: '2999-12-31', days: 1 },
      rules: [{ id: 'orders', targets: ['orders@external.test'], keepCopy: true, match: 'any', subjectContains: ['订单'] }],
    };
    const script = renderPostmasterScript(state);
    await client.putScript(POSTMASTER_SCRIPT_NAME, script);
    await client.setActive(POSTMASTER_SCRIPT_NAME);
    expect(await client.listScripts()).toEqual(expect.arrayContaining([{ name: POSTMASTER_SCRIPT_NAME, active: true }, { name: userScript, active: false }]));

    // What the audit sees: the stored script, read back with the user's script behind the include.
    const stored = await client.getScript(POSTMASTER_SCRIPT_NAME);
    const reading = extractForwarding(stored, { scriptName: POSTMASTER_SCRIPT_NAME, loadInclude: (name) => (name === userScript ? userText : undefined) });
    expect(reading.redirects.map((r) => r.target)).toEqual(['orders@external.test', 'dave@external.test']);
    expect(countRedirects(reading)).toBeLessThanOrEqual(client.capabilities.maxRedirects!);
    await client.logout();

    const id = unique();
    const sender = `sender-${id}@sender.test`;
    const subject = `Your invoice ${id}`;
    const reply = await deliverLmtp(server.dovecot.ports.lmtp, { from: sender, to: 'alice@example.test', subject, messageId: `<${id}@sender.test>` });
    expect(reply).toMatch(/^250 /);

    const redirected = await server.sink.waitFor((m) => m.envelopeTo.includes('dave@external.test') && m.parsed.subject === subject);
    expect(header(redirected, 'x-sieve-redirected-from')).toBe('alice@example.test');
    expect(redirected.envelopeFrom).toBe(sender);
    const vacation = await server.sink.waitFor((m) => m.envelopeTo.includes(sender));
    expect(header(vacation, 'auto-submitted')).toMatch(/^auto-replied/);
    expect(vacation.envelopeFrom).toBe('');
    expect(vacation.parsed.subject).toBe('Out of office');
    expect(vacation.parsed.text).toContain('Please write to bob@example.test.');
    expect(server.sink.messages.some((m) => m.envelopeTo.includes('orders@external.test') && m.parsed.subject === subject)).toBe(false);

    // alice's own rule acted too: the message went to the folder her script files into.
    const imap = new ImapFlow({ host: '127.0.0.1', port: server.dovecot.ports.imap, secure: false, auth: { user: 'alice@example.test', pass: 'alice-pass' }, logger: false });
    await imap.connect();
    try {
      const lock = await imap.getMailboxLock('Invoices');
      try {
        expect(await imap.search({ header: { 'message-id': `<${id}@sender.test>` } })).toHaveLength(1);
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout();
    }

    // A conditional rule: a subject with 订单 also goes to the orders address.
    const orderId = unique();
    await deliverLmtp(server.dovecot.ports.lmtp, { from: `buyer-${orderId}@sender.test`, to: 'alice@example.test', subject: `新订单 ${orderId}`, messageId: `<${orderId}@sender.test>` });
    const order = await server.sink.waitFor((m) => m.envelopeTo.includes('orders@external.test') && String(m.parsed.subject).includes(orderId));
    expect(header(order, 'x-sieve-redirected-from')).toBe('alice@example.test');
  });

  it('keeps delivering when the included user script is gone, thanks to include :optional', async () => {
    const client = await as('dave@example.test');
    await client.putScript(POSTMASTER_SCRIPT_NAME, renderPostmasterScript({ userScript: 'deleted-later', forward: { targets: ['keeper@external.test'], keepCopy: true } }));
    await client.setActive(POSTMASTER_SCRIPT_NAME);
    await client.logout();
    const id = unique();
    await deliverLmtp(server.dovecot.ports.lmtp, { from: `s-${id}@sender.test`, to: 'dave@example.test', subject: `optional ${id}` });
    await server.sink.waitFor((m) => m.envelopeTo.includes('keeper@external.test') && m.parsed.subject === `optional ${id}`);
  });

  it('documents why a second vacation must be avoided: Pigeonhole then fails the whole run', async () => {
    const client = await as('carol@example.test');
    const userText = 'require "vacation";\nvacation :days 1 "Carol is away.";\n';
    await client.putScript('carol-away', userText);
    await client.putScript(
      POSTMASTER_SCRIPT_NAME,
      renderPostmasterScript({
        userScript: 'carol-away',
        forward: { targets: ['lost@external.test'], keepCopy: true },
        autoReply: { subject: 'Away', body: 'Postmaster reply.', addresses: ['carol@example.test'] },
      }),
    );
    await client.setActive(POSTMASTER_SCRIPT_NAME);
    await client.logout();
    expect(extractForwarding(userText).hasVacation).toBe(true);

    const id = unique();
    expect(await deliverLmtp(server.dovecot.ports.lmtp, { from: `s-${id}@sender.test`, to: 'carol@example.test', subject: `dup ${id}` })).toMatch(/^250 /);
    expect(await sieveLog('carol')).toMatch(/duplicate vacation action not allowed/);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.sink.messages.some((m) => m.parsed.subject === `dup ${id}`)).toBe(false);
  });
});
