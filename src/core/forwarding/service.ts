/**
 * The forwarding use-cases every front end calls: add, remove and list rules (with every
 * guardrail checked before anything changes), sweep expired forwards, and audit the domain.
 */
import { randomBytes } from 'node:crypto';
import PQueue from 'p-queue';
import pRetry, { AbortError } from 'p-retry';
import { isPostmasterError, isRefusal, notFound, PostmasterError, refused } from '../errors.js';
import { domainOf, qualifyAddress } from '../mailbox.js';
import type { ForwardingReading, MailProvider, ProviderRule } from '../provider.js';
import type { AuditHistory, AuditLog, Clock, Locks, RequestRepository, RuleRepository } from '../ports.js';
import { assertMayRequest, type Policy } from '../policy.js';
import { buildGraph, type ForwardEdge } from './graph.js';
import { checkRule } from './guardrails.js';
import { hasExpired } from './expiry.js';
import type { ForwardingRule, RuleInput } from './rule.js';
import { isRequestId, type OffboardingRequest } from '../offboarding/model.js';
import type { SensitiveMatcher } from './sensitive.js';
import type { ForwardingEntry, OffboardingFact } from '../findings/audit.js';
import { buildReport, findingsCsv, type AuditReport } from '../findings/report.js';

export interface ForwardingDeps {
  provider: MailProvider;
  rules: RuleRepository;
  requests: RequestRepository;
  history: AuditHistory;
  audit: AuditLog;
  clock: Clock;
  policy: Policy;
  domain: string;
  allowedDomains: string[];
  sensitive: SensitiveMatcher;
  /** AUDIT_TZ: the calendar a date-only expiry ends in. */
  timeZone: string;
  /** How many mailboxes are read from the mail system at once. */
  concurrency: number;
  locks: Locks;
}

export interface ExpiryNotice {
  kind: 'rule' | 'offboarding_forward';
  id: string;
  mailbox: string;
  targets: string[];
  expiresAt: string;
  /** Set when the provider cannot remove a forward through its API: a person must, like this. */
  removeByHand?: string | undefined;
}

/** An offboarding's forward that is in effect: set by its run, not yet removed. Rules are separate. */
export interface OffboardingForward {
  /** The offboarding request (ob-…) the forward belongs to. */
  requestId: string;
  mailbox: string;
  targets: string[];
  keepCopy: boolean;
  expiresAt?: string | undefined;
}

/** What `removeForward` took away: a rule, or an offboarding's forward ended early. */
export type RemovedForward = { rule: ForwardingRule } | { offboarding: OffboardingForward };

export interface AuditRun extends AuditReport {
  at: string;
  mailboxesRead: number;
  csv: string;
}

export type AuditProgress = (done: number, total: number) => void;

const RULE_ID_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** The offboarding's forward step set the forward, and neither the sweep nor a person has ended it. */
function forwardInEffect(request: OffboardingRequest): boolean {
  return !request.forwardRemovedAt && request.steps.some((s) => s.name === 'forward' && s.status === 'done');
}

function newRuleId(): string {
  return `fw-${Array.from(randomBytes(8), (b) => RULE_ID_ALPHABET[b % RULE_ID_ALPHABET.length]).join('')}`;
}

function toProviderRule(rule: ForwardingRule): ProviderRule {
  return {
    id: rule.id,
    targets: rule.targets,
    keepCopy: rule.keepCopy,
    match: rule.conditions?.match ?? 'all',
    senderContains: rule.conditions?.senderContains,
    subjectContains: rule.conditions?.subjectContains,
    expiresAt: rule.expiresAt,
  };
}

/** A reading's edges as graph edges. */
function edgesOf(reading: ForwardingReading): ForwardEdge[] {
  if (!reading.readable) return [];
  return reading.edges.map((e) => ({ from: reading.mailbox, to: e.target, conditional: e.conditional, source: e.source, ruleId: e.ruleId }));
}

/** One audit entry per rule or script, the shape the findings expect. */
function entriesOf(reading: ForwardingReading): ForwardingEntry[] {
  if (!reading.readable) return [{ mailbox: reading.mailbox, readable: false, error: reading.error }];
  const groups = new Map<string, { targets: string[]; conditional: boolean; source: 'postmaster' | 'user'; ruleId?: string | undefined }>();
  for (const edge of reading.edges) {
    const key = `${edge.source}|${edge.ruleId ?? ''}|${edge.conditional}`;
    const group = groups.get(key) ?? { targets: [], conditional: edge.conditional, source: edge.source, ruleId: edge.ruleId };
    if (!group.targets.includes(edge.target)) group.targets.push(edge.target);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => ({ mailbox: reading.mailbox, readable: true, ...g }));
}

export class ForwardingService {
  constructor(private readonly deps: ForwardingDeps) {}

  /**
   * Saves a rule after every guardrail passed, then compiles it into the mailbox's Postmaster
   * script. A refused rule changes nothing on the mail server or in the store.
   */
  async addRule(actor: string, input: RuleInput): Promise<ForwardingRule> {
    return this.change(actor, 'rule.add', typeof input.mailbox === 'string' ? input.mailbox : undefined, async () => {
      assertMayRequest(this.deps.policy, actor);
      const { provider, domain, clock } = this.deps;
      const mailboxes = new Map((await provider.listMailboxes()).map((m) => [m.address.toLowerCase(), { status: m.status }]));
      const mailbox = qualifyAddress(String(input.mailbox ?? ''), domain);
      if (!mailboxes.has(mailbox)) throw notFound(`mailbox ${mailbox} does not exist on ${provider.name}`);
      if (!provider.capabilities.has('setRules')) {
        throw new PostmasterError('Unsupported', `${provider.name} cannot set forwarding rules through its API, so Postmaster cannot guard them`, {
          hint: provider.manualInstructions?.('setRules', { mailbox }),
        });
      }

      const own = await this.read(mailbox);
      const targets = (Array.isArray(input.targets) ? input.targets : []).map((t) => qualifyAddress(String(t), domain));
      // The mailbox's own edges too: the guardrails count every address it forwards to in all.
      const graph = buildGraph([...edgesOf(own), ...(await this.reachableEdges(targets, mailboxes))]);
      const limits = provider.capabilities.has('setForwarding') ? await provider.forwardingLimits(mailbox) : { maxRedirects: undefined };
      const existing = own.readable ? new Set(own.edges.map((e) => e.target)).size : 0;
      const normalized = checkRule(input, {
        domain,
        allowedDomains: this.deps.allowedDomains,
        sensitive: this.deps.sensitive,
        mailboxes,
        graph,
        maxRedirects: limits.maxRedirects,
        existingRedirects: existing,
        now: clock.now(),
        timeZone: this.deps.timeZone,
      });

      const rule: ForwardingRule = { ...normalized, id: newRuleId(), createdBy: actor, createdAt: clock.now().toISOString() };
      const siblings = (await this.deps.rules.list()).filter((r) => r.mailbox === rule.mailbox);
      await provider.setRules(rule.mailbox, [...siblings, rule].map(toProviderRule));
      try {
        await this.deps.rules.create(rule);
      } catch (error) {
        // Put the mail server back as it was: a rule the store does not know would never expire.
        await provider.setRules(rule.mailbox, siblings.map(toProviderRule));
        throw error;
      }
      await this.deps.audit.append({ actor, action: 'rule.created', mailbox: rule.mailbox, result: 'ok', detail: JSON.stringify({ id: rule.id, targets: rule.targets, conditions: rule.conditions, expiresAt: rule.expiresAt }) });
      return rule;
    });
  }

  async removeRule(actor: string, id: string, why = 'rule.removed'): Promise<ForwardingRule> {
    return this.change(actor, 'rule.remove', undefined, async () => {
      if (actor !== 'system') assertMayRequest(this.deps.policy, actor);
      const rule = await this.deps.rules.get(id);
      if (!rule) throw notFound(`no forwarding rule ${id}`, 'list rules with `postmaster forward list`');
      const others = (await this.deps.rules.list()).filter((r) => r.mailbox === rule.mailbox && r.id !== id);
      await this.deps.provider.setRules(rule.mailbox, others.map(toProviderRule));
      await this.deps.rules.delete(id);
      await this.deps.audit.append({ actor, action: why, mailbox: rule.mailbox, result: 'ok', detail: `${id} -> ${rule.targets.join(', ')}` });
      return rule;
    });
  }

  async listRules(mailbox?: string): Promise<ForwardingRule[]> {
    const wanted = mailbox ? qualifyAddress(mailbox, this.deps.domain) : undefined;
    const rules = await this.deps.rules.list();
    return rules.filter((r) => !wanted || r.mailbox === wanted).sort((a, b) => a.mailbox.localeCompare(b.mailbox) || a.createdAt.localeCompare(b.createdAt));
  }

  /**
   * The forwards offboardings have set and that are still in effect, so a listing of a mailbox's
   * forwarding is not empty while its mail goes to a successor. They end on their offboarding's end
   * date (the sweep) or early through `endOffboardingForward`, not through `removeRule`.
   */
  async listOffboardingForwards(mailbox?: string): Promise<OffboardingForward[]> {
    const wanted = mailbox ? qualifyAddress(mailbox, this.deps.domain) : undefined;
    const forwards: OffboardingForward[] = [];
    for (const request of await this.deps.requests.list()) {
      const forward = request.plan.forward;
      if (!forward || !forwardInEffect(request) || (wanted && request.mailbox !== wanted)) continue;
      forwards.push({ requestId: request.id, mailbox: request.mailbox, targets: forward.targets, keepCopy: forward.keepCopy, expiresAt: forward.expiresAt });
    }
    return forwards.sort((a, b) => a.mailbox.localeCompare(b.mailbox) || a.requestId.localeCompare(b.requestId));
  }

  /**
   * Removes every expired rule and every expired offboarding forward. The server already stopped
   * forwarding at expiry (the Sieve checks the date); this cleans up and says so. Safe to run twice.
   */
  async sweepExpired(): Promise<ExpiryNotice[]> {
    const { clock, timeZone } = this.deps;
    const now = clock.now();
    const notices: ExpiryNotice[] = [];
    for (const rule of await this.deps.rules.list()) {
      if (!rule.expiresAt || !hasExpired(rule.expiresAt, now, timeZone)) continue;
      await this.removeRule('system', rule.id, 'rule.expired');
      notices.push({ kind: 'rule', id: rule.id, mailbox: rule.mailbox, targets: rule.targets, expiresAt: rule.expiresAt });
    }
    for (const request of await this.deps.requests.list()) {
      const forward = request.plan.forward;
      if (!forward?.expiresAt || !forwardInEffect(request) || !hasExpired(forward.expiresAt, now, timeZone)) continue;
      const byHand = this.byHand(request.mailbox);
      await this.endForward(request, 'system', 'forward.expired', `forward to ${forward.targets.join(', ')} ended ${forward.expiresAt}`, byHand === undefined);
      notices.push({ kind: 'offboarding_forward', id: request.id, mailbox: request.mailbox, targets: forward.targets, expiresAt: forward.expiresAt, removeByHand: byHand });
    }
    return notices;
  }

  /** By the id a listing shows: a rule (fw-…) is removed; an offboarding's forward (ob-…) ends early. */
  async removeForward(actor: string, id: string): Promise<RemovedForward> {
    return isRequestId(id) ? { offboarding: await this.endOffboardingForward(actor, id) } : { rule: await this.removeRule(actor, id) };
  }

  /**
   * Ends an offboarding's forward before its end date (the successor no longer wants the mail).
   * Requesters and approvers only, as for rules; the auto-reply and the rest of the offboarding stay.
   */
  async endOffboardingForward(actor: string, requestId: string): Promise<OffboardingForward> {
    return this.change(actor, 'forward.end', undefined, async () => {
      assertMayRequest(this.deps.policy, actor);
      const request = await this.deps.requests.get(requestId);
      if (!request) throw notFound(`no offboarding ${requestId}`, 'list forwards with `postmaster forward list`');
      const forward = request.plan.forward;
      if (!forward || !forwardInEffect(request)) throw notFound(`offboarding ${requestId} has no forward in effect`, 'list forwards with `postmaster forward list`');
      // The run's next steps rewrite the same Sieve script: one change at a time.
      if (request.state === 'running') throw refused(`offboarding ${requestId} is running`, 'end its forward once the run has finished');
      const byHand = this.byHand(request.mailbox);
      if (byHand !== undefined) throw new PostmasterError('Unsupported', `${this.deps.provider.name} cannot remove a forward through its API`, { hint: byHand });
      await this.endForward(request, actor, 'forward.ended', `forward to ${forward.targets.join(', ')} ended before ${forward.expiresAt ?? 'its end'}`, true);
      return { requestId: request.id, mailbox: request.mailbox, targets: forward.targets, keepCopy: forward.keepCopy, expiresAt: forward.expiresAt };
    });
  }

  /** How to remove a forward by hand, when the provider cannot; undefined when it can. */
  private byHand(mailbox: string): string | undefined {
    const { provider } = this.deps;
    if (provider.capabilities.has('clearForwarding')) return undefined;
    return provider.manualInstructions?.('clearForwarding', { mailbox }) ?? `remove the forward of ${mailbox} by hand`;
  }

  /** Clears the forward on the server (unless a person must), then records that it ended, once. */
  private async endForward(request: OffboardingRequest, actor: string, action: string, detail: string, clear: boolean): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    if (clear && (await this.deps.provider.getMailbox(request.mailbox))) await this.deps.provider.clearForwarding(request.mailbox);
    await this.deps.requests.update(request.id, (r) => (r.forwardRemovedAt ? undefined : { ...r, forwardRemovedAt: now, version: r.version + 1, updatedAt: now }));
    await this.deps.audit.append({ actor, action, requestId: request.id, mailbox: request.mailbox, result: 'ok', detail });
  }

  /**
   * Reads every mailbox's forwarding and reports on it. `record` makes this run the baseline for
   * next week's "what changed" (the scheduled run does; an on-demand run does not).
   */
  async runAudit(options: { record?: boolean; onProgress?: AuditProgress } = {}): Promise<AuditRun> {
    const { provider, clock, domain } = this.deps;
    const now = clock.now();
    const mailboxes = await provider.listMailboxes();
    const canRead = provider.capabilities.has('readForwarding');
    const readings: ForwardingReading[] = [];
    if (canRead) {
      const queue = new PQueue({ concurrency: this.deps.concurrency });
      let done = 0;
      await Promise.all(
        mailboxes.map((m) =>
          queue.add(async () => {
            readings.push(await this.read(m.address));
            options.onProgress?.(++done, mailboxes.length);
          }),
        ),
      );
    }
    const offboardings: OffboardingFact[] = (await this.deps.requests.list())
      .filter((r) => r.plan.forward && !r.forwardRemovedAt)
      .map((r) => ({ mailbox: r.mailbox, endDate: r.plan.forward?.expiresAt, state: r.state }));
    const previous = await this.deps.history.last();
    const report = buildReport(
      {
        domain,
        now,
        timeZone: this.deps.timeZone,
        mailboxes: mailboxes.map((m) => ({ address: m.address, status: m.status })),
        forwarding: readings.flatMap(entriesOf),
        rules: await this.deps.rules.list(),
        offboardings,
        allowedDomains: this.deps.allowedDomains,
        sensitive: this.deps.sensitive,
        unreadableCount: canRead ? 0 : mailboxes.length,
      },
      previous?.findings,
    );
    const at = now.toISOString();
    if (options.record) await this.deps.history.record(at, report.findings);
    return { ...report, at, mailboxesRead: readings.length, csv: findingsCsv(report.findings) };
  }

  /** Makes a finished run the baseline for the next "changed since" (after it was delivered). */
  async recordBaseline(run: AuditRun): Promise<void> {
    await this.deps.history.record(run.at, run.findings);
  }

  /** One mailbox's forwarding, retried with backoff when the mail system is busy or briefly down. */
  private async read(address: string): Promise<ForwardingReading> {
    return pRetry(
      async () => {
        try {
          return await this.deps.provider.readForwarding(address);
        } catch (error) {
          // Only "unavailable" (timeouts, 429, 5xx) is worth another try; anything else is final.
          if (isPostmasterError(error, 'Unavailable')) throw error;
          throw new AbortError(error as Error);
        }
      },
      { retries: 4, minTimeout: 200, factor: 2, randomize: true },
    ).catch((error: unknown) => {
      if (isPostmasterError(error, 'NotFound')) return { mailbox: address, readable: true as const, edges: [] };
      throw error;
    });
  }

  /**
   * The edges reachable from the new targets, read live. A new rule closes a loop only through a
   * path from one of its targets back to the mailbox, so this is all the loop check needs, and a
   * save reads a handful of mailboxes rather than the whole domain.
   */
  private async reachableEdges(targets: string[], mailboxes: ReadonlyMap<string, unknown>): Promise<ForwardEdge[]> {
    const edges: ForwardEdge[] = [];
    const seen = new Set<string>();
    let frontier = targets.filter((t) => domainOf(t) === this.deps.domain);
    while (frontier.length) {
      const next: string[] = [];
      const readings = await Promise.all(frontier.filter((a) => !seen.has(a) && mailboxes.has(a)).map((a) => (seen.add(a), this.read(a))));
      for (const reading of readings) {
        for (const edge of edgesOf(reading)) {
          edges.push(edge);
          if (domainOf(edge.to) === this.deps.domain && !seen.has(edge.to)) next.push(edge.to);
        }
      }
      frontier = next;
    }
    return edges;
  }

  /**
   * A change to forwarding: one at a time across every process on the store (the bot and the
   * CLI), each checking the guardrails against the forwarding the last one left, so two rules
   * saved at once cannot close a loop between them; a refusal is audited.
   */
  private change<T>(actor: string, verb: string, mailbox: string | undefined, work: () => Promise<T>): Promise<T> {
    return this.deps.locks.hold('forwarding', () => this.refusalsAudited(actor, verb, mailbox, work));
  }

  private async refusalsAudited<T>(actor: string, verb: string, mailbox: string | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isRefusal(error)) {
        await this.deps.audit.append({ actor, action: `refused.${verb}`, mailbox, result: 'refused', detail: error.message });
      }
      throw error;
    }
  }
}
