import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupManifestSchema, type BackupManifest, type ExportProgress } from '../../src/core/backup.js';
import { PostmasterError } from '../../src/core/errors.js';
import { DirectImapConnection } from '../../src/providers/shared/imap-direct-connection.js';
import { fetchMessages } from '../../src/providers/shared/imap-fetch.js';
import { exportMailbox, verifyBackup, type ImapLogin } from '../../src/providers/shared/imap-export.js';
import { splitMbox } from '../../src/providers/shared/mbox.js';
import { freePort } from '../../src/sandbox/dovecot-instance.js';
import { deliverLmtp } from '../../src/sandbox/lmtp.js';
import { hasDovecot, useMailServer } from '../support/mail-server.js';

const ALICE = 'alice@example.test';
const UNICODE = 'Überweisungen ✓';
const NESTED = 'Archive/2023';
const AMPERSAND = 'Q&A 2024';
const EMPTY = 'Empty';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Body lines an mbox writer must quote, and an already quoted one that must survive as is. */
const FROM_BODY = 'From the desk of the CFO\r\n>From a quoted reply\r\n>>From deeper\r\nFrom \r\nnot From here\r\n';

function rfc822(i: number, extra = ''): string {
  return (
    `From: Sender ${i} <s${i}@partner.test>\r\nTo: ${ALICE}\r\nSubject: message ${i}\r\n` +
    `Message-ID: <m${i}@partner.test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n` +
    `Line one of ${i}.\r\n${extra}Bye.\r\n`
  );
}

describe.skipIf(!hasDovecot)('exportMailbox against a real Dovecot', () => {
  const server = useMailServer();
  let login: ImapLogin;
  let work: string;
  let runs = 0;
  const nextDir = () => path.join(work, `run-${++runs}`);

  async function adminClient(): Promise<ImapFlow> {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: server.dovecot.ports.imap,
      secure: false,
      auth: { user: server.dovecot.adminUser, pass: server.dovecot.adminPassword, authzid: ALICE, loginMethod: 'AUTH=PLAIN' },
      logger: false,
    });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /** Each folder's raw messages in UID order, straight from the server. */
  async function serverSources(folder: string): Promise<Buffer[]> {
    const client = await adminClient();
    try {
      const box = await client.mailboxOpen(folder, { readOnly: true });
      if (box.exists === 0) return [];
      const out: Buffer[] = [];
      for await (const m of client.fetch('1:*', { uid: true, source: true })) out.push(m.source!);
      return out;
    } finally {
      await client.logout();
    }
  }

  async function serverCounts(): Promise<Record<string, number>> {
    const client = await adminClient();
    try {
      const counts: Record<string, number> = {};
      for (const f of await client.list()) {
        if (f.flags.has('\\Noselect') || f.flags.has('\\NonExistent')) continue;
        const status = await client.status(f.path, { messages: true });
        counts[f.path] = status ? (status.messages ?? -1) : -1;
      }
      return counts;
    } finally {
      await client.logout();
    }
  }

  beforeAll(async () => {
    if (!hasDovecot) return;
    work = await mkdtemp(path.join(os.tmpdir(), 'postmaster-export-'));
    login = {
      host: '127.0.0.1',
      port: server.dovecot.ports.imap,
      secure: false,
      user: server.dovecot.adminUser,
      password: server.dovecot.adminPassword,
      authzid: ALICE,
    };
    const client = await adminClient();
    try {
      for (const folder of [UNICODE, NESTED, AMPERSAND, EMPTY]) await client.mailboxCreate(folder);
      const date = (i: number) => new Date(Date.UTC(2023, 0, 1 + i, 12, 0, i));
      for (let i = 0; i < 20; i++) {
        const extra = i % 5 === 0 ? FROM_BODY : '';
        await client.append('INBOX', rfc822(i, extra), ['\\Seen'], date(i));
      }
      // A message without a final line break must come back without one.
      await client.append('INBOX', 'Subject: no final CRLF\r\n\r\nFrom the last line', [], date(30));
      for (let i = 0; i < 8; i++) await client.append(UNICODE, rfc822(100 + i, i === 3 ? FROM_BODY : ''), [], date(40 + i));
      for (let i = 0; i < 6; i++) await client.append(NESTED, rfc822(200 + i), [], date(60 + i));
      for (let i = 0; i < 3; i++) await client.append(AMPERSAND, rfc822(300 + i, FROM_BODY), [], date(70 + i));
    } finally {
      await client.logout();
    }
    // Delivered mail carries Return-Path, which becomes the mbox sender.
    for (let i = 0; i < 5; i++) {
      await deliverLmtp(server.dovecot.ports.lmtp, {
        from: `lmtp${i}@partner.test`,
        to: ALICE,
        subject: `delivered ${i}`,
        body: i === 0 ? 'From the LMTP side\n>From quoted\n.leading dot\n' : `Delivered body ${i}.\n`,
      });
    }
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('exports every selectable folder with the server counts and a verified manifest', async () => {
    const directory = nextDir();
    const counts = await serverCounts();
    const manifest = await exportMailbox(login, ALICE, { directory, runId: 'run-a' });

    expect(BackupManifestSchema.parse(manifest)).toEqual(manifest);
    expect(manifest).toMatchObject({ mailbox: ALICE, runId: 'run-a' });
    expect(manifest.verifiedAt).not.toBeNull();
    const byName = Object.fromEntries(manifest.folders.map((f) => [f.name, f.messages]));
    expect(byName).toEqual(counts);
    expect(byName).toMatchObject({ INBOX: 26, [UNICODE]: 8, [NESTED]: 6, [AMPERSAND]: 3, [EMPTY]: 0 });
    // The hierarchy-only parent of Archive/2023 is not a folder of its own.
    expect(manifest.folders.map((f) => f.name)).not.toContain('Archive');
    expect(manifest.folders[0]!.name).toBe('INBOX');
    expect(manifest.totalMessages).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
    expect(manifest.totalBytes).toBe(manifest.folders.reduce((a, f) => a + f.bytes, 0));

    const onDisk = JSON.parse(await readFile(path.join(directory, 'manifest.json'), 'utf8')) as BackupManifest;
    expect(onDisk).toEqual(manifest);
    const files = (await readdir(directory)).sort();
    expect(files).toEqual([...manifest.folders.map((f) => f.file), 'manifest.json'].sort());
    for (const file of files) expect(file).toMatch(/^[A-Za-z0-9_%~-]+\.mbox$|^manifest\.json$/);
    expect(manifest.folders.find((f) => f.name === NESTED)!.file).toBe('Archive%2F2023.mbox');
    expect(decodeURIComponent(manifest.folders.find((f) => f.name === UNICODE)!.file.replace(/\.mbox$/, ''))).toBe(UNICODE);
  });

  it('records the sha256 and size of each file', async () => {
    const directory = nextDir();
    const manifest = await exportMailbox(login, ALICE, { directory, runId: 'run-b' });
    for (const folder of manifest.folders) {
      const data = await readFile(path.join(directory, folder.file));
      expect(folder.sha256, folder.name).toBe(sha256(data));
      expect(folder.bytes, folder.name).toBe(data.length);
    }
  });

  it('round-trips every message byte for byte, "From " lines included', async () => {
    const directory = nextDir();
    const manifest = await exportMailbox(login, ALICE, { directory, runId: 'run-c' });
    let quotedSeen = 0;
    for (const folder of manifest.folders) {
      const file = await readFile(path.join(directory, folder.file));
      const messages = splitMbox(file);
      const expected = await serverSources(folder.name);
      expect(messages.length, folder.name).toBe(expected.length);
      messages.forEach((m, i) => {
        // CRLF is kept (see mbox.ts), so the comparison is exact.
        expect(m.source.equals(expected[i]!), `${folder.name} #${i + 1}`).toBe(true);
        expect(m.separator).toMatch(/^From \S+ [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
      });
      const text = file.toString('latin1');
      if (/\r\n>From the desk/.test(text) && /\r\n>>From a quoted reply/.test(text) && /\r\n>>>From deeper/.test(text)) quotedSeen++;
    }
    expect(quotedSeen).toBeGreaterThan(0);

    const inbox = splitMbox(await readFile(path.join(directory, 'INBOX.mbox')));
    expect(inbox.some((m) => m.separator.startsWith('From lmtp0@partner.test '))).toBe(true);
    expect(inbox.find((m) => m.source.includes('no final CRLF'))!.source.toString('latin1').endsWith('From the last line')).toBe(true);
    // INTERNALDATE of the first APPEND, in UTC asctime form.
    expect(inbox[0]!.separator).toBe('From MAILER-DAEMON Sun Jan  1 12:00:00 2023');
  });

  it('writes the same files every way it can read (own connections, imapflow borrowed, exec, fetch())', async () => {
    const direct = await exportMailbox(login, ALICE, { directory: nextDir(), runId: 'direct' });
    for (const fetchPath of ['borrowed', 'exec', 'fetch'] as const) {
      const other = await exportMailbox(login, ALICE, { directory: nextDir(), runId: fetchPath }, { fetchPath });
      expect(other.folders, fetchPath).toEqual(direct.folders);
    }
  });

  it('reads over two connections of its own on a cleartext server, sharing the folders out', async () => {
    const examined = new Map<DirectImapConnection, string[]>();
    const examine = DirectImapConnection.prototype.examine;
    DirectImapConnection.prototype.examine = function (this: DirectImapConnection, nameAsListed: string) {
      examined.set(this, [...(examined.get(this) ?? []), nameAsListed]);
      return examine.call(this, nameAsListed);
    };
    try {
      const manifest = await exportMailbox(login, ALICE, { directory: nextDir(), runId: 'lanes' });
      expect(manifest.verifiedAt).not.toBeNull();
      expect(examined.size).toBe(2);
      for (const names of examined.values()) expect(names.length).toBeGreaterThan(0);
      // Each folder once, under its name as listed (modified UTF-7 for the unicode one).
      const all = [...examined.values()].flat();
      expect(new Set(all).size).toBe(manifest.folders.length);
      expect(all).toContain('&ANw-berweisungen &JxM-');
    } finally {
      DirectImapConnection.prototype.examine = examine;
    }
  });

  it('takes the borrowed-connection path on this imapflow version (a silent fallback would only show as slowness)', async () => {
    const client = await adminClient();
    try {
      const box = await client.mailboxOpen(AMPERSAND, { readOnly: true });
      const seen: string[] = [];
      const via = await fetchMessages(client, `1:${box.uidNext - 1}`, true, (source) => {
        seen.push(source.toString('latin1'));
        return undefined;
      });
      expect(via).toBe('borrowed');
      expect(seen).toEqual((await serverSources(AMPERSAND)).map((b) => b.toString('latin1')));
      // The connection is imapflow's again, in step: further commands work.
      const inbox = await client.mailboxOpen('INBOX', { readOnly: true });
      expect(inbox.exists).toBeGreaterThan(0);
      expect(await client.status(UNICODE, { messages: true })).toMatchObject({ messages: 8 });
    } finally {
      await client.logout();
    }
  });

  it('waits for a slow sink and skips mail that arrives during the FETCH', async () => {
    const RACE = 'Race during fetch';
    const client = await adminClient();
    try {
      await client.mailboxCreate(RACE);
      for (let i = 0; i < 6; i++) await client.append(RACE, rfc822(400 + i, i === 2 ? FROM_BODY : ''), [], new Date(Date.UTC(2023, 5, 1 + i)));
      const box = await client.mailboxOpen(RACE, { readOnly: true });
      // imapflow updates the mailbox object in place.
      const { exists, uidNext } = box;
      const seen: Buffer[] = [];
      const via = await fetchMessages(client, `1:${uidNext - 1}`, true, (source) => {
        // The source is only ours until the returned promise settles.
        seen.push(Buffer.from(source));
        if (seen.length > 1) return new Promise((resolve) => setTimeout(resolve, 5));
        // Mail for this very folder while its FETCH runs: not part of the snapshot. (Dovecot 2.3
        // announces it after the FETCH; a server that does so among the FETCH responses is
        // covered by test/unit/imap-borrowed-fetch.test.ts.)
        return adminClient().then(async (other) => {
          try {
            await other.append(RACE, rfc822(999), [], new Date(Date.UTC(2024, 0, 1)));
          } finally {
            await other.logout();
          }
        });
      });
      expect(via).toBe('borrowed');
      expect(seen.length).toBe(exists);
      const now = await serverSources(RACE);
      expect(now.length).toBe(exists + 1);
      expect(seen.map((b) => b.toString('latin1'))).toEqual(now.slice(0, exists).map((b) => b.toString('latin1')));
      // The connection is back with imapflow and in step: a NOOP brings the news of the new mail.
      await client.noop();
      expect(client.mailbox && client.mailbox.exists).toBe(exists + 1);
    } finally {
      await client.mailboxClose().catch(() => undefined);
      await client.mailboxDelete(RACE).catch(() => undefined);
      await client.logout();
    }
  });

  it('verifyBackup passes on a fresh export, then catches a changed byte and a missing file', async () => {
    const directory = nextDir();
    const manifest = await exportMailbox(login, ALICE, { directory, runId: 'run-d' });
    expect(await verifyBackup(directory)).toEqual({ ok: true });
    expect(await verifyBackup(directory, manifest)).toEqual({ ok: true });

    const target = path.join(directory, 'INBOX.mbox');
    const original = await readFile(target);
    const tampered = Buffer.from(original);
    const at = Math.floor(tampered.length / 2);
    tampered[at] = tampered[at] === 0x61 ? 0x62 : 0x61;
    await writeFile(target, tampered);
    const changed = await verifyBackup(directory);
    expect(changed.ok).toBe(false);
    expect(!changed.ok && changed.problem).toMatch(/INBOX.*sha256/);

    await writeFile(target, original);
    expect(await verifyBackup(directory)).toEqual({ ok: true });

    const nested = manifest.folders.find((f) => f.name === NESTED)!;
    await rm(path.join(directory, nested.file));
    const missing = await verifyBackup(directory);
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.problem).toContain(`folder ${NESTED}: file ${nested.file} is missing`);

    expect(await verifyBackup(path.join(work, 'nowhere'))).toMatchObject({ ok: false, problem: expect.stringMatching(/manifest\.json is missing/) });
    expect(await verifyBackup(directory, { ...manifest, verifiedAt: null })).toMatchObject({ ok: false });
  });

  it('exports into the same directory again with the same result and no leftovers', async () => {
    const directory = nextDir();
    const first = await exportMailbox(login, ALICE, { directory, runId: 'same' });
    const listing = (await readdir(directory)).sort();
    // What a crashed earlier attempt and an older export would leave behind.
    await writeFile(path.join(directory, '.INBOX.mbox.partial'), 'half a folder');
    await writeFile(path.join(directory, 'Gone.mbox'), 'From x y\r\n\r\n');
    const stale = { ...first, folders: [...first.folders, { ...first.folders[0]!, name: 'Gone', file: 'Gone.mbox' }] };
    await writeFile(path.join(directory, 'manifest.json'), JSON.stringify(stale));
    await writeFile(path.join(directory, 'unrelated.txt'), 'not ours');

    const second = await exportMailbox(login, ALICE, { directory, runId: 'same' });
    expect(second.folders).toEqual(first.folders);
    expect(second.totalMessages).toBe(first.totalMessages);
    expect((await readdir(directory)).sort()).toEqual([...listing, 'unrelated.txt'].sort());
    expect(await verifyBackup(directory)).toEqual({ ok: true });
  });

  it('reports progress at least at the end of each folder', async () => {
    const events: ExportProgress[] = [];
    const manifest = await exportMailbox(login, ALICE, { directory: nextDir(), runId: 'p', onProgress: (p) => events.push(p) });
    const folderEnds = manifest.folders.map((f, i) => events.find((e) => e.folderIndex === i && e.folder === f.name));
    expect(folderEnds.every(Boolean)).toBe(true);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ folderIndex: manifest.folders.length - 1, folderCount: manifest.folders.length });
    expect(last.messagesDone).toBe(manifest.totalMessages);
    expect(last.messagesTotal).toBe(manifest.totalMessages);
    expect(last.bytesDone).toBe(manifest.totalBytes);
  });

  it('keeps the snapshot when mail arrives during the export', async () => {
    const directory = nextDir();
    const before = (await serverCounts()).INBOX!;
    let delivery: Promise<string> | undefined;
    const manifest = await exportMailbox(login, ALICE, {
      directory,
      runId: 'race',
      onProgress: (p) => {
        // INBOX is done and the export moves on: new mail lands in a folder already exported.
        if (p.folder === 'INBOX' && !delivery) {
          delivery = deliverLmtp(server.dovecot.ports.lmtp, { from: 'late@partner.test', to: ALICE, subject: 'late' });
        }
      },
    });
    await delivery;
    expect(manifest.folders[0]).toMatchObject({ name: 'INBOX', messages: before });
    expect(manifest.verifiedAt).not.toBeNull();
    expect((await serverCounts()).INBOX).toBe(before + 1);
  });

  it('stops on abort without leaving a manifest, temp files or open descriptors', async () => {
    const directory = nextDir();
    const openFiles = async () => (await readdir('/proc/self/fd').catch(() => [])).length;
    const fdsBefore = await openFiles();
    const controller = new AbortController();
    const attempt = exportMailbox(login, ALICE, {
      directory,
      runId: 'abort',
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(attempt).rejects.toMatchObject({ name: 'AbortError' });
    const left = await readdir(directory);
    expect(left).not.toContain('manifest.json');
    expect(left.filter((f) => f.endsWith('.partial'))).toEqual([]);
    await expect(exportMailbox(login, ALICE, { directory, runId: 'x', signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    // Sockets close asynchronously; give them a moment before counting.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await openFiles()).toBeLessThanOrEqual(fdsBefore);
  });

  it('refuses a wrong admin password with a clear error that does not contain the password', async () => {
    const secret = 'Wr0ng-S3cret-pw';
    const error = await exportMailbox({ ...login, password: secret }, ALICE, { directory: nextDir(), runId: 'bad' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostmasterError);
    const e = error as PostmasterError;
    expect(e.code).toBe('ProviderError');
    expect(e.message).toMatch(/IMAP login .* was refused/);
    expect(e.message).toContain(ALICE);
    for (const text of [e.message, e.hint ?? '', inspect(e, { depth: 10 }), JSON.stringify(e)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });

  it('reports an unreachable server as Unavailable', async () => {
    const port = await freePort();
    const error = await exportMailbox({ ...login, port }, ALICE, { directory: nextDir(), runId: 'down' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Unavailable' });
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).not.toContain(login.password);
  });

  it('leaves a file mode that only the owner can read', async () => {
    const directory = nextDir();
    const manifest = await exportMailbox(login, ALICE, { directory, runId: 'mode' });
    for (const file of [...manifest.folders.map((f) => f.file), 'manifest.json']) {
      expect((await stat(path.join(directory, file))).mode & 0o077, file).toBe(0);
    }
  });
});
