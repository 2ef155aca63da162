/**
 * Builds a real Postmaster (real SQLite file, real Dovecot provider) against a test mail server,
 * with a clock the test can move, and runs the real CLI as a child process.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { capturedLogger } from './captured-logger.js';
import { composePostmaster, type Postmaster } from '../../src/compose.js';
import type { MailProvider } from '../../src/core/provider.js';
import { createProvider } from '../../src/providers/index.js';
import type { MailServer } from './mail-server.js';

export class TestClock {
  private offsetMs = 0;
  now = () => new Date(Date.now() + this.offsetMs);
  advanceDays(days: number): void {
    this.offsetMs += days * 86_400_000;
  }
}

/** The settings every test Postmaster shares: its own SQLite file and backups, U1 requests, U2/U3 approve. */
export function baseTestEnv(storeDir: string): Record<string, string> {
  return {
    MAIL_PROVIDER: 'dovecot',
    MAIL_DOMAIN: 'example.test',
    STORE_URL: `sqlite://${storeDir}/postmaster.sqlite`,
    BACKUP_DIR: path.join(storeDir, 'backups'),
    POSTMASTER_REQUESTERS: 'U1',
    POSTMASTER_APPROVERS: 'U2,U3',
  };
}

export function testEnv(server: MailServer, storeDir: string): Record<string, string> {
  const { dovecot } = server;
  return {
    ...baseTestEnv(storeDir),
    DOVECOT_IMAP_URL: dovecot.imapUrl,
    DOVECOT_SIEVE_URL: dovecot.sieveUrl,
    DOVECOT_ADMIN_USER: dovecot.adminUser,
    DOVECOT_ADMIN_PASSWORD: dovecot.adminPassword,
    DOVECOT_DOVEADM_URL: dovecot.doveadmUrl,
    DOVECOT_DOVEADM_KEY: dovecot.doveadmKey,
    DOVECOT_PASSWD_FILE: dovecot.passwdFile,
  };
}

export interface TestPostmaster extends Postmaster {
  clock: TestClock;
  logLines: string[];
}

export async function testPostmaster(env: Record<string, string>, options: { provider?: (real: MailProvider) => MailProvider } = {}): Promise<TestPostmaster> {
  const config: Config = loadConfig(env);
  const { logger, lines: logLines } = capturedLogger('trace');
  const clock = new TestClock();
  const provider = options.provider?.(createProvider(config, logger));
  const app = await composePostmaster(config, logger, { clock, provider });
  return Object.assign(app, { clock, logLines });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = path.resolve('bin/postmaster.js');

/** Runs `postmaster ...args` in a child process with only the given environment (plus PATH). */
export function runCli(env: Record<string, string>, args: string[], cwd = process.cwd()): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
