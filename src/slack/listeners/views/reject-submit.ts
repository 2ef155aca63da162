/**
 * The reject modal is submitted: the core rejects the request (only approvers and the requester
 * may, and only while it waits for approval). A refusal comes back on the reason field. Then the
 * request message shows who rejected it and why, and the requester is told by DM.
 */
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { describeError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { refreshRequestMessage, sendDm, slackError } from '../../context.js';
import { BLOCK, inputAction } from '../../ids.js';
import { noticeMessage } from '../../blocks/home.js';
import { mention } from '../../blocks/text.js';

type Args = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;

export function rejectSubmit(ctx: SlackContext) {
  return async ({ ack, body, view, client }: Args): Promise<void> => {
    const user = body.user.id;
    const id = view.private_metadata;
    const reason = (view.state.values[BLOCK.rejectReason]?.[inputAction(BLOCK.rejectReason)]?.value ?? '').trim();
    let rejected;
    try {
      rejected = await ctx.postmaster.offboarding.reject(user, id, reason);
    } catch (error) {
      await ack({ response_action: 'errors', errors: { [BLOCK.rejectReason]: describeError(error) } });
      return;
    }
    await ack();
    await ctx.acksFirst();
    await refreshRequestMessage(ctx, client, rejected);
    const content = noticeMessage(`Your request ${rejected.id} to offboard ${rejected.mailbox} was rejected: ${reason || 'no reason given'}`);
    content.blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Rejected by ${mention(user)}` }] });
    try {
      await sendDm(client, rejected.requestedBy, content);
    } catch (error) {
      ctx.logger.warn({ requestId: id, error: slackError(error) }, 'could not tell the requester about the rejection');
    }
  };
}
