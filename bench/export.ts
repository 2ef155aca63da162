/**
 * Export benchmark: Postmaster's IMAP export (with its read-back verification) against mbsync
 * (isync, `FSync no`) pulling the same mailbox from the same throwaway Dovecot, at N and 2N
 * messages. Goals from the issue: time ratio <= 0.5 and export peak RSS < 120 MB at both sizes.
 *
 *   npm run bench:export -- --messages 20000 [--rounds 3] [--tsx]
 *
 * Postmaster runs first in each round, so any cache Dovecot warms during a run favours mbsync.
 *
 * What is compared: on this cleartext loopback server Postmaster reads over two IMAP connections
 * of its own (imapflow's connection does the login and LIST), so two Dovecot processes work at
 * once; mbsync uses one connection. Dovecot's own CPU (about 0.6 s per 20,000 messages here, both
 * tools pay it) plus Postmaster's parsing, sha256 and writes keep a 2-CPU machine busy, so the
 * ratio moves with whatever else runs on it: use --rounds 3 or more and compare within one run.
 * The export's own CPU time (all its threads) moves less with load than its wall time, so the
 * table shows it too.
 *
 * The export runs in a child process so its peak RSS is its own. By default the child is the
 * TypeScript bundled to plain JS (esbuild, packages left external), which is how compiled code
 * runs; --tsx runs it under the tsx loader instead, whose compiler and module caches are not the
 * export's memory (measured here: ~100 MB before the export starts and ~155 MB peak at 20,000
 * messages, against ~75 and ~105 MB as plain JS).
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { MAIL_GID, MAIL_UID, startDovecot, type DovecotInstance } from '../src/sandbox/dovecot-instance.js';
import type { ChildResult } from './export-child.js';
import { seedMaildir, type SeedResult } from './seed-maildir.js';
import { flag, prepareChild, type ChildCommand } from './lib/cli.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The whole benchmark stops by itself after this long, whatever hangs. */
const OVERALL_LIMIT_MS = 15 * 60_000;
const RUN_LIMIT_MS = 5 * 60_000;


function hasFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}


const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

async function hasMbsync(): Promise<boolean> {
  try {
    const run = await runProcess('mbsync', ['--version']);
    return run.code === 0;
  } catch {
    return false;
  }
}

/**
 * Opens every folder once so Dovecot scans the Maildir and builds its uidlist and index before
 * either timed run: the first SELECT of 20,000 fresh files is seeding cost, not export cost.
 */
async function warmUp(dovecot: DovecotInstance, user: string, password: string): Promise<void> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: dovecot.ports.imap,
    secure: false,
    auth: { user, pass: password },
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (const folder of await client.list()) {
      if (folder.flags.has('\\Noselect') || folder.flags.has('\\NonExistent')) continue;
      const box = await client.mailboxOpen(folder.path, { readOnly: true });
      if (box.exists === 0) continue;
      for await (const message of client.fetch('1:*', { uid: true, size: true, internalDate: true })) void message;
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}



async function runPostmaster(
  child: ChildCommand,
  dovecot: DovecotInstance,
  address: string,
  directory: string,
): Promise<ChildResult & { processSeconds: number }> {
  const job = {
    login: {
      host: '127.0.0.1',
      port: dovecot.ports.imap,
      secure: false,
      user: dovecot.adminUser,
      password: dovecot.adminPassword,
      authzid: address,
    },
    mailbox: address,
    directory,
  };
  const run = await runProcess(process.execPath, child.args, {
    ...process.env,
    POSTMASTER_BENCH_JOB: JSON.stringify(job),
  });
  if (run.code !== 0) throw new Error(`Postmaster export failed (exit ${run.code}): ${run.stderr.trim().slice(-2000)}`);
  const line = run.stdout.trim().split('\n').pop() ?? '';
  return { ...(JSON.parse(line) as ChildResult), processSeconds: run.seconds };
}

async function countMaildirFiles(root: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    const parent = path.basename(entry.parentPath ?? (entry as unknown as { path: string }).path);
    if (entry.isFile() && (parent === 'cur' || parent === 'new')) count++;
  }
  return count;
}

/**
 * One mbsync pull into a fresh Maildir. Stores are deleted only after the last round, so removing
 * tens of thousands of files never overlaps a timed run of either tool.
 */
async function runMbsync(
  dovecot: DovecotInstance,
  user: string,
  password: string,
  work: string,
  round: number,
): Promise<{ seconds: number; messages: number }> {
  const store = path.join(work, `maildir-${round}`);
  await mkdir(store, { recursive: true });
  const config = path.join(work, `mbsyncrc-${round}`);
  // Plain IMAP on loopback: SSLType None; the sandbox offers PLAIN and LOGIN. FSync no is the
  // fastest mbsync can be, which is the bar the issue sets.
  await writeFile(
    config,
    `FSync no

IMAPAccount bench
Host 127.0.0.1
Port ${dovecot.ports.imap}
User ${user}
Pass ${password}
SSLType None
AuthMechs LOGIN

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path ${store}/
Inbox ${store}/INBOX
SubFolders Verbatim

Channel bench
Far :bench-far:
Near :bench-near:
Patterns *
Create Near
Sync Pull
SyncState *
`,
    { mode: 0o600 },
  );
  const run = await runProcess('mbsync', ['-q', '-c', config, 'bench']);
  if (run.code !== 0) throw new Error(`mbsync failed (exit ${run.code}): ${run.stderr.trim().slice(-2000)}`);
  return { seconds: run.seconds, messages: await countMaildirFiles(store) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Row {
  messages: number;
  seedBytes: number;
  postmasterBest: number;
  postmaster: number;
  postmasterProcess: number;
  postmasterCpu: number;
  mbsyncBest: number | undefined;
  mbsyncMedian: number | undefined;
  rssMB: number;
  startRssMB: number;
}

async function benchOne(
  child: ChildCommand,
  dovecot: DovecotInstance,
  address: string,
  password: string,
  seeded: SeedResult,
  rounds: number,
  mbsync: boolean,
  work: string,
): Promise<Row> {
  await warmUp(dovecot, address, password);
  const ours: (ChildResult & { processSeconds: number })[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const out = path.join(work, `export-${round}`);
    const result = await runPostmaster(child, dovecot, address, out);
    if (result.messages !== seeded.messages || !result.verified) {
      throw new Error(`Postmaster exported ${result.messages} of ${seeded.messages} messages (verified: ${result.verified})`);
    }
    ours.push(result);
    await rm(out, { recursive: true, force: true });
    if (mbsync) {
      const peer = await runMbsync(dovecot, address, password, work, round);
      if (peer.messages !== seeded.messages) throw new Error(`mbsync pulled ${peer.messages} of ${seeded.messages} messages`);
      theirs.push(peer.seconds);
    }
    console.error(
      `  round ${round + 1}/${rounds}: postmaster ${result.seconds.toFixed(2)} s (CPU ${result.cpuSeconds.toFixed(2)} s, ` +
        `process ${result.processSeconds.toFixed(2)} s, ` +
        `${result.maxRssMB.toFixed(0)} MB)${mbsync ? `, mbsync ${theirs.at(-1)!.toFixed(2)} s` : ''}`,
    );
  }
  return {
    messages: seeded.messages,
    seedBytes: seeded.bytes,
    postmasterBest: Math.min(...ours.map((r) => r.seconds)),
    postmaster: median(ours.map((r) => r.seconds)),
    postmasterProcess: median(ours.map((r) => r.processSeconds)),
    postmasterCpu: median(ours.map((r) => r.cpuSeconds)),
    mbsyncBest: mbsync ? Math.min(...theirs) : undefined,
    mbsyncMedian: mbsync ? median(theirs) : undefined,
    rssMB: Math.max(...ours.map((r) => r.maxRssMB)),
    startRssMB: Math.max(...ours.map((r) => r.startRssMB)),
  };
}

function printTable(rows: Row[], child: ChildCommand): void {
  const header = ['messages', 'MB (maildir)', 'postmaster s best/median', 'CPU s', 'process s', 'mbsync s best/median', 'ratio best, median (<=0.5)', 'peak RSS MB (<120)', 'RSS before export'];
  const lines = rows.map((r) => {
    const verdict = (ratio: number) => `${ratio.toFixed(2)}${ratio <= 0.5 ? '' : '!'}`;
    const ratios =
      r.mbsyncBest === undefined
        ? 'n/a'
        : `${verdict(r.postmasterBest / r.mbsyncBest)}, ${verdict(r.postmaster / r.mbsyncMedian!)} ${r.postmaster / r.mbsyncMedian! <= 0.5 ? 'ok' : 'MISSED'}`;
    return [
      String(r.messages),
      (r.seedBytes / 1e6).toFixed(1),
      `${r.postmasterBest.toFixed(2)} / ${r.postmaster.toFixed(2)}`,
      r.postmasterCpu.toFixed(2),
      r.postmasterProcess.toFixed(2),
      r.mbsyncBest === undefined ? 'n/a' : `${r.mbsyncBest.toFixed(2)} / ${r.mbsyncMedian!.toFixed(2)}`,
      ratios,
      `${r.rssMB.toFixed(0)} ${r.rssMB < 120 ? 'ok' : 'MISSED'}`,
      r.startRssMB.toFixed(0),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(fmt(header));
  for (const line of lines) console.log(fmt(line));
  console.log(
    `\nchild: ${child.label}. postmaster s: exportMailbox() wall time in the child (download, write, fsync,` +
      '\nread-back verification, manifest); CPU s: median CPU time of that export, all threads; process s:' +
      '\nmedian of the child end to end, including Node start-up and module loading.' +
      '\nratio: postmaster / mbsync, best round against best round and median against' +
      '\nmedian (the verdict; "!" marks a ratio over 0.5). RSS: max over rounds of the child\'s ru_maxrss;' +
      '\n"before export" is the child once its modules are loaded. On a shared machine run --rounds 3 or more.',
  );
}

async function main(): Promise<void> {
  const messages = flag('messages', 20_000);
  const rounds = flag('rounds', 1);
  const useTsx = hasFlag('tsx');
  const mbsync = await hasMbsync();
  if (!mbsync) console.error('mbsync (isync) is not installed: printing Postmaster figures alone. apt-get install -y isync');
  const root = await mkdtemp(path.join(os.tmpdir(), 'postmaster-bench-'));
  // mkdtemp makes it 0700; Dovecot's auth process (user dovecot) must pass through to the passwd-file.
  await chmod(root, 0o711);
  let dovecot: DovecotInstance | undefined;
  const cleanup = async () => {
    await dovecot?.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };
  const limit = setTimeout(() => {
    console.error(`benchmark exceeded ${OVERALL_LIMIT_MS / 60_000} minutes; stopping`);
    void cleanup().finally(() => process.exit(1));
  }, OVERALL_LIMIT_MS);
  limit.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  }
  try {
    const child = await prepareChild(path.join(HERE, 'export-child.ts'), path.join(root, 'child'), useTsx);
    const sizes = [messages, messages * 2];
    const users = sizes.map((_, i) => ({ address: `bench${i}@example.test`, password: `bench-pass-${i}` }));
    dovecot = await startDovecot({ dir: path.join(root, 'dovecot'), users, submissionHost: '127.0.0.1:9' });
    const rows: Row[] = [];
    for (const [i, size] of sizes.entries()) {
      const user = users[i]!;
      const maildir = path.join(dovecot.dir, 'mail', 'example.test', user.address.split('@')[0]!, 'Maildir');
      const seedStart = performance.now();
      const seeded = await seedMaildir({ maildir, messages: size, seed: 42 + i, owner: isRoot ? { uid: MAIL_UID, gid: MAIL_GID } : undefined });
      console.error(
        `seeded ${seeded.messages} messages (${(seeded.bytes / 1e6).toFixed(1)} MB, ${seeded.withFromLines} with "From " lines) ` +
          `in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
      );
      const work = path.join(root, `work-${i}`);
      await mkdir(work, { recursive: true });
      rows.push(await benchOne(child, dovecot, user.address, user.password, seeded, rounds, mbsync, work));
      await rm(work, { recursive: true, force: true });
    }
    console.log('');
    printTable(rows, child);
  } finally {
    clearTimeout(limit);
    await cleanup();
  }
}

await main();
