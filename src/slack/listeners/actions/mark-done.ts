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
    let step;
    try {
      const request = await offboarding.get(id);
      step = request.steps.find((s) => s.status === 'awaiting_manual');
      if (!step) {
        await ctx.postmaster.audit.append({ actor: user, action: 'refused.mark-done', requestId: id, mailbox: request.mailbox, result: 'refused', detail: `no manual task waiting (${request.state})` });
        await tell(`Nothing to mark done: ${id} is not waiting for a manual task.`);
        return;
      }
    } catch (error) {
      await ctx.postmaster.audit.append({ actor: user, action: 'refused.mark-done', result: 'refused', detail: describeError(error) });
      await tell(describeError(error));
      return;
    }
    const name = step.name;
    ctx.background.run(`mark-done ${id}`, async () => {
      try {
        await offboarding.markDone(user, id, name);
      } catch (error) {
        if (!isPostmasterError(error)) throw error;
        await tell(`Not marked done: ${describeError(error)}`);
      }
    });
  };
}
