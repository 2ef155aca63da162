/**
 * Reject opens a modal for the reason; views/reject-submit.ts does the rejecting. The button
 * carries only the request id.
 */
import { describeError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { startButton, type ButtonArgs } from './button-start.js';
import { slackError } from '../../context.js';
import { rejectModal } from '../../blocks/home.js';

export function rejectAction(ctx: SlackContext) {
  return async (args: ButtonArgs): Promise<void> => {
    const { body, client } = args;
    const { user, id, tell } = await startButton(ctx, args);
    let request;
    try {
      request = await ctx.postmaster.offboarding.get(id);
    } catch (error) {
      await ctx.postmaster.audit.append({ actor: user, action: 'refused.reject', result: 'refused', detail: describeError(error) });
      await tell(describeError(error));
      return;
    }
    if (request.state !== 'pending_approval') {
      await ctx.postmaster.audit.append({ actor: user, action: 'refused.reject', requestId: request.id, mailbox: request.mailbox, result: 'refused', detail: `not waiting for approval (${request.state})` });
      await tell(`Nothing to reject: ${request.id} is ${request.state.replace('_', ' ')}.`);
      return;
    }
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(request) });
    } catch (error) {
      ctx.logger.warn({ error: slackError(error) }, 'could not open the reject modal');
    }
  };
}
