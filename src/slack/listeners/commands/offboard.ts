/**
 * `/offboard alice` (also `alice@example.test`, `@alice`), `/offboard status <id>`, `/offboard list`
 * and `/offboard help`.
 *
 * Acks first, always: Slack gives a command 3 s and the mail server may be slow. Then it opens the
 * modal in a "loading" state straight away (a trigger_id expires 3 s after the command), looks the
 * mailbox up, and swaps the form in with views.update once the mail server answered.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { describeError, isPostmasterError } from '../../../core/errors.js';
import { assertMayRequest } from '../../../core/policy.js';
import { defaultAutoReply } from '../../../core/offboarding/auto-reply-template.js';
import type { SlackContext } from '../../context.js';
import { slackError } from '../../context.js';
import { helpMessage, listMessage, noticeMessage } from '../../blocks/home.js';
import { statusMessage, type MessageContent } from '../../blocks/request-message.js';
import { defaultFormValues, errorModal, loadingModal, offboardModal } from '../../blocks/offboard-modal.js';
import { mailboxOf, parseTarget } from '../../resolve-mailbox.js';

type Args = AllMiddlewareArgs & SlackCommandMiddlewareArgs;

export function offboardCommand(ctx: SlackContext) {
  const { offboarding, audit, config } = ctx.postmaster;

  return async ({ command, ack, respond, client }: Args): Promise<void> => {
    await ack();
    await ctx.acksFirst();
    const reply = (content: MessageContent) => respond({ response_type: 'ephemeral', text: content.text, blocks: content.blocks });
    const [verb = '', ...rest] = command.text.trim().split(/\s+/).filter(Boolean);
    const user = command.user_id;

    if (verb === '' || verb === 'help') {
      await reply(helpMessage(config.MAIL_DOMAIN));
      return;
    }

    try {
      assertMayRequest(ctx.policy, user);
    } catch (error) {
      await audit.append({ actor: user, action: 'refused.offboard', result: 'refused', detail: `/offboard ${command.text.slice(0, 200)}: ${describeError(error)}` });
      await reply(noticeMessage(`Not allowed: ${describeError(error)}`));
      return;
    }

    if (verb === 'list') {
      await reply(listMessage(await offboarding.list()));
      return;
    }
    if (verb === 'status') {
      const id = rest[0];
      if (!id) {
        await reply(noticeMessage('Which request? `/offboard status ob-…` (the id is in the request message, or `/offboard list`)'));
        return;
      }
      try {
        await reply(statusMessage(await offboarding.get(id)));
      } catch (error) {
        await reply(noticeMessage(describeError(error)));
      }
      return;
    }
    if (rest.length) {
      await reply(noticeMessage(`One mailbox at a time: \`/offboard ${verb}\`. \`/offboard help\` lists the commands.`));
      return;
    }

    // The trigger_id is good for 3 s from the command: open the modal before anything slow.
    let view: { id: string; hash: string };
    try {
      const opened = await client.views.open({ trigger_id: command.trigger_id, view: loadingModal(verb) });
      view = { id: opened.view!.id!, hash: opened.view!.hash! };
    } catch (error) {
      ctx.logger.warn({ error: slackError(error) }, 'views.open failed for /offboard');
      await reply(noticeMessage(`Could not open the form (${slackError(error)}). Try again.`));
      return;
    }

    const update = async (next: Parameters<typeof client.views.update>[0]['view']) => {
      try {
        await client.views.update({ view_id: view.id, hash: view.hash, view: next });
      } catch (error) {
        // hash_conflict or not_found: the person closed or changed the modal meanwhile.
        ctx.logger.info({ error: slackError(error) }, 'the /offboard modal could not be updated');
      }
    };

    try {
      const address = await mailboxOf(parseTarget(verb), client);
      const mailbox = await offboarding.lookupMailbox(address);
      const today = new Date();
      const until = new Date(today.getTime() + config.FORWARD_DEFAULT_DAYS * 86_400_000).toISOString().slice(0, 10);
      const values = defaultFormValues({ until, template: defaultAutoReply({ endDate: until }) });
      await update(offboardModal({ mailbox, values, meta: { mailbox: mailbox.address, responseUrl: command.response_url, templateFor: '', templateUntil: until, arv: 0 } }));
    } catch (error) {
      const known = isPostmasterError(error);
      if (!known) ctx.logger.error({ err: error }, '/offboard lookup failed');
      const message = known ? error.message : `the mail server could not be asked: ${describeError(error)}`;
      await update(errorModal(message, known ? error.hint : 'try again in a minute; if it persists, check the mail server'));
    }
  };
}
