/**
 * The /offboard modal is submitted: check the form, make the request through the core (which checks
 * the plan against policy and the mail system and stores it), then post it to the approvals
 * channel and confirm to the requester.
 *
 * A refusal comes back inline on the field it is about (response_action: errors), which is only
 * possible in the ack, within 3 s. When the mail server is too slow for that, the modal is
 * acknowledged with a "checking" view after `submitBudgetMs`, and the outcome arrives by
 * views.update (the form again with the error on top, or the confirmation).
 */
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction, webApi } from '@slack/bolt';
import { describeError, isRefusal } from '../../../core/errors.js';
import type { Mailbox } from '../../../core/mailbox.js';
import type { OffboardingRequest } from '../../../core/offboarding/model.js';
import { withinBudget } from '../../within-budget.js';
import type { SlackContext } from '../../context.js';
import { postToResponseUrl, sendDm, slackError } from '../../context.js';
import { BLOCK } from '../../ids.js';
import { checkingModal, decodeMeta, offboardModal, submittedModal, type OffboardModalMeta } from '../../blocks/offboard-modal.js';
import { requestMessage } from '../../blocks/request-message.js';
import { section } from '../../blocks/text.js';
import { blockForError, planInputFromForm, readOffboardForm } from '../../offboard-form.js';

type Args = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;


function userMessage(error: unknown): string {
  if (isRefusal(error)) return describeError(error);
  return `the mail server could not check the plan (${describeError(error)}); try again`;
}

export function offboardSubmit(ctx: SlackContext) {
  const { offboarding, audit, config } = ctx.postmaster;

  return async ({ ack, body, view, client }: Args): Promise<void> => {
    const user = body.user.id;
    const meta = decodeMeta(view.private_metadata);
    if (!meta) {
      await ack({ response_action: 'errors', errors: { [BLOCK.successor]: 'This form is out of date. Close it and run /offboard again.' } });
      return;
    }
    const values = readOffboardForm(view.state.values, meta);
    const check = planInputFromForm(values, meta, { domain: config.MAIL_DOMAIN, now: new Date() });
    if (!check.ok) {
      await ack({ response_action: 'errors', errors: check.errors });
      await audit.append({ actor: user, action: 'refused.request', mailbox: meta.mailbox, result: 'refused', detail: Object.values(check.errors).join('; ') });
      return;
    }

    const { outcome, settled: attempt } = await withinBudget(offboarding.request(user, check.input), ctx.submitBudgetMs);

    if (outcome !== 'late') {
      if (outcome.ok) {
        await ack({ response_action: 'update', view: submittedModal(outcome.value) });
        await announce(ctx, client, outcome.value, meta);
      } else {
        // The core already wrote the refusal to the audit log.
        await ack({ response_action: 'errors', errors: { [blockForError(outcome.error)]: userMessage(outcome.error) } });
      }
      return;
    }

    await ack({ response_action: 'update', view: checkingModal(meta.mailbox) });
    const late = await attempt;
    if (late.ok) {
      await updateView(ctx, client, view.id, submittedModal(late.value));
      await announce(ctx, client, late.value, meta);
      return;
    }
    const mailbox: Mailbox = await offboarding.lookupMailbox(meta.mailbox).catch(() => ({ address: meta.mailbox, status: 'active' as const }));
    await updateView(ctx, client, view.id, offboardModal({ mailbox, values, meta, error: userMessage(late.error) }));
  };
}

async function updateView(ctx: SlackContext, client: webApi.WebClient, viewId: string, view: webApi.ViewsUpdateArguments['view']): Promise<void> {
  try {
    await client.views.update({ view_id: viewId, view });
  } catch (error) {
    ctx.logger.info({ error: slackError(error) }, 'the /offboard modal could not be updated (closed?)');
  }
}

/** Posts the request to the approvals channel, remembers where, and confirms to the requester. */
async function announce(ctx: SlackContext, client: webApi.WebClient, request: OffboardingRequest, meta: OffboardModalMeta): Promise<void> {
  const content = requestMessage(request, { approvers: ctx.postmaster.config.POSTMASTER_APPROVERS });
  let confirmation: string;
  try {
    const posted = await client.chat.postMessage({ channel: ctx.slack.APPROVALS_CHANNEL, text: content.text, blocks: content.blocks });
    await ctx.messages.remember({ requestId: request.id, channel: posted.channel ?? ctx.slack.APPROVALS_CHANNEL, ts: posted.ts!, requestedBy: request.requestedBy });
    confirmation = `Request ${request.id} to offboard ${request.mailbox} is waiting for approval in <#${ctx.slack.APPROVALS_CHANNEL}>.`;
  } catch (error) {
    ctx.logger.error({ requestId: request.id, error: slackError(error) }, 'could not post to the approvals channel');
    confirmation = `Request ${request.id} to offboard ${request.mailbox} is stored, but I could not post it to the approvals channel (${slackError(error)}). Invite me there (/invite @Postmaster); meanwhile an approver can run \`postmaster approve ${request.id}\`.`;
  }
  // Only ids, a validated address and a channel link: nothing here needs escaping.
  const notice = { text: confirmation, blocks: [section(confirmation)] };
  if (await postToResponseUrl(ctx, meta.responseUrl, notice)) return;
  try {
    await sendDm(client, request.requestedBy, notice);
  } catch (error) {
    ctx.logger.warn({ requestId: request.id, error: slackError(error) }, 'could not confirm the request to the requester');
  }
}
