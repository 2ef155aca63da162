/**
 * A real Redis and a real PostgreSQL for the store tests, each started on a loopback port in a
 * temporary directory and thrown away after. Without the server the suite is skipped loudly on a
 * developer machine, and fails under CI=true: CI must never pass by skipping it.
 */
import { spawn, execFile } from 'node:child_process';
import { access, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/sandbox/dovecot-instance.js';

const run = promisify(execFile);

export interface StoreServer {
  url: string;
  stop(): Promise<void>;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir && (await exists(path.join(dir, name)))) return path.join(dir, name);
  for (const dir of ['/usr/sbin', '/usr/bin']) if (await exists(path.join(dir, name))) return path.join(dir, name);
  return undefined;
}

/** Debian keeps PostgreSQL's server programs off PATH, one folder per major version. */
async function postgresBin(): Promise<string | undefined> {
  const root = '/usr/lib/postgresql';
  const versions = await readdir(root).catch(() => [] as string[]);
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const bin = path.join(root, version, 'bin');
    if (await exists(path.join(bin, 'initdb'))) return bin;
  }
  const initdb = await onPath('initdb');
  return initdb && path.dirname(initdb);
}

export const redisServer = await onPath('redis-server');
export const postgresBinDir = await postgresBin();

/** Says once, for a suite that needs a server this machine lacks, to skip (or, under CI, to fail). */
export function requireServer(present: boolean, what: string): boolean {
  if (present) return true;
  const advice = `${what} is missing: bash scripts/install-packages.sh --tests (as root) installs it`;
  if (process.env.CI === 'true') throw new Error(`${advice}. CI must run the store suites, not skip them.`);
  console.warn(`SKIPPING the ${what} store suite. ${advice}`);
  return false;
}

export async function startRedis(): Promise<StoreServer> {
  const port = await freePort();
  // Redis logs to stdout, startup failures included.
  const child = spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      // From here on its log is not needed, only drained.
      child.stdout!.off('data', read).resume();
      resolve();
    };
    child.stdout!.on('data', read);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A fresh cluster (initdb) on a loopback port, trust authentication, no durability: it lives for one test file. */
export async function startPostgres(): Promise<StoreServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-pg-'));
  // PostgreSQL refuses to run as root; as root, the cluster belongs to the postgres user.
  const asRoot = process.getuid?.() === 0;
  const runAs = async (program: string, args: string[]) => {
    const file = path.join(postgresBinDir!, program);
    return asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
  };
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  await runAs('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`;
  await runAs('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await runAs('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
