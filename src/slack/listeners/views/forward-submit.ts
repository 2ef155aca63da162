/**
 * The /forward add modal is submitted: check the form, then addRule (every guardrail, nothing
 * written on a refusal). A refusal comes back inline on the field it is about (response_action:
 * errors), which is only possible in the ack; when the mail server is too slow for that, the modal
 * is acknowledged with a "checking" view after `submitBudgetMs` and the outcome arrives by
 * views.update. On success the person gets an ephemeral confirmation (or a DM).
 */
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction, webApi } from '@slack/bolt';
import { describeError, isRefusal } from '../../../core/errors.js';
import type { ForwardingRule } from '../../../core/forwarding/rule.js';
import { withinBudget } from '../../within-budget.js';
import type { SlackContext } from '../../context.js';
import { postToResponseUrl, slackError, tellUser } from '../../context.js';
import { decodeForwardMeta, forwardAddedMessage, forwardAddedModal, forwardCheckingModal, forwardModal, type ForwardModalMeta } from '../../blocks/forward.js';
import { blockForRuleError, readForwardForm, ruleInputFromForm } from '../../forward-form.js';

type Args = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;


function userMessage(error: unknown): string {
  if (isRefusal(error)) return describeError(error);
  return `the mail server could not check the rule (${describeError(error)}); try again`;
}

export function forwardSubmit(ctx: SlackContext) {
  const { forwarding, audit } = ctx.postmaster;

  return async ({ ack, body, view, client }: Args): Promise<void> => {
    const user = body.user.id;
    const meta = decodeForwardMeta(view.private_metadata);
    const values = readForwardForm(view.state.values);
    const check = ruleInputFromForm(values);
    if (!check.ok) {
      await ack({ response_action: 'errors', errors: check.errors });
      await audit.append({ actor: user, action: 'refused.rule.add', mailbox: values.mailbox || undefined, result: 'refused', detail: Object.values(check.errors).join('; ') });
      return;
    }

    const { outcome, settled: attempt } = await withinBudget(forwarding.addRule(user, check.input), ctx.submitBudgetMs);

    if (outcome !== 'late') {
      if (outcome.ok) {
        await ack({ response_action: 'update', view: forwardAddedModal(outcome.value) });
        await confirm(ctx, client, user, outcome.value, meta);
      } else {
        // The core already wrote the refusal to the audit log.
        await ack({ response_action: 'errors', errors: { [blockForRuleError(outcome.error)]: userMessage(outcome.error) } });
      }
      return;
    }

    await ack({ response_action: 'update', view: forwardCheckingModal(values.mailbox) });
    const late = await attempt;
    const next = late.ok ? forwardAddedModal(late.value) : forwardModal(values, meta, userMessage(late.error));
    try {
      await client.views.update({ view_id: view.id, view: next });
    } catch (error) {
      ctx.logger.info({ error: slackError(error) }, 'the /forward modal could not be updated (closed?)');
    }
    if (late.ok) await confirm(ctx, client, user, late.value, meta);
  };
}

async function confirm(ctx: SlackContext, client: webApi.WebClient, user: string, rule: ForwardingRule, meta: ForwardModalMeta): Promise<void> {
  const notice = forwardAddedMessage(rule);
  if (await postToResponseUrl(ctx, meta.responseUrl, notice)) return;
  try {
    await tellUser(ctx, client, { user, channel: meta.channel }, notice);
  } catch (error) {
    ctx.logger.warn({ ruleId: rule.id, error: slackError(error) }, 'could not confirm the new rule');
  }
}
