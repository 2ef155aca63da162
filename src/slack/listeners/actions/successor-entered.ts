/**
 * Enter pressed in the modal's successor field: if the auto-reply text is still the generated
 * template, regenerate it naming the new successor (English and Chinese) so the requester sees the
 * text that will be sent. A text the person edited is left alone.
 */
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { defaultAutoReply } from '../../../core/offboarding/auto-reply-template.js';
import type { SlackContext } from '../../context.js';
import { slackError } from '../../context.js';
import { autoReplyBodyBlock, decodeMeta, encodeMeta } from '../../blocks/offboard-modal.js';
import { BLOCK } from '../../ids.js';
import { isUntouchedTemplate, readOffboardForm } from '../../offboard-form.js';
import { AddressSchema } from '../../../core/mailbox.js';

type Args = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction>;

export function successorEntered(ctx: SlackContext) {
  return async ({ ack, body, client }: Args): Promise<void> => {
    await ack();
    await ctx.acksFirst();
    const view = body.view;
    const meta = decodeMeta(view?.private_metadata);
    if (!view || !meta) return;
    const values = readOffboardForm(view.state.values, meta);
    const parsed = AddressSchema.safeParse(values.successor.includes('@') ? values.successor : `${values.successor}@${ctx.postmaster.config.MAIL_DOMAIN}`);
    const successor = parsed.success ? parsed.data : '';
    if (successor === meta.templateFor || (values.autoReplyBody && !isUntouchedTemplate(values.autoReplyBody, meta))) return;

    const template = defaultAutoReply({ successor: successor || undefined, endDate: values.until });
    const next = { ...meta, templateFor: successor, templateUntil: values.until, arv: meta.arv + 1 };
    const oldId = BLOCK.autoReplyBody(meta.arv);
    const blocks = view.blocks.map((block) => (block.block_id === oldId ? autoReplyBodyBlock(template.body, next.arv) : block));
    try {
      await client.views.update({
        view_id: view.id,
        hash: view.hash,
        view: {
          type: 'modal',
          callback_id: view.callback_id,
          title: view.title,
          ...(view.submit ? { submit: view.submit } : {}),
          ...(view.close ? { close: view.close } : {}),
          private_metadata: encodeMeta(next),
          blocks: blocks as never,
        },
      });
    } catch (error) {
      ctx.logger.info({ error: slackError(error) }, 'could not refresh the auto-reply template');
    }
  };
}
