/**
 * "Mark done", on a manual task's thread message: records who did the step by hand and lets the run
 * go on. The button carries only the request id; the step is the one the stored request is
 * waiting on, so a payload cannot name another step.
 */
import { describeError, isPostmasterError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { startButton, type ButtonArgs } from './button-start.js';

export function markDoneAction(ctx: SlackContext) {
  const { offboarding } = ctx.postmaster;

  return async (args: ButtonArgs): Promise<void> => {
    const { user, id, tell } = await startButton(ctx, args);
    // The core picks the step the run waits on, checks the clicker, and audits a refusal.
    ctx.background.run(`mark-done ${id}`, async () => {
      try {
        await offboarding.markDone(user, id);
      } catch (error) {
        if (!isPostmasterError(error)) throw error;
        await tell(`Not marked done: ${describeError(error)}`);
      }
    });
  };
}
