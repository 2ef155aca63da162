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
 *
 * Waiters are let go one per turn of the event loop, oldest first, never all at once: everything a
 * released listener does up to its first real I/O runs as one block, and 200 such blocks in a row
 * would hold up any request that arrives meanwhile for as long as all of them take. Between two
 * releases the loop reads the sockets, so a new request is seen, the gate closes again, and only
 * waiters whose cap has passed keep going, still one per turn.
 */
interface Waiter {
  resolve: () => void;
  deadline: number;
}

export class AckGate {
  private pending = 0;
  private lastChange = Number.NEGATIVE_INFINITY;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private releaseQueued = false;

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
    // Work already queued goes first, so a late caller does not overtake it.
    if (!this.waiters.length && this.isQuiet(this.now())) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ resolve, deadline: this.now() + maxWaitMs });
      this.schedule();
    });
  }

  private isQuiet(now: number): boolean {
    return this.pending === 0 && now - this.lastChange >= this.quietMs;
  }

  private schedule(): void {
    if (this.timer || this.releaseQueued || !this.waiters.length) return;
    const now = this.now();
    // While acks are pending, look again every quietMs (leave() also looks after each ack).
    const quietIn = this.pending === 0 ? this.quietMs - (now - this.lastChange) : this.quietMs;
    const deadlineIn = Math.min(...this.waiters.map((w) => w.deadline)) - now;
    const wait = Math.min(quietIn, deadlineIn);
    if (wait <= 0) {
      this.releaseQueued = true;
      setImmediate(() => this.releaseOne());
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, Math.ceil(wait));
  }

  private releaseOne(): void {
    this.releaseQueued = false;
    const now = this.now();
    const index = this.isQuiet(now) ? 0 : this.waiters.findIndex((w) => w.deadline <= now);
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve();
    this.schedule();
  }
}
