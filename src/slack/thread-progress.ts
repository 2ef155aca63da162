/**
 * Turns run events (from every run in the process: Slack's, the sweep's, a retry's) into Slack
 * messages: one thread message per step under the request message, edited as the step starts,
 * progresses and ends; the request message itself kept in step with the request's state; and a
 * summary in the audit channel when a run ends.
 *
 * The observer never blocks the run: events are queued per request and posted in order in the
 * background. Export progress is throttled (one edit per step per `intervalMs`) because
 * chat.update and chat.postMessage are rate limited (about one message per second per channel).
 */
import type { webApi } from '@slack/bolt';
import type { RunEvent, RunObserver } from '../core/offboarding/runner.js';
import type { OffboardingRequest, Step, StepName } from '../core/offboarding/model.js';
import type { Logger } from '../logger.js';
import type { RequestMessages } from './message-store.js';
import { requestMessage } from './blocks/request-message.js';
import { auditSummary, runEndMessage, stepMessage } from './blocks/thread.js';
import { slackError } from './context.js';

type WebClient = webApi.WebClient;

export interface ThreadProgressOptions {
  client: WebClient;
  messages: RequestMessages;
  logger: Logger;
  auditChannel: string;
  approvers: readonly string[];
  /** Least time between two edits of a step's message for export progress. */
  intervalMs: number;
}

export class ThreadProgress {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly lastProgress = new Map<string, number>();
  /** The request state the request message last showed, per request. */
  private readonly shownState = new Map<string, string>();

  constructor(private readonly options: ThreadProgressOptions) {}

  readonly observer: RunObserver = (event) => {
    if (event.type === 'step_progress') {
      const key = `${event.request.id}:${event.step.name}`;
      const now = Date.now();
      if (now - (this.lastProgress.get(key) ?? 0) < this.options.intervalMs) return;
      this.lastProgress.set(key, now);
    }
    this.enqueue(event.request.id, () => this.handle(event));
  };

  /** Resolves once every queued message was posted (or failed and was logged). */
  async idle(): Promise<void> {
    while (this.queues.size) await Promise.allSettled([...this.queues.values()]);
  }

  private enqueue(requestId: string, work: () => Promise<void>): void {
    const previous = this.queues.get(requestId) ?? Promise.resolve();
    const next = previous.then(work).catch((error) => {
      this.options.logger.warn({ requestId, error: slackError(error) }, 'posting run progress to Slack failed');
    });
    this.queues.set(requestId, next);
    void next.finally(() => {
      if (this.queues.get(requestId) === next) this.queues.delete(requestId);
    });
  }

  private async handle(event: RunEvent): Promise<void> {
    const { request } = event;
    switch (event.type) {
      case 'step_started':
        this.lastProgress.set(`${request.id}:${event.step.name}`, Date.now());
        await this.reconcile(request);
        await this.showStep(request, event.step);
        await this.showRequest(request);
        break;
      case 'step_progress':
        await this.showStep(request, event.step, event.progress);
        break;
      case 'step_finished':
        await this.showStep(request, event.step);
        break;
      case 'run_paused': {
        await this.reconcile(request);
        const waiting = request.steps.find((s) => s.status === 'awaiting_manual' || s.status === 'waiting');
        if (waiting) await this.showStep(request, waiting);
        await this.showRequest(request);
        break;
      }
      case 'run_finished':
        await this.reconcile(request);
        await this.showRequest(request);
        await this.postInThread(request, runEndMessage(request));
        await this.options.client.chat.postMessage({ channel: this.options.auditChannel, ...auditSummary(request) });
        break;
    }
  }

  /** Edits the step's thread message, or posts it the first time. */
  private async showStep(request: OffboardingRequest, step: Step, progress?: Parameters<typeof stepMessage>[2]): Promise<void> {
    const record = await this.options.messages.get(request.id);
    if (!record) return; // a request made outside Slack has no thread; it still gets the audit summary
    const content = stepMessage(request, step, progress);
    const existing = record.steps[step.name];
    if (existing) {
      await this.options.client.chat.update({ channel: record.channel, ts: existing.ts, text: content.text, blocks: content.blocks });
      if (existing.shown !== step.status) await this.options.messages.stepShown(request.id, step.name, { ts: existing.ts, shown: step.status });
      return;
    }
    const posted = await this.options.client.chat.postMessage({ channel: record.channel, thread_ts: record.ts, text: content.text, blocks: content.blocks });
    if (posted.ts) await this.options.messages.stepShown(request.id, step.name, { ts: posted.ts, shown: step.status });
  }

  /**
   * Brings step messages in line with the request where the change came without a step event
   * (a manual task marked done: the run goes straight on to the next step).
   */
  private async reconcile(request: OffboardingRequest): Promise<void> {
    const record = await this.options.messages.get(request.id);
    if (!record) return;
    for (const step of request.steps) {
      const shown = record.steps[step.name as StepName];
      if (shown && shown.shown !== step.status) await this.showStep(request, step);
    }
  }

  private async showRequest(request: OffboardingRequest): Promise<void> {
    const key = `${request.state}:${request.steps.map((s) => s.status).join(',')}`;
    if (this.shownState.get(request.id) === key) return;
    const record = await this.options.messages.get(request.id);
    if (!record) return;
    const content = requestMessage(request, { approvers: this.options.approvers });
    await this.options.client.chat.update({ channel: record.channel, ts: record.ts, text: content.text, blocks: content.blocks });
    this.shownState.set(request.id, key);
  }

  private async postInThread(request: OffboardingRequest, content: { text: string; blocks: unknown[] }): Promise<void> {
    const record = await this.options.messages.get(request.id);
    if (!record) return;
    await this.options.client.chat.postMessage({ channel: record.channel, thread_ts: record.ts, text: content.text, blocks: content.blocks as never });
  }
}
