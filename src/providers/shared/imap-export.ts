/**
 * Streaming IMAP export to mboxrd files plus manifest.json, shared by every provider that speaks
 * IMAP (dovecot through a master user, Alibaba Mail with a temporary password over TLS).
 *
 * Memory stays flat: one FETCH per folder, consumed one message at a time (imapflow stops reading
 * the socket until the handler has taken the row, so TCP carries the backpressure to the server;
 * see imap-fetch.ts), copied into a small fixed pool of buffers that a worker thread hashes and
 * writes (mbox-writer.ts, file-worker.ts). Only the message in hand is ever held; a folder never is.
 *
 * Race with new mail: the user's account is still live while the backup runs (DESIGN: disable
 * comes later), so mail can arrive mid-export. Each folder is EXAMINEd (read-only, so \Seen is
 * untouched) and its EXISTS and UIDNEXT are taken as the snapshot; the FETCH covers UIDs
 * 1:UIDNEXT-1 only. Every message of the snapshot has a UID below UIDNEXT and every later arrival
 * has one at or above it (RFC 3501 section 2.3.1.1), so the export must hold exactly EXISTS
 * messages. Mail that arrives later is not in this backup (by design: it is a point-in-time copy);
 * mail expunged during the export makes the counts differ and the export fails rather than
 * claiming a complete copy. A retry starts a fresh snapshot.
 */
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ImapFlow, type ListResponse } from 'imapflow';
import { BackupManifestSchema, type BackupFolder, type BackupManifest, type ExportProgress } from '../../core/backup.js';
import { PostmasterError } from '../../core/errors.js';
import type { ExportOptions } from '../../core/provider.js';
import { MANIFEST_FILE } from './backup-verify.js';
import { FileWorker } from './file-worker.js';
import { fetchMessages } from './imap-fetch.js';
import { mboxFileNames } from './mbox.js';
import { BufferPool, MboxFileWriter } from './mbox-writer.js';

export { verifyBackup } from './backup-verify.js';
export type { VerifyResult } from './backup-verify.js';

export interface ImapLogin {
  host: string;
  port: number;
  /** Implicit TLS (port 993). Without it imapflow still upgrades with STARTTLS when offered. */
  secure: boolean;
  user: string;
  password: string;
  /** Log in as `user` (an admin / master user) but act as this mailbox: SASL PLAIN authzid (RFC 4616). */
  authzid?: string;
}

/** onProgress is called at most this often while messages flow, plus once at each folder end. */
const PROGRESS_INTERVAL_MS = 250;
const TEMP_SUFFIX = '.partial';
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ETIMEOUT',
  'EPIPE',
  'NoConnection',
  'EConnectionClosed',
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
]);

interface ImapErrorShape {
  code?: string;
  message?: string;
  authenticationFailed?: boolean;
  serverResponseCode?: string;
  responseText?: string;
  responseStatus?: string;
}

function who(login: ImapLogin): string {
  return login.authzid ? `${login.user} for ${login.authzid}` : login.user;
}

/** Our message only, never the library's object: its properties may echo the command sent. */
function scrub(text: string, login: ImapLogin): string {
  if (!login.password) return text;
  const encoded = [login.password, Buffer.from(login.password).toString('base64')];
  return encoded.reduce((out, secret) => out.split(secret).join('***'), text);
}

function imapFailure(error: unknown, login: ImapLogin, doing: string, directory: string): PostmasterError {
  if (error instanceof PostmasterError) return error;
  const e = (error ?? {}) as ImapErrorShape & { syscall?: string };
  const server = `${login.host}:${login.port}`;
  const detail = e.responseText ? `: ${e.responseText}` : '';
  if (e.authenticationFailed || e.serverResponseCode === 'AUTHENTICATIONFAILED') {
    return new PostmasterError('ProviderError', scrub(`IMAP login to ${server} as ${who(login)} was refused${detail}`, login), {
      hint: login.authzid ? 'check the admin (master) user and password' : 'check the user name and password',
    });
  }
  if ((e.code && NETWORK_CODES.has(e.code)) || /timed? ?out|closed/i.test(e.message ?? '')) {
    return new PostmasterError('Unavailable', scrub(`IMAP server ${server} could not be reached while ${doing} (${e.code ?? e.message ?? 'error'})`, login), {
      hint: 'check that the mail server is up and the host and port are right',
    });
  }
  if (e.syscall) {
    // The local side: disk full, permissions, a directory removed under us.
    return new PostmasterError('Unavailable', `writing the backup to ${directory} failed while ${doing}: ${e.message ?? e.code}`, {
      hint: 'check free space and permissions of the backup directory',
    });
  }
  const reason = e.responseText ?? e.message ?? String(error);
  return new PostmasterError('ProviderError', scrub(`IMAP ${doing} failed on ${server}: ${reason}`, login));
}

async function connect(login: ImapLogin): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: login.host,
    port: login.port,
    secure: login.secure,
    auth: login.authzid
      ? { user: login.user, pass: login.password, authzid: login.authzid, loginMethod: 'AUTH=PLAIN' }
      : { user: login.user, pass: login.password },
    logger: false,
    // An export is one long FETCH after another; IDLE between commands would only add round trips.
    disableAutoIdle: true,
    // No ENABLE CONDSTORE: imapflow would then add MODSEQ to every FETCH row, which the export
    // never reads and which costs a BigInt parse per message.
    disableAutoEnable: true,
    connectionTimeout: 30_000,
    greetingTimeout: 16_000,
  });
  // imapflow emits 'error' on socket failures; without a listener Node would crash the process.
  // The pending command rejects as well, which is where the failure is reported.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    client.close();
    throw imapFailure(error, login, 'logging in', '');
  }
  return client;
}

/** INBOX first, then the rest by name: the same mailbox always yields the same file list. */
function selectableFolders(list: ListResponse[]): ListResponse[] {
  const usable = list.filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'));
  return usable.sort((a, b) => {
    const ai = a.path.toUpperCase() === 'INBOX' ? 0 : 1;
    const bi = b.path.toUpperCase() === 'INBOX' ? 0 : 1;
    return ai - bi || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  });
}

async function fsyncPath(file: string, flags = 'r'): Promise<void> {
  const handle = await open(file, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeManifest(directory: string, manifest: BackupManifest): Promise<void> {
  const temp = path.join(directory, `.${MANIFEST_FILE}${TEMP_SUFFIX}`);
  await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  await fsyncPath(temp);
  await rename(temp, path.join(directory, MANIFEST_FILE));
  // The rename is only durable once the directory entry is. Best effort: not every platform
  // can fsync a directory, and verifyBackup re-reads everything before a delete anyway.
  await fsyncPath(directory).catch(() => undefined);
}

/** Files a previous run in this directory listed, so a re-run can remove the ones it no longer writes. */
async function previousFiles(directory: string): Promise<string[]> {
  try {
    const parsed = BackupManifestSchema.safeParse(JSON.parse(await readFile(path.join(directory, MANIFEST_FILE), 'utf8')));
    if (!parsed.success) return [];
    return parsed.data.folders.map((f) => f.file).filter((f) => f.endsWith('.mbox') && !/[/\\\0]/.test(f) && !f.startsWith('.'));
  } catch {
    return [];
  }
}

async function removeTempFiles(directory: string): Promise<void> {
  for (const entry of await readdir(directory)) {
    if (entry.startsWith('.') && entry.endsWith(TEMP_SUFFIX)) await rm(path.join(directory, entry), { force: true });
  }
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The export was aborted', 'AbortError');
}

/**
 * Reads each finished file back (in the file worker) while the next folder downloads, so by the
 * time the last folder arrives most of the verification is done. Scans are chained, one at a time.
 */
class ReadBack {
  private chain: Promise<void> = Promise.resolve();
  private problem: string | undefined;
  private failure: unknown;

  constructor(
    private readonly directory: string,
    private readonly worker: FileWorker,
  ) {}

  check(folder: BackupFolder, serverCount: number): void {
    this.chain = this.chain
      .then(async () => {
        if (this.problem !== undefined || this.failure !== undefined) return;
        const scan = await this.worker.scan(path.join(this.directory, folder.file));
        if (scan.messages !== serverCount) {
          this.problem = `folder ${folder.name}: server has ${serverCount}, backup has ${scan.messages}`;
        } else if (scan.sha256 !== folder.sha256 || scan.bytes !== folder.bytes) {
          this.problem = `folder ${folder.name}: file ${folder.file} on disk differs from what was written`;
        }
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      });
  }

  /** The first mismatch, or undefined; rethrows a read failure. */
  async result(): Promise<string | undefined> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
    return this.problem;
  }
}

/** Internal knobs for tests; not part of the provider contract. */
export interface ExportTuning {
  /** Use only imapflow's public fetch() (see imap-fetch.ts). */
  publicApiOnly?: boolean;
}

/**
 * Exports every selectable folder of `mailbox` into options.directory (one mboxrd file per folder
 * plus manifest.json), reads the files back, and returns the manifest with verifiedAt set.
 *
 * Progress figures are for the whole export: messagesTotal is the sum of the folders' counts
 * (refined as each folder is opened), messagesDone and bytesDone grow across folders, and
 * folder/folderIndex name the folder being written.
 *
 * Idempotent per directory: the old manifest is removed first (so an interrupted re-run never
 * looks complete), every file is written under a temp name and renamed when whole, and files the
 * previous manifest listed that this run no longer writes are removed at the end.
 */
export async function exportMailbox(
  login: ImapLogin,
  mailbox: string,
  options: ExportOptions,
  tuning: ExportTuning = {},
): Promise<BackupManifest> {
  const { directory, signal } = options;
  signal?.throwIfAborted();
  const createdAt = new Date().toISOString();
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const stale = await previousFiles(directory);
  await rm(path.join(directory, MANIFEST_FILE), { force: true });
  await removeTempFiles(directory);

  // Started first: the thread boots while the IMAP login is in flight.
  const worker = new FileWorker();
  let client: ImapFlow;
  try {
    client = await connect(login);
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  // Closing the socket fails whatever IMAP command is pending; the file worker is left to finish
  // its current step so it closes its file descriptors, and is stopped on the way out.
  const onAbort = () => client.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const pool = new BufferPool();
  const readBack = new ReadBack(directory, worker);
  const written: BackupFolder[] = [];
  const syncs: Promise<void>[] = [];
  let publicApiOnly = tuning.publicApiOnly ?? false;
  let currentTemp: string | undefined;
  let doing = 'listing folders';
  try {
    const listed = selectableFolders(await client.list({ statusQuery: { messages: true } }));
    const names = mboxFileNames(listed.map((f) => f.path));
    const listedCounts = listed.map((f) => f.status?.messages ?? 0);
    let messagesTotal = listedCounts.reduce((a, b) => a + b, 0);
    let messagesDone = 0;
    let bytesBefore = 0;
    let lastReport = 0;
    const report = (folder: string, folderIndex: number, bytesDone: number) => {
      lastReport = Date.now();
      const progress: ExportProgress = { folder, folderIndex, folderCount: listed.length, messagesDone, messagesTotal, bytesDone };
      try {
        options.onProgress?.(progress);
      } catch {
        // Progress is a courtesy (a chat thread update); a failing listener must not fail a backup.
      }
    };

    for (const [index, folder] of listed.entries()) {
      const file = names[index]!;
      doing = `exporting folder ${folder.path}`;
      const box = await client.mailboxOpen(folder.path, { readOnly: true });
      const exists = box.exists;
      messagesTotal += exists - listedCounts[index]!;
      currentTemp = path.join(directory, `.${file}${TEMP_SUFFIX}`);
      const writer = await MboxFileWriter.create(worker, currentTemp, pool);
      let summary;
      try {
        if (exists > 0) {
          // Without a UIDNEXT (non-compliant server) sequence numbers 1:EXISTS give the same snapshot.
          const byUid = box.uidNext > 1;
          const range = byUid ? `1:${box.uidNext - 1}` : `1:${exists}`;
          const sink = (source: Buffer, date: Date) => {
            if (signal?.aborted) throw abortError(signal);
            const wait = writer.write(source, date);
            messagesDone++;
            if (options.onProgress && Date.now() - lastReport >= PROGRESS_INTERVAL_MS) report(folder.path, index, bytesBefore + writer.bytes);
            return wait;
          };
          const via = await fetchMessages(client, range, byUid, sink, { publicApiOnly });
          if (via === 'fetch') publicApiOnly = true;
        }
        summary = await writer.close();
      } catch (error) {
        await writer.discard().catch(() => undefined);
        throw error;
      }
      const target = path.join(directory, file);
      await rename(currentTemp, target);
      currentTemp = undefined;
      const entry: BackupFolder = { name: folder.path, file, messages: summary.messages, bytes: summary.bytes, sha256: summary.sha256 };
      written.push(entry);
      readBack.check(entry, exists);
      // Durability overlaps the next folder's download; all of it is awaited before the manifest.
      const sync = fsyncPath(target);
      sync.catch(() => undefined);
      syncs.push(sync);
      bytesBefore += summary.bytes;
      report(folder.path, index, bytesBefore);
    }
  } catch (error) {
    await readBack.result().catch(() => undefined);
    await worker.terminate();
    if (currentTemp) await rm(currentTemp, { force: true });
    await Promise.allSettled(syncs);
    if (signal?.aborted) throw abortError(signal);
    throw imapFailure(error, login, doing, directory);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await client.logout().catch(() => client.close());
  }

  const manifest: BackupManifest = {
    mailbox,
    runId: options.runId,
    createdAt,
    verifiedAt: null,
    totalMessages: written.reduce((sum, f) => sum + f.messages, 0),
    totalBytes: written.reduce((sum, f) => sum + f.bytes, 0),
    folders: written,
  };
  let problem: string | undefined;
  try {
    await Promise.all(syncs);
    problem = await readBack.result();
    signal?.throwIfAborted();
  } catch (error) {
    if (signal?.aborted) throw abortError(signal);
    throw error;
  } finally {
    await worker.terminate();
  }
  if (problem) {
    await writeManifest(directory, manifest);
    throw new PostmasterError('ProviderError', `Backup of ${mailbox} failed verification, ${problem}`, {
      hint: 'run the backup step again; mail that is expunged during an export makes the counts differ',
    });
  }
  const verified: BackupManifest = { ...manifest, verifiedAt: new Date().toISOString() };
  await writeManifest(directory, verified);
  const keep = new Set(written.map((f) => f.file));
  for (const file of stale) if (!keep.has(file)) await rm(path.join(directory, file), { force: true });
  return verified;
}
