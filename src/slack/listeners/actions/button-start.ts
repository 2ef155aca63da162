/**
 * What every button does first: ack at once, then read who clicked and the one value the button
 * carries (an id: the server holds everything else). Answers go to the clicker alone.
 */
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { tellUser } from '../../context.js';
import { noticeMessage } from '../../blocks/home.js';
import type { MessageContent } from '../../blocks/request-message.js';

export type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

export interface ButtonStart {
  user: string;
  /** The button's value: the id of a request or a rule. */
  id: string;
  /** An ephemeral message to the clicker where they clicked (a DM when that fails); text becomes a notice. */
  tell(content: MessageContent | string): Promise<void>;
}

export async function startButton(ctx: SlackContext, { ack, body, action, client }: ButtonArgs): Promise<ButtonStart> {
  await ack();
  await ctx.acksFirst();
  const user = body.user.id;
  const where = { user, channel: body.channel?.id };
  return { user, id: action.value ?? '', tell: (content) => tellUser(ctx, client, where, typeof content === 'string' ? noticeMessage(content) : content) };
}
