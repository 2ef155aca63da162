/**
 * Reject opens a modal for the reason; views/reject-submit.ts does the rejecting. The button
 * carries only the request id.
 */
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { describeError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { slackError, tellUser } from '../../context.js';
import { noticeMessage, rejectModal } from '../../blocks/home.js';

type Args = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

export function rejectAction(ctx: SlackContext) {
  return async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    await ctx.acksFirst();
    const user = body.user.id;
    let request;
    try {
      request = await ctx.postmaster.offboarding.get(action.value ?? '');
    } catch (error) {
      await ctx.postmaster.audit.append({ actor: user, action: 'refused.reject', result: 'refused', detail: describeError(error) });
      await tellUser(ctx, client, { user, channel: body.channel?.id }, noticeMessage(describeError(error)));
      return;
    }
    if (request.state !== 'pending_approval') {
      await ctx.postmaster.audit.append({ actor: user, action: 'refused.reject', requestId: request.id, mailbox: request.mailbox, result: 'refused', detail: `not waiting for approval (${request.state})` });
      await tellUser(ctx, client, { user, channel: body.channel?.id }, noticeMessage(`Nothing to reject: ${request.id} is ${request.state.replace('_', ' ')}.`));
      return;
    }
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(request) });
    } catch (error) {
      ctx.logger.warn({ error: slackError(error) }, 'could not open the reject modal');
    }
  };
}
