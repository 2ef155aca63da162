/**
 * Runs the sweep on a cron schedule inside the long-running process: scheduled offboardings,
 * deletes past retention, runs whose process died, and forwards past their expiry. `protect`
 * keeps one sweep at a time; the sweep itself is safe to run from several processes at once.
 */
import { Cron } from 'croner';
import type { Logger } from '../logger.js';
import type { OffboardingService } from '../core/offboarding/service.js';
import type { ExpiryNotice, ForwardingService } from '../core/forwarding/service.js';

export interface SweepJobOptions {
  offboarding: OffboardingService;
  forwarding: ForwardingService;
  logger: Logger;
  pattern: string;
  /** Told about forwards the sweep removed (the Slack front end posts a notice). */
  onExpired?: (notices: ExpiryNotice[]) => Promise<void>;
}

export function startSweepJob(options: SweepJobOptions): Cron {
  const { offboarding, forwarding, logger } = options;
  const sweep = async () => {
    try {
      const ran = await offboarding.sweep();
      for (const request of ran) logger.info({ requestId: request.id, state: request.state }, 'sweep ran a due request');
      const expired = await forwarding.sweepExpired();
      for (const notice of expired) logger.info({ ...notice }, 'sweep removed an expired forward');
      if (expired.length) await options.onExpired?.(expired);
    } catch (error) {
      logger.error({ err: error }, 'sweep failed; it will run again on schedule');
    }
  };
  const job = new Cron(options.pattern, { protect: true, name: 'sweep' }, sweep);
  // Catch up at start: anything that came due while the process was down runs now.
  void job.trigger();
  return job;
}
