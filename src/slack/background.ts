/**
 * Work a listener starts after its ack and does not wait for (a run, a follow-up message). Each
 * piece is tracked so shutdown and tests can wait until everything settled, and a failure is
 * logged instead of becoming an unhandled rejection.
 */
import type { Logger } from '../logger.js';

export class Background {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  run(label: string, work: () => Promise<unknown>): void {
    const task: Promise<void> = (async () => {
      try {
        await work();
      } catch (error) {
        this.logger.error({ err: error, task: label }, 'background task failed');
      }
    })();
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Resolves once nothing is running, including work started by work that was running. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}
