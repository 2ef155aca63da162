/**
 * Streaming IMAP export to mboxrd files plus manifest.json, shared by every provider that speaks
 * IMAP (dovecot through a master user, Alibaba Mail with a temporary password over TLS).
 *
 * Memory stays flat: one FETCH per folder, consumed one message at a time (nothing more is read
 * from the socket until the writer has taken the message, so TCP carries the backpressure to the
 * server), copied into a small fixed pool of buffers that a worker thread hashes and writes
 * (mbox-writer.ts, file-worker.ts). Only the messages in hand are ever held; a folder never is.
 *
 * Connections: imapflow logs in (the login errors below are its), LISTs and, over TLS, does all
 * of the export. In cleartext two connections of our own read two folders at once (imap-lanes.ts,
 * imap-direct-connection.ts); both ways read FETCH responses with our own reader
 * (fetch-response-reader.ts) rather than imapflow's parser.
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
import { DirectImapConnection } from './imap-direct-connection.js';
import type { FetchPath } from './imap-fetch.js';
import { DirectLane, ImapflowLane, type FolderLane } from './imap-lanes.js';
import { mboxFileNames } from './mbox.js';
import { BufferPool, MboxFileWriter } from './mbox-writer.js';
import { ReadBack } from './read-back.js';

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
  /** What to check when the server refuses the login, when the provider knows better than "the password". */
  refusedHint?: string;
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
      hint: login.refusedHint ?? (login.authzid ? 'check the admin (master) user and password' : 'check the user name and password'),
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

/**
 * Makes `directory` ready for a new export and returns the files the previous manifest listed
 * (removed at the end if this run no longer writes them). The old manifest goes first, so an
 * interrupted re-run never looks complete; temp files of an interrupted run go too.
 */
async function prepareDirectory(directory: string): Promise<string[]> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const stale = await previousFiles(directory);
  await rm(path.join(directory, MANIFEST_FILE), { force: true });
  await removeTempFiles(directory);
  return stale;
}

/**
 * imapflow's LIST ranks special-use folders with localeCompare, and the first localeCompare of a
 * process loads ICU's collation data (~15 ms). Done here, it runs while the login's round trips
 * are in flight instead of between the LIST reply and the first EXAMINE.
 */
function warmUpCollator(): void {
  'a'.localeCompare('b');
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The export was aborted', 'AbortError');
}

/** Internal knobs for tests; not part of the provider contract. */
export interface ExportTuning {
  /**
   * The fastest way to read to try: 'direct' connections of our own (cleartext only, see
   * imap-lanes.ts), else imapflow's connection by the paths of imap-fetch.ts. Tests use it to
   * compare the files each way writes.
   */
  fetchPath?: 'direct' | FetchPath;
}

/** Two connections let the server work on two folders at once; more would only compete for CPU. */
const DIRECT_CONNECTIONS = 2;

/** Connects (no credentials yet) as many direct connections as the server takes; none is an answer too. */
async function connectDirect(login: ImapLogin): Promise<DirectImapConnection[]> {
  const attempts = Array.from({ length: DIRECT_CONNECTIONS }, () => DirectImapConnection.connect(login).catch(() => undefined));
  return (await Promise.all(attempts)).filter((d): d is DirectImapConnection => d !== undefined);
}

/** Logs the connected ones in; the ones the server refuses are dropped (imap-lanes.ts). */
async function loginDirect(directs: DirectImapConnection[], login: ImapLogin): Promise<DirectImapConnection[]> {
  const credentials = { user: login.user, password: login.password, authzid: login.authzid };
  const attempts = directs.map((d) => d.login(credentials).then(() => d, () => undefined));
  return (await Promise.all(attempts)).filter((d): d is DirectImapConnection => d !== undefined);
}

/**
 * Progress for the whole export, over all lanes: messagesTotal is the sum of the folders' counts
 * (refined as each folder is opened), messagesDone and bytesDone grow across folders, and
 * folder/folderIndex name a folder being written (with two lanes, the one that reported).
 */
class ProgressReporter {
  private messagesTotal: number;
  private messagesDone = 0;
  private bytesFinished = 0;
  private lastReport = 0;
  private readonly active = new Set<MboxFileWriter>();

  constructor(
    private readonly folderCount: number,
    private readonly listedCounts: number[],
    private readonly listener: ExportOptions['onProgress'],
  ) {
    this.messagesTotal = listedCounts.reduce((a, b) => a + b, 0);
  }

  refineTotal(index: number, exists: number): void {
    this.messagesTotal += exists - this.listedCounts[index]!;
  }

  writing(writer: MboxFileWriter): void {
    this.active.add(writer);
  }

  /** Moves the writer's bytes to the finished ones in one step, so bytesDone never goes back. */
  written(writer: MboxFileWriter): void {
    if (this.active.delete(writer)) this.bytesFinished += writer.bytes;
  }

  abandoned(writer: MboxFileWriter): void {
    this.active.delete(writer);
  }

  /** Reports at most every PROGRESS_INTERVAL_MS while messages flow. */
  messageWritten(folder: string, index: number): void {
    this.messagesDone++;
    if (this.listener && Date.now() - this.lastReport >= PROGRESS_INTERVAL_MS) this.report(folder, index);
  }

  folderDone(folder: string, index: number): void {
    this.report(folder, index);
  }

  /** Lanes finish in any order; the last report names the last folder with the final figures. */
  finished(listed: ListResponse[]): void {
    if (listed.length > 0) this.report(listed[listed.length - 1]!.path, listed.length - 1);
  }

  private report(folder: string, folderIndex: number): void {
    this.lastReport = Date.now();
    let bytesDone = this.bytesFinished;
    for (const writer of this.active) bytesDone += writer.bytes;
    const progress: ExportProgress = {
      folder,
      folderIndex,
      folderCount: this.folderCount,
      messagesDone: this.messagesDone,
      messagesTotal: this.messagesTotal,
      bytesDone,
    };
    try {
      this.listener?.(progress);
    } catch {
      // Progress is a courtesy (a chat thread update); a failing listener must not fail a backup.
    }
  }
}

/**
 * Exports every selectable folder of `mailbox` into options.directory (one mboxrd file per folder
 * plus manifest.json), reads the files back, and returns the manifest with verifiedAt set.
 *
 * Progress figures are for the whole export (see ProgressReporter).
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

  const fetchPath = tuning.fetchPath ?? 'direct';
  // imapflow's connection first: its greeting and login are on the critical path, and a server
  // that starts a login process per connection (Dovecot) greets them in the order they arrive.
  // The direct connections (cleartext only) read their greetings and the thread boots while
  // imapflow logs in; the direct ones log in themselves only after imapflow's login worked.
  const connecting = connect(login);
  const directsConnected = fetchPath === 'direct' && !login.secure ? connectDirect(login) : Promise.resolve([]);
  const worker = new FileWorker();
  // The directory is made ready during the login's round trips. `prepared` is awaited right after
  // the login, before any file is written, so the old manifest is still removed first.
  const prepared = prepareDirectory(directory);
  prepared.catch(() => undefined);
  warmUpCollator();
  let client: ImapFlow;
  try {
    client = await connecting;
  } catch (error) {
    await worker.terminate();
    // Not awaited: a server that drops packets would hold the login error back until they time out.
    void directsConnected.then((directs) => directs.forEach((d) => d.close()));
    await prepared.catch(() => undefined);
    throw error;
  }
  // They log in while imapflow lists the folders. None when they cannot be used (imapflow went
  // TLS) or were refused: the export then reads over imapflow's connection (imap-lanes.ts).
  const directsReady: Promise<DirectImapConnection[]> = directsConnected.then((directs) => {
    if (client.secureConnection === false) return loginDirect(directs, login);
    for (const direct of directs) direct.close();
    return [];
  });
  const closeConnections = () => {
    client.close();
    void directsReady.then((directs) => directs.forEach((d) => d.close()));
  };
  // Closing the sockets fails whatever IMAP command is pending; the file worker is left to finish
  // its current step so it closes its file descriptors, and is stopped on the way out.
  signal?.addEventListener('abort', closeConnections, { once: true });
  const readBack = new ReadBack(directory, worker);
  const syncs: Promise<void>[] = [];
  const temps = new Set<string>();
  let clientDone = false;
  let failure: { error: unknown; doing: string } | undefined;
  let written: BackupFolder[] = [];
  let stale: string[];
  try {
    try {
      stale = await prepared;
    } catch (error) {
      failure = { error, doing: 'preparing the backup directory' };
      throw error;
    }
    let listed: ListResponse[];
    try {
      listed = selectableFolders(await client.list({ statusQuery: { messages: true } }));
    } catch (error) {
      failure = { error, doing: 'listing folders' };
      throw error;
    }
    const names = mboxFileNames(listed.map((f) => f.path));
    const listedCounts = listed.map((f) => f.status?.messages ?? 0);
    const progress = new ProgressReporter(listed.length, listedCounts, options.onProgress);

    const directs = await directsReady;
    let lanes: FolderLane[];
    if (directs.length > 0) {
      lanes = directs.map((d) => new DirectLane(d));
      // imapflow's part is done; a connection left idle for the whole export would only time out.
      clientDone = true;
      await client.logout().catch(() => client.close());
    } else {
      lanes = [new ImapflowLane(client, fetchPath === 'direct' ? 'borrowed' : fetchPath)];
    }

    const exportFolder = async (lane: FolderLane, pool: BufferPool, index: number): Promise<BackupFolder> => {
      const folder = listed[index]!;
      const file = names[index]!;
      const snapshot = await lane.open(folder);
      progress.refineTotal(index, snapshot.exists);
      const temp = path.join(directory, `.${file}${TEMP_SUFFIX}`);
      temps.add(temp);
      const writer = await MboxFileWriter.create(worker, temp, pool);
      progress.writing(writer);
      let summary;
      try {
        if (snapshot.exists > 0) {
          // Without a UIDNEXT (non-compliant server) sequence numbers 1:EXISTS give the same snapshot.
          const byUid = snapshot.uidNext > 1;
          const range = byUid ? `1:${snapshot.uidNext - 1}` : `1:${snapshot.exists}`;
          const sink = (source: Buffer, date: Date) => {
            if (signal?.aborted) throw abortError(signal);
            const wait = writer.write(source, date);
            progress.messageWritten(folder.path, index);
            return wait;
          };
          await lane.fetch(range, byUid, sink);
        }
        summary = await writer.close();
        progress.written(writer);
      } catch (error) {
        progress.abandoned(writer);
        await writer.discard().catch(() => undefined);
        throw error;
      }
      const target = path.join(directory, file);
      await rename(temp, target);
      temps.delete(temp);
      const entry: BackupFolder = { name: folder.path, file, messages: summary.messages, bytes: summary.bytes, sha256: summary.sha256 };
      readBack.check(entry, snapshot.exists);
      // Durability overlaps the next folder's download; all of it is awaited before the manifest.
      const sync = fsyncPath(target);
      sync.catch(() => undefined);
      syncs.push(sync);
      progress.folderDone(folder.path, index);
      return entry;
    };

    // Each lane takes the next folder until none is left; the first failure stops them all
    // (closing the connections ends the other lanes' transfers). With more than one lane the
    // largest folders go first, so the lanes finish close together instead of one waiting on a
    // big folder started last. The manifest keeps the list order either way.
    const queue = listed.map((_, index) => index);
    if (lanes.length > 1) queue.sort((a, b) => listedCounts[b]! - listedCounts[a]! || a - b);
    const results: BackupFolder[] = [];
    let next = 0;
    const runLane = async (lane: FolderLane) => {
      const pool = new BufferPool();
      while (failure === undefined && next < queue.length) {
        const index = queue[next++]!;
        try {
          results[index] = await exportFolder(lane, pool, index);
        } catch (error) {
          if (failure === undefined) {
            failure = { error, doing: `exporting folder ${listed[index]!.path}` };
            closeConnections();
          }
          return;
        }
      }
    };
    await Promise.all(lanes.map(runLane));
    if (failure !== undefined) throw failure.error;
    written = results;
    progress.finished(listed);
  } catch (error) {
    await readBack.result().catch(() => undefined);
    await worker.terminate();
    for (const temp of temps) await rm(temp, { force: true });
    await Promise.allSettled(syncs);
    if (signal?.aborted) throw abortError(signal);
    throw imapFailure(failure?.error ?? error, login, failure?.doing ?? 'exporting', directory);
  } finally {
    signal?.removeEventListener('abort', closeConnections);
    await Promise.all([
      directsReady.then((directs) => Promise.all(directs.map((d) => d.logout()))),
      clientDone ? undefined : client.logout().catch(() => client.close()),
    ]);
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
    await worker.terminate();
    if (signal?.aborted) throw abortError(signal);
    throw error;
  }
  // The worker has nothing left to do; it stops while the manifest goes to disk.
  const stopping = worker.terminate();
  if (problem) {
    await Promise.all([writeManifest(directory, manifest), stopping]);
    throw new PostmasterError('ProviderError', `Backup of ${mailbox} failed verification, ${problem}`, {
      hint: 'run the backup step again; mail that is expunged during an export makes the counts differ',
    });
  }
  const verified: BackupManifest = { ...manifest, verifiedAt: new Date().toISOString() };
  await Promise.all([writeManifest(directory, verified), stopping]);
  const keep = new Set(written.map((f) => f.file));
  for (const file of stale) if (!keep.has(file)) await rm(path.join(directory, file), { force: true });
  return verified;
}
