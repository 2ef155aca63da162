/**
 * The seam between the core and a mail system. Each provider (dovecot, aliyun, ...) implements it
 * and declares what it can do; a step whose capability is missing becomes a manual task.
 */
import type { BackupManifest, ExportProgress } from './backup.js';
import type { Mailbox } from './mailbox.js';

export const CAPABILITIES = [
  'listMailboxes',
  'getMailbox',
  'export',
  'setForwarding',
  'clearForwarding',
  'setAutoReply',
  'clearAutoReply',
  'revokeSessions',
  'disable',
  'enable',
  'delete',
  'readForwarding',
  'setRules',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

export interface ForwardingSpec {
  targets: string[];
  /** Keep a copy in the mailbox (Sieve `redirect :copy`). */
  keepCopy: boolean;
  expiresAt?: string | undefined;
}

export interface AutoReplySpec {
  subject: string;
  body: string;
  /** The successor's address, so the reply can name them. */
  successor?: string | undefined;
  /** ISO dates (YYYY-MM-DD); replies are sent only between them. */
  startDate?: string | undefined;
  endDate?: string | undefined;
  /** Reply at most once per sender per this many days (RFC 5230). */
  days?: number | undefined;
}

export interface ExportOptions {
  /** Directory to write into: BACKUP_DIR/<mailbox>/<run-id>/. */
  directory: string;
  runId: string;
  onProgress?: ((progress: ExportProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** What bounds a forward on this server, so a plan can be refused before approval. */
export interface ForwardingLimits {
  /** Most redirects the server performs per delivered message, or undefined when unbounded. */
  maxRedirects?: number | undefined;
  /** Redirects the mailbox already has that Postmaster did not write (the user's own script). */
  unmanagedRedirects: number;
}

/** One forwarding edge as the mail system reports it, whoever wrote it. */
export interface ForwardingEdgeReading {
  target: string;
  /** Only some mail is forwarded (a sender/subject condition). An expiry alone does not count. */
  conditional: boolean;
  /** postmaster: a forward or rule Postmaster wrote; user: the mailbox owner's own script or settings. */
  source: 'postmaster' | 'user';
  ruleId?: string | undefined;
  /** Human-readable condition, e.g. `header :contains "subject" "订单"`. */
  condition?: string | undefined;
}

export type ForwardingReading =
  | { mailbox: string; readable: true; edges: ForwardingEdgeReading[] }
  /** The forwarding could not be read (an unparseable script, or no API for it): a finding of its own. */
  | { mailbox: string; readable: false; error: string };

/** A conditional forward as the provider stores it (see core/forwarding for the full rule). */
export interface ProviderRule {
  id: string;
  targets: string[];
  keepCopy: boolean;
  match: 'all' | 'any';
  senderContains?: string[] | undefined;
  subjectContains?: string[] | undefined;
  expiresAt?: string | undefined;
}

/** The parts of an offboarding plan a provider may need to word a manual task or a note. */
export interface PlanFacts {
  mailbox: string;
  successor?: string | undefined;
  forward?: ForwardingSpec | undefined;
  autoReply?: { subject: string; body: string; startDate?: string | undefined; endDate?: string | undefined } | undefined;
}

export interface RevokeResult {
  sessionsEnded: number;
}

export interface MailProvider {
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;

  listMailboxes(): Promise<Mailbox[]>;
  /** undefined when the mailbox does not exist. */
  getMailbox(address: string): Promise<Mailbox | undefined>;
  /** Exports every folder to mbox files plus manifest.json, reads them back, and returns the verified manifest. */
  export(address: string, options: ExportOptions): Promise<BackupManifest>;
  forwardingLimits(address: string): Promise<ForwardingLimits>;
  setForwarding(address: string, spec: ForwardingSpec): Promise<void>;
  clearForwarding(address: string): Promise<void>;
  setAutoReply(address: string, spec: AutoReplySpec): Promise<void>;
  clearAutoReply(address: string): Promise<void>;
  revokeSessions(address: string): Promise<RevokeResult>;
  /** Everything this mailbox forwards, including what its owner set up outside Postmaster. */
  readForwarding(address: string): Promise<ForwardingReading>;
  /** Replaces Postmaster's conditional rules for the mailbox; [] removes them all. */
  setRules(address: string, rules: ProviderRule[]): Promise<void>;
  disable(address: string): Promise<void>;
  enable(address: string): Promise<void>;
  /** Removes the account and its mail. Succeeds when the account is already gone. */
  delete(address: string): Promise<void>;
  /**
   * For a capability the provider lacks: what a person must do instead, in the admin console's own
   * words. The plan shows it and the run waits until someone marks it done.
   */
  manualInstructions?(capability: Capability, plan: PlanFacts): string;
  /**
   * For a capability the provider has: anything the approver must know before approving that the
   * step's description does not say (Alibaba Mail's backup resets the password, for example).
   */
  stepNote?(capability: Capability, plan: PlanFacts): string | undefined;
  close(): Promise<void>;
}
