/**
 * The offboarding use-cases every front end calls: request, approve, reject, cancel, retry,
 * mark a manual task done, look up, list, and sweep what is due. Refusals are written to the audit
 * log and change nothing else.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { badInput, describeError, isRefusal, notFound, refused } from '../errors.js';
import { AddressSchema, domainOf, qualifyAddress, type Mailbox } from '../mailbox.js';
import type { MailProvider } from '../provider.js';
import type { AuditLog, BackupVault, Clock, Locks, RequestRepository } from '../ports.js';
import { approvalWindowPassed, assertMayAct, assertMayApprove, assertMayRequest, type Policy } from '../policy.js';
import { PlanSchema, TERMINAL_STATES, type OffboardingRequest, type Plan, type PlanInput, type StepName } from './model.js';
import { assertTransition } from './state-machine.js';
import { initialSteps } from './steps.js';
import { isRunnable, Runner, type RunObserver, withStep } from './runner.js';

export interface OffboardingDeps {
  provider: MailProvider;
  requests: RequestRepository;
  audit: AuditLog;
  vault: BackupVault;
  clock: Clock;
  policy: Policy;
  /** The organisation's mail domain: "alice" means alice@<domain>. */
  domain: string;
  /** A forward without an expiry date gets one this many days ahead. */
  forwardDefaultDays: number;
  /** Sees every run event as well as the caller's observer: the shell logs them. */
  observe?: RunObserver;
  locks: Locks;
}

const ID_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export function newRequestId(): string {
  const bytes = randomBytes(8);
  return `ob-${Array.from(bytes, (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('')}`;
}

/** "alice" and "Alice@Example.test" both mean alice@example.test. */
export function normalizeMailbox(input: string, domain: string): string {
  const parsed = AddressSchema.safeParse(qualifyAddress(input, domain));
  if (!parsed.success) throw badInput(`"${input}" is not a mailbox`, `use alice or alice@${domain}`);
  return parsed.data;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}

export class OffboardingService {
  private readonly runner: Runner;

  constructor(private readonly deps: OffboardingDeps) {
    this.runner = new Runner(deps);
  }

  get provider(): MailProvider {
    return this.deps.provider;
  }

  /** The mailbox's current state ("alice" or "alice@domain"), or NotFound. Front ends show it before a plan. */
  async lookupMailbox(input: string): Promise<Mailbox> {
    const address = normalizeMailbox(input, this.deps.domain);
    const mailbox = await this.deps.provider.getMailbox(address);
    if (!mailbox) throw notFound(`mailbox ${address} does not exist on ${this.deps.provider.name}`, 'check the spelling with `postmaster mailboxes`');
    return mailbox;
  }

  async listMailboxes(): Promise<Mailbox[]> {
    return (await this.deps.provider.listMailboxes()).sort((a, b) => a.address.localeCompare(b.address));
  }

  /**
   * One offboarding per mailbox at a time: two would both back up, forward and eventually delete
   * the same mailbox. A request nobody approved within the approval window does not count: its hint
   * is to file a new one.
   */
  async assertNoOpenRequest(mailbox: string): Promise<void> {
    const now = this.deps.clock.now();
    const open = (await this.deps.requests.list()).find(
      (r) =>
        r.mailbox === mailbox &&
        !TERMINAL_STATES.has(r.state) &&
        !(r.state === 'pending_approval' && approvalWindowPassed(this.deps.policy, r, now)),
    );
    if (open) {
      throw refused(`${mailbox} already has an open offboarding, ${open.id} (${open.state.replace(/_/g, ' ')})`, `see it with \`postmaster status ${open.id}\`, or cancel it first`);
    }
  }

  /** Checks a plan against policy and the mail system without storing anything. */
  async checkPlan(input: PlanInput): Promise<Plan> {
    const { provider, domain, clock } = this.deps;
    // "bob" means bob@<domain> for the successor and the targets too, as it does for the mailbox.
    const qualify = (value: unknown) => (typeof value === 'string' ? qualifyAddress(value, domain) : value);
    const forward = input.forward && { ...input.forward, targets: Array.isArray(input.forward.targets) ? input.forward.targets.map(qualify) : input.forward.targets };
    const parsed = PlanSchema.safeParse({ ...input, mailbox: normalizeMailbox(String(input.mailbox ?? ''), domain), successor: qualify(input.successor), forward });
    if (!parsed.success) throw badInput(`the plan is not valid: ${firstIssue(parsed.error)}`);
    const plan = parsed.data;

    if (domainOf(plan.mailbox) !== domain) throw refused(`${plan.mailbox} is not in ${domain}`, 'Postmaster manages one mail domain (MAIL_DOMAIN)');
    if (plan.deleteAfterDays > 0 && !plan.backup) {
      throw refused('delete needs a backup first', 'turn the backup on, or keep the mailbox (delete after 0 days)');
    }
    if (plan.effectiveAt && Date.parse(plan.effectiveAt) < clock.now().getTime() - 60_000) {
      throw badInput(`the effective date ${plan.effectiveAt} is in the past`, 'leave it out to run as soon as it is approved');
    }
    const mailbox = await provider.getMailbox(plan.mailbox);
    if (!mailbox) throw notFound(`mailbox ${plan.mailbox} does not exist on ${provider.name}`, 'check the spelling with `postmaster mailboxes`');
    await this.assertNoOpenRequest(plan.mailbox);

    if (plan.forward) {
      const targets = [...new Set(plan.forward.targets)];
      if (targets.includes(plan.mailbox)) throw refused(`${plan.mailbox} cannot forward to itself`);
      for (const target of targets) {
        if (domainOf(target) !== domain) continue;
        const targetBox = await provider.getMailbox(target);
        if (!targetBox) throw refused(`forward target ${target} does not exist`);
        if (targetBox.status === 'disabled') throw refused(`forward target ${target} is disabled`, 'forward to an active mailbox');
        if (targetBox.forwarding?.targets.includes(plan.mailbox)) {
          throw refused(`forwarding would loop: ${plan.mailbox} -> ${target} -> ${plan.mailbox}`, `remove ${target}'s forward first, or pick another target`);
        }
      }
      if (provider.capabilities.has('setForwarding')) {
        const limits = await provider.forwardingLimits(plan.mailbox);
        const total = targets.length + limits.unmanagedRedirects;
        if (limits.maxRedirects !== undefined && total > limits.maxRedirects) {
          const own = limits.unmanagedRedirects ? ` plus the ${limits.unmanagedRedirects} redirect(s) in the mailbox's own Sieve script` : '';
          throw refused(
            `forwarding to ${targets.length} target(s)${own} would exceed the server's limit of ${limits.maxRedirects} redirects per message (MAXREDIRECTS)`,
            `use at most ${Math.max(0, limits.maxRedirects - limits.unmanagedRedirects)} target(s), or raise sieve_max_redirects on the server`,
          );
        }
      }
      const expiresAt = plan.forward.expiresAt ?? new Date(clock.now().getTime() + this.deps.forwardDefaultDays * 86_400_000).toISOString().slice(0, 10);
      plan.forward = { ...plan.forward, targets, expiresAt };
    }
    return plan;
  }

  async request(actor: string, input: PlanInput): Promise<OffboardingRequest> {
    // One at a time across the bot and the CLI, so that two requests for one mailbox at once cannot both pass the check for an open one.
    return this.deps.locks.hold('offboarding requests', () => this.createRequest(actor, input));
  }

  private async createRequest(actor: string, input: PlanInput): Promise<OffboardingRequest> {
    return this.refusalsAudited(actor, 'request', undefined, String(input.mailbox ?? ''), async () => {
      assertMayRequest(this.deps.policy, actor);
      const plan = await this.checkPlan(input);
      const now = this.deps.clock.now().toISOString();
      const request: OffboardingRequest = {
        id: newRequestId(),
        mailbox: plan.mailbox,
        plan,
        state: 'pending_approval',
        requestedBy: actor,
        requestedAt: now,
        steps: initialSteps(plan, this.deps.provider),
        version: 0,
        updatedAt: now,
      };
      await this.deps.requests.create(request);
      await this.deps.audit.append({ actor, action: 'request.created', requestId: request.id, mailbox: request.mailbox, result: 'ok', detail: JSON.stringify(plan) });
      return request;
    });
  }

  /**
   * Approves a pending request. The state change is a compare-and-set, so of two approvals at the
   * same moment exactly one succeeds. Does not start the run: call run() next.
   */
  async approve(actor: string, id: string): Promise<OffboardingRequest> {
    return this.refusalsAudited(actor, 'approve', id, undefined, async () => {
      const existing = await this.mustGet(id);
      assertMayApprove(this.deps.policy, existing, actor, this.deps.clock.now());
      const approved = await this.transition(id, (r) => {
        assertTransition(r, 'approved');
        const now = this.deps.clock.now();
        const future = r.plan.effectiveAt && Date.parse(r.plan.effectiveAt) > now.getTime();
        return {
          ...r,
          state: future ? 'scheduled' : 'approved',
          nextDueAt: future ? r.plan.effectiveAt : undefined,
          decidedBy: actor,
          decidedAt: now.toISOString(),
        };
      });
      await this.deps.audit.append({ actor, action: 'request.approved', requestId: id, mailbox: approved.mailbox, result: 'ok', detail: approved.state === 'scheduled' ? `scheduled for ${approved.nextDueAt}` : undefined });
      return approved;
    });
  }

  async reject(actor: string, id: string, reason: string): Promise<OffboardingRequest> {
    return this.decide(actor, id, 'reject', 'rejected', reason);
  }

  async cancel(actor: string, id: string, reason = ''): Promise<OffboardingRequest> {
    return this.decide(actor, id, 'cancel', 'cancelled', reason);
  }

  /** Runs the request if it is runnable now; see Runner.run. */
  async run(id: string, observer?: RunObserver): Promise<OffboardingRequest> {
    const { observe } = this.deps;
    const both: RunObserver = async (event) => {
      await observe?.(event);
      await observer?.(event);
    };
    const result = await this.runner.run(id, both);
    if (!result) throw notFound(`no request ${id}`);
    return result;
  }

  /** Resumes a failed run at the step that failed; steps already done are not repeated. */
  async retry(actor: string, id: string, observer?: RunObserver): Promise<OffboardingRequest> {
    await this.refusalsAudited(actor, 'retry', id, undefined, async () => {
      const request = await this.mustGet(id);
      assertMayAct(this.deps.policy, request, actor, 'retry');
      const interrupted = request.state === 'running' && isRunnable(request, this.deps.clock.now());
      if (request.state !== 'failed' && !interrupted) throw refused(`${id} has not failed (it is ${request.state.replace('_', ' ')})`, 'only a failed run can be retried');
      await this.deps.audit.append({ actor, action: 'run.retried', requestId: id, mailbox: request.mailbox, result: 'ok' });
    });
    return this.run(id, observer);
  }

  /**
   * Records that a person did a manual step, then lets the run go on. Without a step name it is the
   * step the run is waiting on, so a button that carries only the request id cannot name another.
   */
  async markDone(actor: string, id: string, stepName?: StepName, observer?: RunObserver): Promise<OffboardingRequest> {
    await this.refusalsAudited(actor, 'mark-done', id, undefined, async () => {
      const request = await this.mustGet(id);
      assertMayAct(this.deps.policy, request, actor, 'mark steps done on');
      const name = stepName ?? request.steps.find((s) => s.status === 'awaiting_manual')?.name;
      if (!name) throw refused(`${id} is not waiting for a manual task (it is ${request.state.replace('_', ' ')})`);
      const marked = await this.transition(id, (r) => {
        const step = r.steps.find((s) => s.name === name);
        if (!step || step.mode !== 'manual') throw badInput(`${id} has no manual step "${name}"`);
        if (step.status !== 'awaiting_manual') throw refused(`step ${name} of ${id} is not waiting for a person (it is ${step.status})`);
        const now = this.deps.clock.now().toISOString();
        return withStep(r, name, { status: 'done', doneBy: actor, endedAt: now, summary: `done by hand by ${actor}` });
      });
      await this.deps.audit.append({ actor, action: 'step.marked_done', requestId: id, mailbox: marked.mailbox, result: 'ok', detail: name });
    });
    return this.run(id, observer);
  }

  async get(id: string): Promise<OffboardingRequest> {
    return this.mustGet(id);
  }

  async list(): Promise<OffboardingRequest[]> {
    const all = await this.deps.requests.list();
    return all.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  }

  /**
   * Runs everything that is due: scheduled offboardings whose effective date came, deletes whose
   * retention ran out, and runs whose process died. Safe to call twice, or from two processes:
   * each run starts with a compare-and-set that only one caller wins.
   */
  async sweep(observer?: RunObserver): Promise<OffboardingRequest[]> {
    const now = this.deps.clock.now();
    const due = (await this.deps.requests.list()).filter(
      (r) => (r.state === 'scheduled' || r.state === 'running' || r.state === 'approved') && isRunnable(r, now),
    );
    const results: OffboardingRequest[] = [];
    for (const request of due) results.push(await this.run(request.id, observer));
    return results;
  }

  private async decide(actor: string, id: string, verb: 'reject' | 'cancel', state: 'rejected' | 'cancelled', reason: string): Promise<OffboardingRequest> {
    return this.refusalsAudited(actor, verb, id, undefined, async () => {
      const existing = await this.mustGet(id);
      assertMayAct(this.deps.policy, existing, actor, verb);
      if (verb === 'reject' && existing.state !== 'pending_approval') throw refused(`${id} is not waiting for approval (it is ${existing.state.replace('_', ' ')})`);
      const decided = await this.transition(id, (r) => {
        assertTransition(r, state);
        return { ...r, state, decidedBy: actor, decidedAt: this.deps.clock.now().toISOString(), decisionNote: reason || undefined, nextDueAt: undefined };
      });
      await this.deps.audit.append({ actor, action: `request.${state}`, requestId: id, mailbox: decided.mailbox, result: 'ok', detail: reason || undefined });
      return decided;
    });
  }

  private async mustGet(id: string): Promise<OffboardingRequest> {
    const request = await this.deps.requests.get(id);
    if (!request) throw notFound(`no request ${id}`, 'list requests with `postmaster list`');
    return request;
  }

  /** Compare-and-set through the repository; errors thrown by `change` propagate. */
  private async transition(id: string, change: (r: OffboardingRequest) => OffboardingRequest): Promise<OffboardingRequest> {
    const next = await this.deps.requests.update(id, (current) => {
      const changed = change(current);
      return { ...changed, version: current.version + 1, updatedAt: this.deps.clock.now().toISOString() };
    });
    if (!next) throw notFound(`no request ${id}`);
    return next;
  }

  private async refusalsAudited<T>(actor: string, verb: string, requestId: string | undefined, mailbox: string | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isRefusal(error)) {
        await this.deps.audit.append({ actor, action: `refused.${verb}`, requestId, mailbox: mailbox || undefined, result: 'refused', detail: describeError(error) });
      }
      throw error;
    }
  }
}

