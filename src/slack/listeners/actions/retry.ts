/**
 * Retry, on a failed step's thread message: resumes the run at the step that failed. The button
 * carries only the request id; the core checks who may retry and that the run did fail.
 */
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { describeError, isPostmasterError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { tellUser } from '../../context.js';
import { noticeMessage } from '../../blocks/home.js';

type Args = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

export function retryAction(ctx: SlackContext) {
  return async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    await ctx.acksFirst();
    const user = body.user.id;
    const id = action.value ?? '';
    // The run can take long: it goes on in the background; a refusal comes back before it starts.
    ctx.background.run(`retry ${id}`, async () => {
      try {
        await ctx.postmaster.offboarding.retry(user, id);
      } catch (error) {
        if (!isPostmasterError(error)) throw error;
        await tellUser(ctx, client, { user, channel: body.channel?.id }, noticeMessage(`Not retried: ${describeError(error)}`));
      }
    });
  };
}
