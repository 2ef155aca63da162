/**
 * "Mark done", on a manual task's thread message: records who did the step by hand and lets the run
 * go on. The button carries only the request id; the step is the one the stored request is
 * waiting on, so a payload cannot name another step.
 */
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { describeError, isPostmasterError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { tellUser } from '../../context.js';
import { noticeMessage } from '../../blocks/home.js';

type Args = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

export function markDoneAction(ctx: SlackContext) {
  const { offboarding } = ctx.postmaster;

  return async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    await ctx.acksFirst();
    const user = body.user.id;
    const id = action.value ?? '';
    const tell = (text: string) => tellUser(ctx, client, { user, channel: body.channel?.id }, noticeMessage(text));
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
