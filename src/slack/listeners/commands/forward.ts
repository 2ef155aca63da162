/**
 * `/forward list [mailbox]`, `/forward add [mailbox]` (a modal), `/forward remove <id>` and
 * `/forward help`. Acks first, always; the modal opens straight after (a trigger_id lives 3 s).
 * Listing is for requesters and approvers (it shows where mail goes); the core checks again on
 * every change.
 */
import { describeError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { allowedToRequest, startCommand, type CommandArgs } from './command-start.js';
import { slackError } from '../../context.js';
import { noticeMessage } from '../../blocks/home.js';
import { emptyForwardForm, forwardGoneMessage, forwardHelp, forwardList, forwardModal } from '../../blocks/forward.js';

export function forwardCommand(ctx: SlackContext) {
  const { forwarding, config } = ctx.postmaster;

  return async (args: CommandArgs): Promise<void> => {
    const { command, client } = args;
    const start = await startCommand(ctx, args);
    const { reply, verb, rest, user } = start;

    if (verb === '' || verb === 'help') {
      await reply(forwardHelp(config.MAIL_DOMAIN));
      return;
    }
    if (!['list', 'add', 'remove'].includes(verb)) {
      await reply(noticeMessage(`Unknown: /forward ${verb.slice(0, 100)}. \`/forward help\` lists the commands.`));
      return;
    }

    if (!(await allowedToRequest(ctx, start, 'refused.forward', `/forward ${command.text.slice(0, 200)}: `))) return;

    if (verb === 'list') {
      const mailbox = rest[0]?.replace(/^mailto:/, '');
      await reply(forwardList(await forwarding.listRules(mailbox), mailbox, await forwarding.listOffboardingForwards(mailbox)));
      return;
    }

    if (verb === 'remove') {
      const id = rest[0];
      if (!id) {
        await reply(noticeMessage('Which forward? `/forward remove fw-…` for a rule, `ob-…` for an offboarding\'s forward (`/forward list` shows the ids)'));
        return;
      }
      try {
        await reply(forwardGoneMessage(await forwarding.removeForward(user, id)));
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
