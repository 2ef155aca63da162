/**
 * Retry, on a failed step's thread message: resumes the run at the step that failed. The button
 * carries only the request id; the core checks who may retry and that the run did fail.
 */
import { describeError, isPostmasterError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { startButton, type ButtonArgs } from './button-start.js';

export function retryAction(ctx: SlackContext) {
  return async (args: ButtonArgs): Promise<void> => {
    const { user, id, tell } = await startButton(ctx, args);
    // The run can take long: it goes on in the background; a refusal comes back before it starts.
    ctx.background.run(`retry ${id}`, async () => {
      try {
        await ctx.postmaster.offboarding.retry(user, id);
      } catch (error) {
        if (!isPostmasterError(error)) throw error;
        await tell(`Not retried: ${describeError(error)}`);
      }
    });
  };
}
