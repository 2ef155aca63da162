/**
 * Acks first. Slack gives every request 3 s to be acknowledged, and a listener's work after its
 * ack (views.open, a core use-case, posting a message) runs on the same event loop as the acks of
 * the requests queued behind it: under a burst (200 people typing /offboard at once, or Slack
 * redelivering) that work would push those acks back, towards Slack's 3 s limit.
 *
 * The gate counts the requests the HTTP receiver has taken in but not yet answered. Follow-up work
 * waits until none is left and none came in for `quietMs` (requests of a burst arrive a few
 * milliseconds apart), or at most `maxWaitMs`, so a command's trigger_id (good for 3 s) is still
 * fresh for views.open. Alone, a request waits only `quietMs`. In Socket Mode nothing enters the
 * gate and it never waits.
 */
interface Waiter {
  resolve: () => void;
  deadline: number;
}

export class AckGate {
  private pending = 0;
  private lastChange = 0;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly quietMs = 50,
    private readonly now: () => number = () => performance.now(),
  ) {}

  enter(): void {
    this.pending += 1;
    this.lastChange = this.now();
  }

  leave(): void {
    this.pending = Math.max(0, this.pending - 1);
    this.lastChange = this.now();
    if (this.waiters.length) this.schedule();
  }

  /** Requests taken in and not yet answered. */
  get waiting(): number {
    return this.pending;
  }

  /** Resolves once the receiver is quiet (see the module comment), or after `maxWaitMs`. */
  clear(maxWaitMs: number): Promise<void> {
    if (this.pending === 0 && this.now() - this.lastChange >= this.quietMs) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ resolve, deadline: this.now() + maxWaitMs });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer) return;
    const now = this.now();
    const quietIn = this.pending === 0 ? Math.max(0, this.quietMs - (now - this.lastChange)) : this.quietMs;
    const deadlineIn = Math.max(0, Math.min(...this.waiters.map((w) => w.deadline)) - now);
    this.timer = setTimeout(() => this.tick(), Math.ceil(Math.min(quietIn, deadlineIn)));
  }

  private tick(): void {
    this.timer = undefined;
    const now = this.now();
    const quiet = this.pending === 0 && now - this.lastChange >= this.quietMs;
    const ready = quiet ? this.waiters : this.waiters.filter((w) => w.deadline <= now);
    this.waiters = quiet ? [] : this.waiters.filter((w) => w.deadline > now);
    for (const waiter of ready) waiter.resolve();
    if (this.waiters.length) this.schedule();
  }
}
