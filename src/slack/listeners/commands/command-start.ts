/**
 * What every slash command does first: ack at once (Slack gives a command 3 s, and the mail server
 * may be slow), then split the text into a verb and its arguments. Replies go to the caller alone.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { describeError } from '../../../core/errors.js';
import { assertMayRequest } from '../../../core/policy.js';
import type { SlackContext } from '../../context.js';
import { noticeMessage } from '../../blocks/home.js';
import type { MessageContent } from '../../blocks/request-message.js';

export type CommandArgs = AllMiddlewareArgs & SlackCommandMiddlewareArgs;

export interface CommandStart {
  user: string;
  /** The first word ('' when none), and the words after it. */
  verb: string;
  rest: string[];
  /** An ephemeral answer through the command's response_url. */
  reply(content: MessageContent): Promise<unknown>;
}

export async function startCommand(ctx: SlackContext, { command, ack, respond }: CommandArgs): Promise<CommandStart> {
  await ack();
  await ctx.acksFirst();
  const [verb = '', ...rest] = command.text.trim().split(/\s+/).filter(Boolean);
  return {
    user: command.user_id,
    verb,
    rest,
    reply: (content) => respond({ response_type: 'ephemeral', text: content.text, blocks: content.blocks }),
  };
}

/**
 * Requesters and approvers only. A refusal goes to the audit log (`action`, with `detail` before
 * the reason) and to the caller alone; false when refused.
 */
export async function allowedToRequest(ctx: SlackContext, start: CommandStart, action: string, detail = ''): Promise<boolean> {
  try {
    assertMayRequest(ctx.policy, start.user);
    return true;
  } catch (error) {
    await ctx.postmaster.audit.append({ actor: start.user, action, result: 'refused', detail: `${detail}${describeError(error)}` });
    await start.reply(noticeMessage(`Not allowed: ${describeError(error)}`));
    return false;
  }
}
