/**
 * `/forward list [mailbox]`, `/forward add [mailbox]` (a modal), `/forward remove <id>` and
 * `/forward help`. Acks first, always; the modal opens straight after (a trigger_id lives 3 s).
 * Listing is for requesters and approvers (it shows where mail goes); the core checks again on
 * every change.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { describeError } from '../../../core/errors.js';
import { assertMayRequest } from '../../../core/policy.js';
import type { SlackContext } from '../../context.js';
import { slackError } from '../../context.js';
import { noticeMessage } from '../../blocks/home.js';
import type { MessageContent } from '../../blocks/request-message.js';
import { emptyForwardForm, forwardHelp, forwardList, forwardModal, forwardRemovedMessage } from '../../blocks/forward.js';

type Args = AllMiddlewareArgs & SlackCommandMiddlewareArgs;

export function forwardCommand(ctx: SlackContext) {
  const { forwarding, audit, config } = ctx.postmaster;

  return async ({ command, ack, respond, client }: Args): Promise<void> => {
    await ack();
    await ctx.acksFirst();
    const reply = (content: MessageContent) => respond({ response_type: 'ephemeral', text: content.text, blocks: content.blocks });
    const [verb = '', ...rest] = command.text.trim().split(/\s+/).filter(Boolean);
    const user = command.user_id;

    if (verb === '' || verb === 'help') {
      await reply(forwardHelp(config.MAIL_DOMAIN));
      return;
    }
    if (!['list', 'add', 'remove'].includes(verb)) {
      await reply(noticeMessage(`Unknown: /forward ${verb.slice(0, 100)}. \`/forward help\` lists the commands.`));
      return;
    }

    try {
      assertMayRequest(ctx.policy, user);
    } catch (error) {
      await audit.append({ actor: user, action: 'refused.forward', result: 'refused', detail: `/forward ${command.text.slice(0, 200)}: ${describeError(error)}` });
      await reply(noticeMessage(`Not allowed: ${describeError(error)}`));
      return;
    }

    if (verb === 'list') {
      const mailbox = rest[0]?.replace(/^mailto:/, '');
      await reply(forwardList(await forwarding.listRules(mailbox), mailbox, await forwarding.listOffboardingForwards(mailbox)));
      return;
    }

    if (verb === 'remove') {
      const id = rest[0];
      if (!id) {
        await reply(noticeMessage('Which rule? `/forward remove fw-…` (`/forward list` shows the ids)'));
        return;
      }
      try {
        await reply(forwardRemovedMessage(await forwarding.removeRule(user, id)));
      } catch (error) {
        // The core audited the refusal.
        await reply(noticeMessage(`Not removed: ${describeError(error)}`));
      }
      return;
    }

    // add
    const meta = { responseUrl: command.response_url, channel: command.channel_id };
    try {
      await client.views.open({ trigger_id: command.trigger_id, view: forwardModal(emptyForwardForm(rest[0] ?? ''), meta) });
    } catch (error) {
      ctx.logger.warn({ error: slackError(error) }, 'views.open failed for /forward add');
      await reply(noticeMessage(`Could not open the form (${slackError(error)}). Try again.`));
    }
  };
}
