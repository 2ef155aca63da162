/**
 * Carries an approved request out, step by step. The run holds a lease on the request while it
 * works, and every write is guarded by that lease, so two processes can never run the same request,
 * and a process that died can be taken over once its lease ran out.
 */
import { randomUUID } from 'node:crypto';
import type { ExportProgress } from '../backup.js';
import { describeError, isPostmasterError } from '../errors.js';
import type { MailProvider } from '../provider.js';
import type { AuditLog, BackupVault, Clock, RequestRepository } from '../ports.js';
import type { OffboardingRequest, Step, StepName } from './model.js';
import { executeStep } from './steps.js';

/** How long a run may go without writing before another process may take it over. */
export const LEASE_MS = 15 * 60_000;

export type RunEvent =
  | { type: 'step_started'; request: OffboardingRequest; step: Step }
  | { type: 'step_progress'; request: OffboardingRequest; step: Step; progress: ExportProgress }
  | { type: 'step_finished'; request: OffboardingRequest; step: Step }
  | { type: 'run_paused'; request: OffboardingRequest }
  | { type: 'run_finished'; request: OffboardingRequest };

export type RunObserver = (event: RunEvent) => void | Promise<void>;

export interface RunnerDeps {
  provider: MailProvider;
  requests: RequestRepository;
  audit: AuditLog;
  vault: BackupVault;
  clock: Clock;
}

const RUNNABLE = new Set(['approved', 'scheduled', 'failed', 'awaiting_manual']);

export function leaseExpired(request: OffboardingRequest, now: Date): boolean {
  return !request.lease || Date.parse(request.lease.until) <= now.getTime();
}

/** True when a run may start or resume now. */
export function isRunnable(request: OffboardingRequest, now: Date): boolean {
  if (request.state === 'running') return leaseExpired(request, now);
  if (!RUNNABLE.has(request.state)) return false;
  if (request.state === 'scheduled') return !request.nextDueAt || Date.parse(request.nextDueAt) <= now.getTime();
  return true;
}

export class Runner {
  private readonly owner = `run-${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(private readonly deps: RunnerDeps) {}

  /**
   * Runs whatever is runnable of the request and resolves with its state when the run stops:
   * completed, failed, awaiting a manual task, or scheduled for later. Resolves with the request
   * unchanged when it is not runnable (another process holds it, or it is not approved).
   */
  async run(id: string, observer: RunObserver = () => {}): Promise<OffboardingRequest | undefined> {
    const { requests, clock } = this.deps;
    let request = await requests.update(id, (current) => {
      const now = clock.now();
      if (!isRunnable(current, now)) return undefined;
      return this.stamp({ ...current, state: 'running', nextDueAt: undefined, lease: this.lease(now) });
    });
    if (!request) return requests.get(id);

    for (const step of request.steps) {
      if (step.status === 'done') continue;
      const outcome = await this.runStep(request, step.name, observer);
      request = outcome.request;
      if (outcome.stop) return request;
    }
    request = await this.write(request.id, (r) => ({ ...r, state: 'completed', lease: undefined }));
    await this.deps.audit.append({ actor: 'system', action: 'run.completed', requestId: request.id, mailbox: request.mailbox, result: 'ok' });
    await observer({ type: 'run_finished', request });
    return request;
  }

  private async runStep(request: OffboardingRequest, name: StepName, observer: RunObserver): Promise<{ request: OffboardingRequest; stop: boolean }> {
    const { clock, audit } = this.deps;
    const now = clock.now();
    const step = request.steps.find((s) => s.name === name)!;

    if (name === 'delete') {
      const dueAt = step.dueAt ?? new Date(now.getTime() + request.plan.deleteAfterDays * 86_400_000).toISOString();
      if (Date.parse(dueAt) > now.getTime()) {
        const paused = await this.write(request.id, (r) => ({
          ...withStep(r, name, { status: 'waiting', dueAt }),
          state: 'scheduled',
          nextDueAt: dueAt,
          lease: undefined,
        }));
        if (!step.dueAt) await audit.append({ actor: 'system', action: 'step.scheduled', requestId: request.id, mailbox: request.mailbox, detail: `delete due ${dueAt}` });
        await observer({ type: 'run_paused', request: paused });
        return { request: paused, stop: true };
      }
    }

    if (step.mode === 'manual') {
      const paused = await this.write(request.id, (r) => ({
        ...withStep(r, name, { status: 'awaiting_manual' }),
        state: 'awaiting_manual',
        lease: undefined,
      }));
      if (step.status !== 'awaiting_manual') {
        await audit.append({ actor: 'system', action: 'step.manual_task', requestId: request.id, mailbox: request.mailbox, detail: `${name}: ${step.instructions ?? ''}` });
      }
      await observer({ type: 'run_paused', request: paused });
      return { request: paused, stop: true };
    }

    let current = await this.write(request.id, (r) =>
      withStep(r, name, { status: 'running', attempts: step.attempts + 1, startedAt: clock.now().toISOString(), error: undefined, endedAt: undefined }),
    );
    const running = current.steps.find((s) => s.name === name)!;
    await observer({ type: 'step_started', request: current, step: running });

    try {
      const outcome = await executeStep(name, {
        request: current,
        provider: this.deps.provider,
        vault: this.deps.vault,
        onProgress: (progress) => void observer({ type: 'step_progress', request: current, step: running, progress }),
      });
      current = await this.write(request.id, (r) => ({
        ...withStep(r, name, { status: 'done', summary: outcome.summary, endedAt: clock.now().toISOString() }),
        ...outcome.patch,
      }));
      await audit.append({ actor: 'system', action: 'step.done', requestId: request.id, mailbox: request.mailbox, result: 'ok', detail: `${name}: ${outcome.summary}` });
      await observer({ type: 'step_finished', request: current, step: current.steps.find((s) => s.name === name)! });
      return { request: current, stop: false };
    } catch (error) {
      const message = describeError(error);
      current = await this.write(request.id, (r) => ({
        ...withStep(r, name, { status: 'failed', error: message, endedAt: clock.now().toISOString() }),
        state: 'failed',
        lease: undefined,
      }));
      const result = isPostmasterError(error, 'Refused') ? 'refused' : 'failed';
      await audit.append({ actor: 'system', action: 'step.failed', requestId: request.id, mailbox: request.mailbox, result, detail: `${name}: ${message}` });
      await observer({ type: 'step_finished', request: current, step: current.steps.find((s) => s.name === name)! });
      await observer({ type: 'run_finished', request: current });
      return { request: current, stop: true };
    }
  }

  /** Writes through the lease: a run that lost its lease (taken over after expiry) stops writing. */
  private async write(id: string, change: (r: OffboardingRequest) => OffboardingRequest): Promise<OffboardingRequest> {
    const now = this.deps.clock.now();
    const next = await this.deps.requests.update(id, (current) => {
      if (current.lease?.owner !== this.owner) return undefined;
      const changed = change(current);
      return this.stamp(changed.lease ? { ...changed, lease: this.lease(now) } : changed);
    });
    if (!next) throw new Error(`the run of ${id} lost its lease to another process and stopped`);
    return next;
  }

  private lease(now: Date) {
    return { owner: this.owner, until: new Date(now.getTime() + LEASE_MS).toISOString() };
  }

  private stamp(request: OffboardingRequest): OffboardingRequest {
    return { ...request, version: request.version + 1, updatedAt: this.deps.clock.now().toISOString() };
  }
}

export function withStep(request: OffboardingRequest, name: StepName, patch: Partial<Step>): OffboardingRequest {
  return { ...request, steps: request.steps.map((s) => (s.name === name ? { ...s, ...patch } : s)) };
}
