/**
 * Runs one Postmaster export in a process of its own, so the peak RSS it reports belongs to the
 * export alone (the parent holds Dovecot's handles, the seeder's garbage and mbsync's bookkeeping).
 * Input: JSON in POSTMASTER_BENCH_JOB (an env var, so the password is not visible in `ps`).
 * Output: one JSON line on stdout.
 */
import { exportMailbox, type ImapLogin } from '../src/providers/shared/imap-export.js';

interface Job {
  login: ImapLogin;
  mailbox: string;
  directory: string;
}

export interface ChildResult {
  seconds: number;
  maxRssMB: number;
  /** RSS once the modules are loaded, before the export starts: the floor the export adds to. */
  startRssMB: number;
  /** CPU time of the export (all threads: main and file worker), user + system. */
  cpuSeconds: number;
  messages: number;
  bytes: number;
  folders: number;
  verified: boolean;
}

const job = JSON.parse(process.env.POSTMASTER_BENCH_JOB ?? 'null') as Job | null;
if (!job) {
  console.error('export-child: POSTMASTER_BENCH_JOB is not set (run bench/export.ts instead)');
  process.exit(2);
}
const startRssMB = process.memoryUsage().rss / 1024 / 1024;
const started = performance.now();
const cpuBefore = process.cpuUsage();
const manifest = await exportMailbox(job.login, job.mailbox, { directory: job.directory, runId: 'bench' });
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const result: ChildResult = {
  seconds,
  // Linux reports ru_maxrss in KiB.
  maxRssMB: process.resourceUsage().maxRSS / 1024,
  startRssMB,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  messages: manifest.totalMessages,
  bytes: manifest.totalBytes,
  folders: manifest.folders.length,
  verified: manifest.verifiedAt !== null,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
