/**
 * Starts a real Dovecot plus an SMTP sink for one test file. Without Dovecot the suite is skipped
 * loudly on a developer machine, and fails under CI=true: CI must never pass by skipping it.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  DOVECOT_PACKAGES,
  dovecotBinary,
  startDovecot,
  type DovecotInstance,
  type DovecotUser,
} from '../../src/sandbox/dovecot-instance.js';
import { startSmtpSink, type SmtpSink } from '../../src/sandbox/smtp-sink.js';

export const hasDovecot = Boolean(await dovecotBinary());

if (!hasDovecot) {
  const advice = `Dovecot is missing: apt-get install -y ${DOVECOT_PACKAGES.join(' ')}`;
  if (process.env.CI === 'true') throw new Error(`${advice}. CI must run the Dovecot suite, not skip it.`);
  console.warn(`SKIPPING the Dovecot suite. ${advice}`);
}

export interface MailServer {
  dovecot: DovecotInstance;
  sink: SmtpSink;
  dir: string;
}

export const DEFAULT_USERS: DovecotUser[] = [
  { address: 'alice@example.test', password: 'alice-pass' },
  { address: 'bob@example.test', password: 'bob-pass' },
  { address: 'carol@example.test', password: 'carol-pass' },
  { address: 'dave@example.test', password: 'dave-pass' },
];

/**
 * Registers beforeAll/afterAll hooks and returns a handle whose fields are set once beforeAll ran.
 * Use with `describe.skipIf(!hasDovecot)`.
 */
export function useMailServer(options: { users?: DovecotUser[]; maxRedirects?: number } = {}): MailServer {
  const handle = {} as MailServer;
  beforeAll(async () => {
    if (!hasDovecot) return;
    handle.dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-test-'));
    // mkdtemp makes 0700; Dovecot's auth (user dovecot) and delivery (uid 5000) must pass through.
    await chmod(handle.dir, 0o711);
    handle.sink = await startSmtpSink();
    handle.dovecot = await startDovecot({
      dir: path.join(handle.dir, 'dovecot'),
      users: options.users ?? DEFAULT_USERS,
      submissionHost: `127.0.0.1:${handle.sink.port}`,
      maxRedirects: options.maxRedirects ?? 4,
    });
  });
  afterAll(async () => {
    await handle.dovecot?.stop();
    await handle.sink?.close();
    if (handle.dir) await rm(handle.dir, { recursive: true, force: true });
  });
  return handle;
}
