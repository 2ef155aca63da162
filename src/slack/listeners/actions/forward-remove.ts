/**
 * "Remove" on a rule in a /forward listing. The button carries only the rule id; the core reloads
 * the rule and checks the clicker is a requester or approver (and audits a refusal). The outcome
 * goes to the clicker alone.
 */
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { describeError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { tellUser } from '../../context.js';
import { noticeMessage } from '../../blocks/home.js';
import { forwardRemovedMessage } from '../../blocks/forward.js';

type Args = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

export function forwardRemoveAction(ctx: SlackContext) {
  const { forwarding } = ctx.postmaster;

  return async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    await ctx.acksFirst();
    const user = body.user.id;
    const where = { user, channel: body.channel?.id };
    try {
      const removed = await forwarding.removeRule(user, action.value ?? '');
      await tellUser(ctx, client, where, forwardRemovedMessage(removed));
    } catch (error) {
      await tellUser(ctx, client, where, noticeMessage(`Not removed: ${describeError(error)}`));
    }
  };
}
