/**
 * An in-memory mail provider for the Slack tests that are about Slack (refusals, modal errors, ack
 * time, thread progress) rather than the mail system: it can be made slow, made to fail a call, or
 * to lack a capability (so a step becomes a manual task). The whole-flow test uses the real Dovecot.
 */
import type { BackupManifest } from '../../src/core/backup.js';
import type { Mailbox } from '../../src/core/mailbox.js';
import type { AutoReplySpec, Capability, ExportOptions, ForwardingLimits, ForwardingReading, ForwardingSpec, MailProvider, ProviderRule, RevokeResult } from '../../src/core/provider.js';
import { CAPABILITIES } from '../../src/core/provider.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class FakeProvider implements MailProvider {
  readonly name = 'fake';
  readonly capabilities: Set<Capability>;
  readonly mailboxes = new Map<string, Mailbox>();
  readonly calls: string[] = [];
  /** Per method: milliseconds to wait before answering. */
  readonly delays: Partial<Record<keyof MailProvider, number>> = {};
  /** Per method: how many of the next calls throw. */
  readonly failures: Partial<Record<keyof MailProvider, number>> = {};
  /** When each getMailbox call answered (ms since epoch). */
  readonly answeredAt: number[] = [];
  maxRedirects: number | undefined = 4;
  /** Progress events one export emits, and the pause between them. */
  exportSteps = 3;
  exportStepMs = 5;

  constructor(addresses: string[], options: { without?: Capability[] } = {}) {
    this.capabilities = new Set(CAPABILITIES.filter((c) => !options.without?.includes(c)));
    for (const address of addresses) this.mailboxes.set(address, { address, status: 'active', forwarding: { targets: [], keepCopy: true, managed: false }, messages: 12_408, bytes: 2_040_109_465 });
  }

  private async enter(method: keyof MailProvider): Promise<void> {
    this.calls.push(method);
    const delay = this.delays[method];
    if (delay) await sleep(delay);
    const failures = this.failures[method] ?? 0;
    if (failures > 0) {
      this.failures[method] = failures - 1;
      throw new Error(`${method} failed: the mail server went away`);
    }
  }

  async listMailboxes(): Promise<Mailbox[]> {
    await this.enter('listMailboxes');
    return [...this.mailboxes.values()];
  }

  async getMailbox(address: string): Promise<Mailbox | undefined> {
    await this.enter('getMailbox');
    this.answeredAt.push(Date.now());
    const box = this.mailboxes.get(address);
    return box ? structuredClone(box) : undefined;
  }

  async export(address: string, options: ExportOptions): Promise<BackupManifest> {
    await this.enter('export');
    const total = this.mailboxes.get(address)?.messages ?? 0;
    for (let i = 1; i <= this.exportSteps; i++) {
      await sleep(this.exportStepMs);
      options.onProgress?.({ folder: 'INBOX', folderIndex: 0, folderCount: 1, messagesDone: Math.round((total * i) / this.exportSteps), messagesTotal: total, bytesDone: i * 1000 });
    }
    const now = new Date().toISOString();
    return {
      mailbox: address,
      runId: options.runId,
      createdAt: now,
      verifiedAt: now,
      totalMessages: total,
      totalBytes: 2_040_109_465,
      folders: [{ name: 'INBOX', file: 'INBOX.mbox', messages: total, bytes: 2_040_109_465, sha256: 'a'.repeat(64) }],
    };
  }

  async forwardingLimits(): Promise<ForwardingLimits> {
    await this.enter('forwardingLimits');
    return { maxRedirects: this.maxRedirects, unmanagedRedirects: 0 };
  }

  async setForwarding(address: string, spec: ForwardingSpec): Promise<void> {
    await this.enter('setForwarding');
    const box = this.mailboxes.get(address);
    if (box) box.forwarding = { targets: spec.targets, keepCopy: spec.keepCopy, managed: true, expiresAt: spec.expiresAt };
  }

  async clearForwarding(address: string): Promise<void> {
    await this.enter('clearForwarding');
    const box = this.mailboxes.get(address);
    if (box) box.forwarding = { targets: [], keepCopy: true, managed: true };
  }

  async setAutoReply(address: string, spec: AutoReplySpec): Promise<void> {
    await this.enter('setAutoReply');
    const box = this.mailboxes.get(address);
    if (box) box.autoReply = { subject: spec.subject, body: spec.body, endDate: spec.endDate };
  }

  async clearAutoReply(address: string): Promise<void> {
    await this.enter('clearAutoReply');
    const box = this.mailboxes.get(address);
    if (box) box.autoReply = undefined;
  }

  async revokeSessions(): Promise<RevokeResult> {
    await this.enter('revokeSessions');
    return { sessionsEnded: 1 };
  }

  async readForwarding(address: string): Promise<ForwardingReading> {
    await this.enter('readForwarding');
    const targets = this.mailboxes.get(address)?.forwarding?.targets ?? [];
    return { mailbox: address, readable: true, edges: targets.map((target) => ({ target, conditional: false, source: 'postmaster' as const })) };
  }

  async setRules(_address: string, _rules: ProviderRule[]): Promise<void> {
    await this.enter('setRules');
  }

  async disable(address: string): Promise<void> {
    await this.enter('disable');
    const box = this.mailboxes.get(address);
    if (box) box.status = 'disabled';
  }

  async enable(address: string): Promise<void> {
    await this.enter('enable');
    const box = this.mailboxes.get(address);
    if (box) box.status = 'active';
  }

  async delete(address: string): Promise<void> {
    await this.enter('delete');
    this.mailboxes.delete(address);
  }

  manualInstructions(capability: Capability, plan: { mailbox: string }): string {
    return `In the admin console, do "${capability}" for ${plan.mailbox}.`;
  }

  async close(): Promise<void> {}

  /** The calls that change the mail system. */
  get changes(): string[] {
    return this.calls.filter((c) => ['export', 'setForwarding', 'setAutoReply', 'revokeSessions', 'disable', 'delete', 'enable', 'clearForwarding', 'clearAutoReply'].includes(c));
  }
}
