/**
 * passwd-file edits against a real Dovecot: what IMAP and LMTP do after each edit, how soon Dovecot
 * notices, and that concurrent writers (in this process and in others) lose nothing.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPasswdFile, removeEntry, setLoginDisabled } from '../../src/providers/dovecot/passwd-file.js';
import { deliverLmtp } from '../../src/sandbox/lmtp.js';
import { DEFAULT_USERS, hasDovecot, useMailServer } from '../support/mail-server.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODULE = path.join(REPO, 'src/providers/dovecot/passwd-file.ts');
const CROWD = Array.from({ length: 40 }, (_, i) => ({ address: `crowd${i}@example.test`, password: `crowd${i}-pass` }));

/**
 * The tagged reply to IMAP LOGIN, e.g. "a NO [CONTACTADMIN] Left_the_company", or the last line
 * before the server hung up. In the second a passwd-file change lands, Dovecot can pass the login
 * with the old file and look up the userdb in the new one: the imap process then says
 * "* BYE Internal error" and closes without a tagged reply.
 */
async function imapLogin(port: number, user: string, password: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let buffer = '';
      let last = '';
      let greeted = false;
      socket.setTimeout(5000, () => reject(new Error('IMAP timeout')));
      socket.on('error', reject);
      socket.on('close', () => resolve(last || '(closed)'));
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        let index: number;
        while ((index = buffer.indexOf('\r\n')) >= 0) {
          const line = buffer.slice(0, index);
          buffer = buffer.slice(index + 2);
          last = line;
          if (!greeted) {
            greeted = true;
            socket.write(`a LOGIN "${user}" "${password}"\r\n`);
          } else if (line.startsWith('a ')) {
            socket.write('b LOGOUT\r\n');
            resolve(line);
          }
        }
      });
    });
  } finally {
    socket.destroy();
  }
}

/**
 * Logs in until the reply matches. Dovecot looks at the file at most once a second, so a change
 * it notices shows within about a second; one it missed (same mtime second and size) never shows,
 * which the generous bound turns into a failure without making the test depend on machine speed.
 */
async function waitForLogin(port: number, user: string, password: string, expected: RegExp, withinMs = 10_000) {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < withinMs) {
    last = await imapLogin(port, user, password);
    if (expected.test(last)) return { reply: last, ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`login as ${user} still answers "${last}" after ${withinMs} ms, expected ${expected}`);
}

const OK = /^a OK /;
const refusedWith = (reason: string) => new RegExp(`^a NO \\[CONTACTADMIN\\] ${reason}$`);

describe.skipIf(!hasDovecot)('passwd-file on a real Dovecot', () => {
  const server = useMailServer({ users: [...DEFAULT_USERS, ...CROWD] });
  const imap = () => server.dovecot.ports.imap;

  it('disable refuses IMAP login (master user too) but keeps LMTP delivery; enable restores it', async () => {
    const file = server.dovecot.passwdFile;
    expect(await waitForLogin(imap(), 'alice@example.test', 'alice-pass', OK)).toBeTruthy();

    expect(await setLoginDisabled(file, 'Alice@Example.test', true, 'Left the company')).toBe('changed');
    const { reply } = await waitForLogin(imap(), 'alice@example.test', 'alice-pass', /^a NO /);
    expect(reply).toBe('a NO [CONTACTADMIN] Left_the_company');

    // nologin is checked after the master passdb hands over, so admin impersonation is refused too.
    const master = await imapLogin(imap(), `alice@example.test*${server.dovecot.adminUser}`, server.dovecot.adminPassword);
    expect(master).toBe('a NO [CONTACTADMIN] Left_the_company');

    const delivered = await deliverLmtp(server.dovecot.ports.lmtp, { from: 'someone@sender.test', to: 'alice@example.test', subject: 'still arrives' });
    expect(delivered).toMatch(/^250 2\.0\.0 <alice@example\.test> .*Saved/);

    expect(await setLoginDisabled(file, 'alice@example.test', false)).toBe('changed');
    await waitForLogin(imap(), 'alice@example.test', 'alice-pass', OK);
    expect((await readPasswdFile(file)).find((e) => e.address === 'alice@example.test')).toMatchObject({ disabled: false, extra: {} });
  });

  it('disable -> enable -> disable each take effect without the writer sleeping', async () => {
    const file = server.dovecot.passwdFile;
    const steps: Array<[boolean, RegExp]> = [
      [true, refusedWith('Step_one')],
      [false, OK],
      [true, refusedWith('Step_one')],
    ];
    for (const [disabled, expected] of steps) {
      await setLoginDisabled(file, 'bob@example.test', disabled, 'Step one');
      // Dovecot's own limit is one look at the file per second; nothing here waits on a clock.
      await waitForLogin(imap(), 'bob@example.test', 'bob-pass', expected);
    }
    await setLoginDisabled(file, 'bob@example.test', false);
    await waitForLogin(imap(), 'bob@example.test', 'bob-pass', OK);
  });

  it('a same-size edit in the same second as the one Dovecot just loaded is still noticed', async () => {
    // Without the mtime bump this is the edit Dovecot misses for good: same whole-second mtime and
    // same size as the version it loaded a moment before.
    const file = server.dovecot.passwdFile;
    for (let attempt = 0; ; attempt++) {
      // Start just after a second boundary so the steps below share one wall-clock second.
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
      const second = Math.floor(Date.now() / 1000);
      await setLoginDisabled(file, 'carol@example.test', true, 'Reason_A');
      expect(await imapLogin(imap(), 'carol@example.test', 'carol-pass')).toBe('a NO [CONTACTADMIN] Reason_A');
      await setLoginDisabled(file, 'carol@example.test', true, 'Reason_B');
      if (Math.floor(Date.now() / 1000) !== second) {
        if (attempt < 3) continue; // the machine was too slow to stay within one second; try again
        throw new Error('could not make two edits within one second');
      }
      await waitForLogin(imap(), 'carol@example.test', 'carol-pass', refusedWith('Reason_B'));
      break;
    }
    await setLoginDisabled(file, 'carol@example.test', false);
    await waitForLogin(imap(), 'carol@example.test', 'carol-pass', OK);
  });

  it('removeEntry: login fails and LMTP refuses the recipient', async () => {
    const file = server.dovecot.passwdFile;
    expect(await removeEntry(file, 'DAVE@example.test')).toBe('removed');
    // In the second the change lands a login can also fail as "[UNAVAILABLE] Internal error"
    // (password checked against the old file, userdb read from the new one); wait for the final answer.
    const { reply } = await waitForLogin(imap(), 'dave@example.test', 'dave-pass', /^a NO \[AUTHENTICATIONFAILED\]/);
    expect(reply).toBe('a NO [AUTHENTICATIONFAILED] Authentication failed.');
    await expect(
      deliverLmtp(server.dovecot.ports.lmtp, { from: 'someone@sender.test', to: 'dave@example.test', subject: 'bounce' }),
    ).rejects.toThrow(/RCPT TO refused: 550 5\.1\.1 .*User doesn't exist/);
    expect(await removeEntry(file, 'dave@example.test')).toBe('absent');
    expect((await readPasswdFile(file)).map((e) => e.address)).not.toContain('dave@example.test');
  });

  it('20 concurrent edits here and 2 other processes editing at the same time lose nothing', async () => {
    const file = server.dovecot.passwdFile;
    const before = (await readFile(file, 'latin1')).split('\n').filter((line) => !line.startsWith('crowd'));
    const children = [CROWD.slice(20, 30), CROWD.slice(30, 40)].map((users) => startWriter(file, users.map((u) => u.address)));
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.go();
    const here = await Promise.all(CROWD.slice(0, 20).map((u) => setLoginDisabled(file, u.address, true, 'Crowd')));
    const there = await Promise.all(children.map((child) => child.done));

    expect(here).toEqual(Array(20).fill('changed'));
    expect(there.flat()).toEqual(Array(20).fill('changed'));
    const entries = await readPasswdFile(file);
    const crowd = entries.filter((e) => e.address.startsWith('crowd'));
    expect(crowd).toHaveLength(40);
    expect(crowd.filter((e) => !(e.disabled && e.reason === 'Crowd')).map((e) => e.address)).toEqual([]);
    expect((await readFile(file, 'latin1')).split('\n').filter((line) => !line.startsWith('crowd'))).toEqual(before);
    expect((await readdir(path.dirname(file))).filter((name) => /\.lock|\.tmp/.test(name))).toEqual([]);

    await waitForLogin(imap(), 'crowd0@example.test', 'crowd0-pass', refusedWith('Crowd'));
    await waitForLogin(imap(), 'crowd39@example.test', 'crowd39-pass', refusedWith('Crowd'));
  });
});

/** Another Postmaster process: loads the module, says "ready", and on "go" disables its users at once. */
function startWriter(file: string, users: string[]) {
  const code = `
    const { setLoginDisabled } = await import(${JSON.stringify(MODULE)});
    const users = JSON.parse(process.env.PM_USERS);
    process.stdout.write('ready\\n');
    process.stdin.once('data', async () => {
      const results = await Promise.all(users.map((u) => setLoginDisabled(process.env.PM_FILE, u, true, 'Crowd')));
      process.stdout.write(JSON.stringify(results) + '\\n');
      process.exit(0);
    });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: REPO,
    env: { ...process.env, PM_FILE: file, PM_USERS: JSON.stringify(users) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (err += chunk));
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    if (out.startsWith('ready\n')) onReady();
  });
  const done = new Promise<string[]>((resolve, reject) => {
    child.on('exit', (status) => {
      const result = out.split('\n')[1];
      if (status === 0 && result) resolve(JSON.parse(result) as string[]);
      else reject(new Error(`writer exited with ${status}: ${err}`));
    });
  });
  const failed = done.then(() => undefined);
  return { ready: Promise.race([ready, failed]), go: () => child.stdin.write('go\n'), done };
}
