/**
 * Everything the core needs from the outside world, as interfaces the core owns. The shell (store/,
 * providers/, front ends) implements them; tests substitute a fixed clock.
 */
import type { BackupManifest } from './backup.js';
import type { OffboardingRequest } from './offboarding/model.js';
import type { AuditDraft, AuditEntry } from './audit/entry.js';
import type { ForwardingRule } from './forwarding/rule.js';
import type { Finding } from './findings/model.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * Named locks that hold across every process sharing the store: the bot and any CLI command. Work
 * that reads state on the mail server, checks it and writes it back holds one, so a CLI command and
 * a Slack action at the same instant cannot interleave (two rules that together make a loop, two
 * Sieve changes to one mailbox, two offboardings of one mailbox).
 */
export interface Locks {
  /** Runs `work` holding `name`, after any other holder has finished; a Conflict when that takes too long. */
  hold<T>(name: string, work: () => Promise<T>): Promise<T>;
}

export interface RequestRepository {
  get(id: string): Promise<OffboardingRequest | undefined>;
  /** Fails with Conflict when the id is taken. */
  create(request: OffboardingRequest): Promise<void>;
  /**
   * Atomic read-modify-write. `change` sees the current request and returns the next one, or
   * undefined to leave it alone; it may run more than once when another writer got there first,
   * so it must be pure. Resolves with what was stored, or undefined when nothing changed.
   */
  update(id: string, change: (current: OffboardingRequest) => OffboardingRequest | undefined): Promise<OffboardingRequest | undefined>;
  list(): Promise<OffboardingRequest[]>;
}

export interface AuditLog {
  /** Appends one entry to the hash chain; concurrent appends from several processes stay one chain. */
  append(draft: AuditDraft): Promise<AuditEntry>;
  /** Every entry in chain order, plus the head record the store keeps. */
  read(): Promise<{ entries: AuditEntry[]; head: { seq: number; hash: string } | undefined }>;
}

export interface BackupVault {
  /** BACKUP_DIR/<mailbox>/<run-id>/ for a new export. */
  directoryFor(mailbox: string, runId: string): string;
  /** Re-reads a finished backup and checks it against its manifest (counts and sha256). */
  verify(directory: string, manifest: BackupManifest): Promise<{ ok: true } | { ok: false; problem: string }>;
}

export interface RuleRepository {
  get(id: string): Promise<ForwardingRule | undefined>;
  list(): Promise<ForwardingRule[]>;
  /** Fails with Conflict when the id is taken. */
  create(rule: ForwardingRule): Promise<void>;
  delete(id: string): Promise<void>;
}

/** The findings of the last recorded (scheduled) audit, for "what changed since last week". */
export interface AuditHistory {
  last(): Promise<{ at: string; findings: Finding[] } | undefined>;
  record(at: string, findings: Finding[]): Promise<void>;
}
