/**
 * `/offboard alice` (also `alice@example.test`, `@alice`), `/offboard status <id>`, `/offboard list`
 * and `/offboard help`.
 *
 * Acks first, always: Slack gives a command 3 s and the mail server may be slow. Then it opens the
 * modal in a "loading" state straight away (a trigger_id expires 3 s after the command), looks the
 * mailbox up, and swaps the form in with views.update once the mail server answered.
 */
import { describeError, isPostmasterError } from '../../../core/errors.js';
import { defaultAutoReply } from '../../../core/offboarding/auto-reply-template.js';
import type { SlackContext } from '../../context.js';
import { allowedToRequest, startCommand, type CommandArgs } from './command-start.js';
import { slackError } from '../../context.js';
import { helpMessage, listMessage, noticeMessage } from '../../blocks/home.js';
import { statusMessage } from '../../blocks/request-message.js';
import { defaultFormValues, errorModal, loadingModal, offboardModal } from '../../blocks/offboard-modal.js';
import { mailboxOf, parseTarget } from '../../resolve-mailbox.js';

export function offboardCommand(ctx: SlackContext) {
  const { offboarding, config } = ctx.postmaster;

  return async (args: CommandArgs): Promise<void> => {
    const { command, client } = args;
    const start = await startCommand(ctx, args);
    const { reply, verb, rest } = start;

    if (verb === '' || verb === 'help') {
      await reply(helpMessage(config.MAIL_DOMAIN));
      return;
    }

    if (!(await allowedToRequest(ctx, start, 'refused.offboard', `/offboard ${command.text.slice(0, 200)}: `))) return;

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
      // Before anyone fills the form in: a mailbox with an open offboarding cannot get a second.
      await offboarding.assertNoOpenRequest(mailbox.address);
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
