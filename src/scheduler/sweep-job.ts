/**
 * Runs the offboarding sweep on a cron schedule inside the long-running process: scheduled
 * offboardings, deletes past retention, and runs whose process died. `protect` keeps one sweep
 * at a time; the sweep itself is safe to run from several processes at once.
 */
import { Cron } from 'croner';
import type { Logger } from '../logger.js';
import type { OffboardingService } from '../core/offboarding/service.js';

export function startSweepJob(offboarding: OffboardingService, logger: Logger, pattern: string): Cron {
  const sweep = async () => {
    try {
      const ran = await offboarding.sweep();
      for (const request of ran) logger.info({ requestId: request.id, state: request.state }, 'sweep ran a due request');
    } catch (error) {
      logger.error({ err: error }, 'sweep failed; it will run again on schedule');
    }
  };
  const job = new Cron(pattern, { protect: true, name: 'offboarding-sweep' }, sweep);
  // Catch up at start: anything that came due while the process was down runs now.
  void job.trigger();
  return job;
}
