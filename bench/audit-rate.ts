/**
 * The forwarding audit against a provider double limited to 40 requests/s (Alibaba Mail's documented
 * limit): the contract server answers 429 above 40/s, and the double reads each mailbox's forwarding
 * with one API call through the real Alibaba Mail client (its rate limiter, retries and token). The
 * audit runs as Postmaster runs it (composePostmaster, a real SQLite file, AUDIT_CONCURRENCY), so the
 * figure is the share of the allowed rate the whole audit keeps busy. Goal: at least 90%.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { composePostmaster } from '../src/compose.js';
import type { Capability, ForwardingReading } from '../src/core/provider.js';
import { ALIYUN_CAPABILITIES, AliyunProvider, type AliyunSettings } from '../src/providers/aliyun/provider.js';
import { segment } from '../src/providers/aliyun/client.js';
import { startAlimailServer, syntheticDirectory } from '../test/support/alimail-server.js';

export interface RateLimitedAudit {
  mailboxes: number;
  requests: number;
  seconds: number;
  rate: number;
  share: number;
  limit429: number;
  findings: number;
}

/** Alibaba Mail as it would be with a forwarding endpoint: one GET per mailbox, through the same client. */
class ForwardingReadingDouble extends AliyunProvider {
  override readonly capabilities: ReadonlySet<Capability>;

  constructor(
    settings: AliyunSettings,
    private readonly forwards: ReadonlyMap<string, string[]>,
  ) {
    super(settings);
    this.capabilities = new Set<Capability>([...ALIYUN_CAPABILITIES, 'readForwarding']);
  }

  override async readForwarding(address: string): Promise<ForwardingReading> {
    await this.client.get(`/v2/users/${segment(address)}`);
    const targets = this.forwards.get(address) ?? [];
    return { mailbox: address, readable: true, edges: targets.map((target) => ({ target, conditional: false, source: 'user' as const })) };
  }
}

export async function auditAgainstRateLimitedDouble(options: { mailboxes: number; limit: number; concurrency: number }): Promise<RateLimitedAudit> {
  const domain = 'bench.example';
  const directory = syntheticDirectory({ departments: Math.max(1, Math.round(options.mailboxes / 50)), users: options.mailboxes, domain });
  // Every tenth mailbox forwards to the next one, one in ten of those outside the domain.
  const forwards = new Map<string, string[]>();
  directory.users.forEach((user, i) => {
    if (i % 10 === 0) forwards.set(user.email, [i % 100 === 0 ? `someone${i}@gmail.com` : directory.users[(i + 1) % directory.users.length]!.email]);
  });
  const credentials = { clientId: 'bench', clientSecret: 'bench-secret' };
  const server = await startAlimailServer({ ...credentials, ...directory, rateLimit: options.limit });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-bench-audit-rate-'));
  const config = loadConfig({
    MAIL_PROVIDER: 'aliyun',
    MAIL_DOMAIN: domain,
    STORE_URL: `sqlite://${dir}/postmaster.sqlite`,
    BACKUP_DIR: path.join(dir, 'backups'),
    ALIMAIL_CLIENT_ID: credentials.clientId,
    ALIMAIL_CLIENT_SECRET: credentials.clientSecret,
    ALIMAIL_BASE_URL: server.url,
    ALIMAIL_RATE_LIMIT: String(options.limit),
    AUDIT_CONCURRENCY: String(options.concurrency),
  });
  const logger = createLogger({ level: 'silent' });
  const provider = new ForwardingReadingDouble(
    { baseUrl: server.url, ...credentials, requestsPerSecond: options.limit, imapUrl: 'imaps://127.0.0.1:1' },
    forwards,
  );
  const app = await composePostmaster(config, logger, { provider });
  try {
    const started = performance.now();
    const run = await app.forwarding.runAudit();
    const seconds = (performance.now() - started) / 1000;
    const requests = server.requests.length;
    const rate = requests / seconds;
    return { mailboxes: run.mailboxesRead, requests, seconds, rate, share: rate / options.limit, limit429: server.tooManyRequests.limit, findings: run.findings.length };
  } finally {
    await app.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
