/**
 * The composition root shared by the long-running process and the CLI:
 * config -> logger -> store -> provider -> core.
 */
import path from 'node:path';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { systemClock, type Clock } from './core/ports.js';
import type { MailProvider } from './core/provider.js';
import { OffboardingService } from './core/offboarding/service.js';
import { openStore, type Store } from './store/open-store.js';
import { storeLocks } from './store/locks.js';
import { withMailboxLocks } from './core/locked-provider.js';
import { requestRepository } from './store/requests.js';
import { auditLog } from './store/audit-log.js';
import { backupVault } from './store/backup-vault.js';
import { createProvider } from './providers/index.js';
import { ForwardingService } from './core/forwarding/service.js';
import { sensitiveMatcher } from './core/forwarding/sensitive.js';
import { auditHistory, ruleRepository } from './store/rules.js';
import type { AuditLog } from './core/ports.js';
import type { RunEvent, RunObserver } from './core/offboarding/runner.js';

export interface Postmaster {
  config: Config;
  /** Every run event from every run in this process (front ends subscribe to post progress). */
  runEvents: RunEventHub;
  logger: Logger;
  store: Store;
  provider: MailProvider;
  audit: AuditLog;
  offboarding: OffboardingService;
  forwarding: ForwardingService;
  close(): Promise<void>;
}

export interface ComposeOverrides {
  provider?: MailProvider;
  clock?: Clock;
}

export async function composePostmaster(config: Config, logger: Logger, overrides: ComposeOverrides = {}): Promise<Postmaster> {
  const clock = overrides.clock ?? systemClock;
  const store = await openStore(config.STORE_URL);
  const locks = storeLocks(store);
  const provider = withMailboxLocks(overrides.provider ?? createProvider(config, logger), locks);
  const audit = auditLog(store, clock);
  const runEvents = new RunEventHub();
  runEvents.subscribe(logRunEvents(logger));
  const requests = requestRepository(store);
  const policy = {
    requesters: new Set(config.POSTMASTER_REQUESTERS),
    approvers: new Set(config.POSTMASTER_APPROVERS),
    approvalWindowMs: config.APPROVAL_WINDOW_HOURS * 3_600_000,
  };
  const offboarding = new OffboardingService({
    provider,
    requests,
    audit,
    vault: backupVault(path.resolve(config.BACKUP_DIR)),
    clock,
    policy,
    domain: config.MAIL_DOMAIN,
    forwardDefaultDays: config.FORWARD_DEFAULT_DAYS,
    observe: (event) => runEvents.emit(event),
    locks,
  });
  const forwarding = new ForwardingService({
    provider,
    rules: ruleRepository(store),
    requests,
    history: auditHistory(store),
    audit,
    clock,
    policy,
    domain: config.MAIL_DOMAIN,
    allowedDomains: config.FORWARD_ALLOWED_DOMAINS.map((d) => d.toLowerCase()),
    sensitive: sensitiveMatcher(config.SENSITIVE_MAILBOXES, config.MAIL_DOMAIN),
    timeZone: config.AUDIT_TZ,
    concurrency: config.AUDIT_CONCURRENCY,
    locks,
  });
  return {
    config,
    runEvents,
    forwarding,
    logger,
    store,
    provider,
    audit,
    offboarding,
    async close() {
      await provider.close();
      await store.close();
    },
  };
}

/** Fans run events out to every subscriber; one failing subscriber never stops a run. */
export class RunEventHub {
  private readonly observers: RunObserver[] = [];

  subscribe(observer: RunObserver): () => void {
    this.observers.push(observer);
    return () => this.observers.splice(this.observers.indexOf(observer), 1);
  }

  async emit(event: RunEvent): Promise<void> {
    await Promise.all(this.observers.map(async (observer) => {
      try {
        await observer(event);
      } catch {
        // Progress reporting must never fail a step; the logger subscriber records what happened.
      }
    }));
  }
}

function logRunEvents(logger: Logger): RunObserver {
  return (event) => {
    const base = { requestId: event.request.id, mailbox: event.request.mailbox, state: event.request.state };
    switch (event.type) {
      case 'step_started':
        logger.info({ ...base, step: event.step.name, attempt: event.step.attempts }, 'step started');
        break;
      case 'step_progress':
        logger.debug({ ...base, step: event.step.name, progress: event.progress }, 'step progress');
        break;
      case 'step_finished':
        if (event.step.status === 'done') logger.info({ ...base, step: event.step.name, summary: event.step.summary }, 'step done');
        else logger.warn({ ...base, step: event.step.name, error: event.step.error }, 'step failed');
        break;
      case 'run_paused':
        logger.info({ ...base, nextDueAt: event.request.nextDueAt }, 'run paused');
        break;
      case 'run_finished':
        logger.info(base, 'run finished');
        break;
    }
  };
}
