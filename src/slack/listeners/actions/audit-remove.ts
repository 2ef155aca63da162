/**
 * "Remove forward" on a finding of the audit report, and on the removal request it can lead to.
 *
 * In the report: an approver removes the rule at once; so does the requester who created the rule
 * (their own forward). Another requester's click changes nothing: they are told it needs an
 * approver, and the request goes to the approvals channel with a button only approvers may use
 * (approval is required for another person's mailbox). Anyone else is refused. Every button
 * carries only the rule id; the rule is reloaded from the store.
 */
import type { types } from '@slack/bolt';
import { describeError, isPostmasterError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { startButton, type ButtonArgs } from './button-start.js';
import { slackError } from '../../context.js';
import { forwardRemovedMessage } from '../../blocks/forward.js';
import { removalDoneBlocks, removalRequestMessage } from '../../blocks/audit-report.js';
import { mention } from '../../blocks/text.js';

export function auditRemoveAction(ctx: SlackContext) {
  const { forwarding, audit, config } = ctx.postmaster;

  return async (args: ButtonArgs): Promise<void> => {
    const { client } = args;
    const { user, id, tell } = await startButton(ctx, args);
    const isApprover = ctx.policy.approvers.has(user);
    const isRequester = ctx.policy.requesters.has(user);

    if (!isApprover && !isRequester) {
      await audit.append({ actor: user, action: 'refused.rule.remove', result: 'refused', detail: `${user} may not remove forwarding rule ${id.slice(0, 100)}` });
      await tell(`Not removed: ${user} may not change forwarding (ask an admin to add you to POSTMASTER_REQUESTERS)`);
      return;
    }
    const rule = (await forwarding.listRules()).find((r) => r.id === id);
    if (!rule) {
      await tell(`Rule ${id.slice(0, 100)} is already gone: nothing to remove.`);
      return;
    }

    if (isApprover || rule.createdBy === user) {
      try {
        await tell(forwardRemovedMessage(await forwarding.removeRule(user, id)));
      } catch (error) {
        await tell(`Not removed: ${describeError(error)}`);
      }
      return;
    }

    // A requester, and someone else's forward: an approver must confirm.
    await audit.append({ actor: user, action: 'rule.remove.requested', mailbox: rule.mailbox, result: 'ok', detail: `${id}: needs an approver` });
    const request = removalRequestMessage(rule, user, config.POSTMASTER_APPROVERS);
    let posted = true;
    try {
      await client.chat.postMessage({ channel: ctx.slack.APPROVALS_CHANNEL, text: request.text, blocks: request.blocks });
    } catch (error) {
      posted = false;
      ctx.logger.error({ ruleId: id, error: slackError(error) }, 'could not post the removal request to the approvals channel');
    }
    await tell(
      posted
        ? `Removing ${rule.id} (${rule.mailbox}) needs an approver: it is another person's forward. I asked in the approvals channel.`
        : `Removing ${rule.id} (${rule.mailbox}) needs an approver, and I could not post to the approvals channel; ask an approver to remove it.`,
    );
  };
}

/** "Remove forward" on a removal request in the approvals channel: approvers only. */
export function auditRemoveApprovedAction(ctx: SlackContext) {
  const { forwarding, audit } = ctx.postmaster;

  return async (args: ButtonArgs): Promise<void> => {
    const { body, client } = args;
    const { user, id, tell } = await startButton(ctx, args);
    if (!ctx.policy.approvers.has(user)) {
      await audit.append({ actor: user, action: 'refused.rule.remove', result: 'refused', detail: `${user} is not an approver (removal request for ${id.slice(0, 100)})` });
      await tell(`Not removed: only approvers (POSTMASTER_APPROVERS) may confirm a removal request.`);
      return;
    }
    let outcome: string;
    try {
      const removed = await forwarding.removeRule(user, id);
      outcome = `:wastebasket: Removed by ${mention(user)}: ${removed.mailbox} no longer forwards to ${removed.targets.join(', ')}.`;
    } catch (error) {
      if (!isPostmasterError(error, 'NotFound')) {
        await tell(`Not removed: ${describeError(error)}`);
        return;
      }
      outcome = `Rule ${id} was already removed (checked by ${mention(user)}).`;
    }
    const channel = body.channel?.id;
    const ts = body.message?.ts;
    if (!channel || !ts) return;
    const previous = ((body.message as { blocks?: types.KnownBlock[] } | undefined)?.blocks ?? []);
    try {
      await client.chat.update({ channel, ts, text: outcome, blocks: removalDoneBlocks(previous, outcome) });
    } catch (error) {
      ctx.logger.warn({ error: slackError(error) }, 'could not update the removal request');
      await tell(outcome);
    }
  };
}
