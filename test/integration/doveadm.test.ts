/**
 * The doveadm HTTP API client against a real Dovecot 2.3: sessions, Sieve on a disabled account,
 * deleting mail, and what the client reports when the API cannot be used.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ImapFlow } from 'imapflow';
import { describe, expect, it } from 'vitest';
import { PostmasterError } from '../../src/core/errors.js';
import { DoveadmClient, doveadmExitCode } from '../../src/providers/dovecot/doveadm.js';
import { setLoginDisabled } from '../../src/providers/dovecot/passwd-file.js';
import { freePort } from '../../src/sandbox/dovecot-instance.js';
import { deliverLmtp } from '../../src/sandbox/lmtp.js';
import { hasDovecot, useMailServer } from '../support/mail-server.js';

async function caught(promise: Promise<unknown>): Promise<PostmasterError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PostmasterError);
    return error as PostmasterError;
  }
  throw new Error('expected a PostmasterError');
}

/** The tagged reply to IMAP LOGIN. */
async function imapLogin(port: number, user: string, password: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let buffer = '';
      let last = '';
      socket.setTimeout(5000, () => reject(new Error('IMAP timeout')));
      socket.on('error', reject);
      // Dovecot can hang up without a tagged reply while a passwd-file change is being picked up.
      socket.on('close', () => resolve(last || '(closed)'));
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\r\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          last = line;
          if (line.startsWith('* OK')) socket.write(`a LOGIN "${user}" "${password}"\r\n`);
          else if (line.startsWith('a ')) resolve(line);
        }
      });
    });
  } finally {
    socket.destroy();
  }
}

describe.skipIf(!hasDovecot)('DoveadmClient on a real Dovecot', () => {
  const server = useMailServer();
  const client = () => new DoveadmClient({ url: server.dovecot.doveadmUrl, apiKey: server.dovecot.doveadmKey });

  async function openSession(user: string, password: string) {
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: server.dovecot.ports.imap,
      secure: false,
      auth: { user, pass: password },
      logger: false,
    });
    imap.on('error', () => undefined); // the kick surfaces as a socket error on some versions
    await imap.connect();
    await imap.mailboxOpen('INBOX');
    const closed = new Promise<void>((resolve) => imap.once('close', () => resolve()));
    return { imap, closed };
  }

  it('kick ends open IMAP sessions and counts them', async () => {
    const doveadm = client();
    const first = await openSession('bob@example.test', 'bob-pass');
    const second = await openSession('bob@example.test', 'bob-pass');
    const sessions = await doveadm.who('bob@example.test');
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({ user: 'bob@example.test', service: 'imap', ip: '127.0.0.1' });

    expect(await doveadm.kick('Bob@Example.test')).toBe(2);
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('session still open 5 s after kick')), 5000));
    await Promise.race([Promise.all([first.closed, second.closed]), timeout]);
    expect(first.imap.usable).toBe(false);
    expect(await doveadm.who('bob@example.test')).toEqual([]);
  });

  it('kick without a session returns 0; a wildcard is refused', async () => {
    const doveadm = client();
    expect(await doveadm.kick('carol@example.test')).toBe(0);
    expect(await doveadm.kick('nobody@example.test')).toBe(0);
    expect((await caught(doveadm.kick('*@example.test'))).code).toBe('BadInput');
  });

  it('manages Sieve scripts of a user whose login is disabled', async () => {
    const doveadm = client();
    await setLoginDisabled(server.dovecot.passwdFile, 'alice@example.test', true, 'Offboarded');
    // The premise: ManageSieve and IMAP (master user included) are closed to a nologin account.
    const deadline = Date.now() + 2500;
    let login = '';
    while (Date.now() < deadline && !(login = await imapLogin(server.dovecot.ports.imap, `alice@example.test*${server.dovecot.adminUser}`, server.dovecot.adminPassword)).startsWith('a NO')) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(login).toBe('a NO [CONTACTADMIN] Offboarded');

    const user = 'alice@example.test';
    const vacation = 'require ["vacation"];\nvacation :days 1 :subject "Away" "Alice has left.";\n';
    expect(await doveadm.sieveList(user)).toEqual([]);
    await doveadm.sievePut(user, 'vacation', vacation, true);
    await doveadm.sievePut(user, 'keep', 'keep;\n');
    expect(await doveadm.sieveList(user)).toEqual([
      { name: 'keep', active: false },
      { name: 'vacation', active: true },
    ]);
    expect(await doveadm.sieveGet(user, 'vacation')).toBe(vacation);

    await doveadm.sieveActivate(user, 'keep');
    expect((await doveadm.sieveList(user)).filter((s) => s.active).map((s) => s.name)).toEqual(['keep']);
    await doveadm.sieveDeactivate(user);
    await doveadm.sieveDeactivate(user); // nothing active: still fine
    expect((await doveadm.sieveList(user)).some((s) => s.active)).toBe(false);

    await doveadm.sieveDelete(user, 'vacation');
    expect((await doveadm.sieveList(user)).map((s) => s.name)).toEqual(['keep']);
    expect((await caught(doveadm.sieveGet(user, 'vacation'))).code).toBe('NotFound');
    expect((await caught(doveadm.sieveDelete(user, 'vacation'))).code).toBe('NotFound');
    expect((await caught(doveadm.sieveActivate(user, 'vacation'))).code).toBe('NotFound');

    await doveadm.sieveActivate(user, 'keep');
    const active = await caught(doveadm.sieveDelete(user, 'keep'));
    expect(active.code).toBe('Conflict');
    expect(doveadmExitCode(active)).toBe(65);
    await doveadm.sieveDelete(user, 'keep', { ignoreActive: true });
    expect(await doveadm.sieveList(user)).toEqual([]);

    const broken = await caught(doveadm.sievePut(user, 'broken', 'this is not sieve'));
    expect(broken.code).toBe('BadInput');
    expect(broken.message).toContain('broken');
    expect(await doveadm.sieveList(user)).toEqual([]);

    await setLoginDisabled(server.dovecot.passwdFile, user, false);
  });

  it('reports an unknown user as NotFound (exit code 67)', async () => {
    const doveadm = client();
    for (const attempt of [
      doveadm.sieveList('nobody@example.test'),
      doveadm.expungeAll('nobody@example.test'),
      doveadm.mailboxStatus('nobody@example.test', ['messages']),
    ]) {
      const error = await caught(attempt);
      expect(error.code).toBe('NotFound');
      expect(doveadmExitCode(error)).toBe(67);
      expect(error.message).toContain('nobody@example.test');
    }
    expect(await doveadm.who('nobody@example.test')).toEqual([]);
  });

  it('expungeAll empties every folder and keeps the folders', async () => {
    const doveadm = client();
    const user = 'carol@example.test';
    for (const subject of ['one', 'two']) {
      await deliverLmtp(server.dovecot.ports.lmtp, { from: 'x@sender.test', to: user, subject });
    }
    await doveadm.run('mailboxCreate', { user, mailbox: ['Projects/2024'] });
    await doveadm.run('save', { user, mailbox: 'Projects/2024', file: 'Subject: filed\r\n\r\nbody\r\n' });

    const before = await doveadm.mailboxStatus(user, ['messages', 'vsize'], '*');
    expect(before.reduce((sum, row) => sum + (row.messages ?? 0), 0)).toBe(3);
    expect(before.find((row) => row.mailbox === 'INBOX')).toMatchObject({ messages: 2, vsize: expect.any(Number) });
    expect(before.find((row) => row.mailbox === 'INBOX')!.vsize).toBeGreaterThan(0);

    await doveadm.expungeAll(user);
    const after = await doveadm.mailboxStatus(user, ['messages'], '*');
    expect(after.map((row) => row.mailbox).sort()).toEqual(['INBOX', 'Projects/2024']);
    expect(after.every((row) => row.messages === 0)).toBe(true);
  });

  it('mailboxDeleteAll leaves only an empty INBOX', async () => {
    const doveadm = client();
    const user = 'dave@example.test';
    await deliverLmtp(server.dovecot.ports.lmtp, { from: 'x@sender.test', to: user, subject: 'inbox' });
    await doveadm.run('mailboxCreate', { user, mailbox: ['Archive/2020/Q1', 'Privé/Année', 'Trash'] });
    await doveadm.run('save', { user, mailbox: 'Archive/2020/Q1', file: 'Subject: a\r\n\r\nbody\r\n' });
    await doveadm.run('save', { user, mailbox: 'Privé/Année', file: 'Subject: b\r\n\r\nbody\r\n' });
    await doveadm.run('save', { user, mailbox: 'Trash', file: 'Subject: c\r\n\r\nbody\r\n' });

    const { deletedMailboxes } = await doveadm.mailboxDeleteAll(user);
    expect(deletedMailboxes).toEqual(expect.arrayContaining(['Archive/2020/Q1', 'Privé/Année', 'Trash']));
    const left = await doveadm.mailboxStatus(user, ['messages'], '*');
    expect(left).toEqual([{ mailbox: 'INBOX', messages: 0 }]);
    // Running it again on an emptied mailbox is harmless.
    await doveadm.mailboxDeleteAll(user);
  });

  it('mailboxStatus parses numbers and refuses unknown fields before asking the server', async () => {
    const doveadm = client();
    const [inbox] = await doveadm.mailboxStatus('alice@example.test', ['all'], 'INBOX');
    expect(inbox).toMatchObject({ mailbox: 'INBOX', messages: expect.any(Number), uidvalidity: expect.any(Number), guid: expect.any(String) });
    // An unknown field makes the doveadm worker die with a Fatal and drop the connection.
    expect((await caught(doveadm.mailboxStatus('alice@example.test', ['bogus' as 'messages']))).code).toBe('BadInput');
    expect((await caught(doveadm.mailboxStatus('alice@example.test', ['messages'], 'NoSuchFolder'))).code).toBe('NotFound');
  });

  it('run passes any command through and reports unknown ones as Unsupported', async () => {
    const doveadm = client();
    const rows = await doveadm.run<Array<{ mailbox: string }>>('mailboxList', { user: 'alice@example.test' });
    expect(rows.map((row) => row.mailbox)).toContain('INBOX');
    expect((await caught(doveadm.run('noSuchCommand', {}))).code).toBe('Unsupported');
  });

  it('a wrong key is Unavailable and never shows the key', async () => {
    const key = `wrong-${Math.random().toString(36).slice(2)}`;
    const doveadm = new DoveadmClient({ url: server.dovecot.doveadmUrl, apiKey: key });
    const error = await caught(doveadm.sieveList('alice@example.test'));
    expect(error.code).toBe('Unavailable');
    expect(error.message).toBe('doveadm API refused the key (DOVECOT_DOVEADM_KEY)');
    const shown = `${error.message} ${error.hint ?? ''} ${JSON.stringify(error)} ${String(error.stack)}`;
    expect(shown).not.toContain(key);
    expect(shown).not.toContain(Buffer.from(key).toString('base64'));
  });

  it('an unreachable or silent server is Unavailable, naming the URL', async () => {
    const port = await freePort();
    const refused = await caught(new DoveadmClient({ url: `http://127.0.0.1:${port}`, apiKey: 'k' }).who('alice@example.test'));
    expect(refused.code).toBe('Unavailable');
    expect(refused.message).toContain(`http://127.0.0.1:${port}/doveadm/v1`);
    expect(refused.message).toContain('ECONNREFUSED');

    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const timedOut = await caught(new DoveadmClient({ url, apiKey: 'k', timeoutMs: 200 }).who('alice@example.test'));
      expect(timedOut.code).toBe('Unavailable');
      expect(timedOut.message).toContain(url);
      expect(timedOut.message).toContain('200 ms');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
