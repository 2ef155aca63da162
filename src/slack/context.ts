/**
 * What every listener gets: the core (through the composed Postmaster), the Slack settings, the
 * message store, and helpers to tell a person something. Listeners reach the mail system only
 * through the core's use-cases.
 */
import type { webApi } from '@slack/bolt';
import type { Postmaster } from '../compose.js';
import type { SlackConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Policy } from '../core/policy.js';
import { describeError } from '../core/errors.js';
import type { Background } from './background.js';
import type { RequestMessages } from './message-store.js';
import type { MessageContent } from './blocks/request-message.js';
import { requestMessage } from './blocks/request-message.js';
import type { OffboardingRequest } from '../core/offboarding/model.js';

type WebClient = webApi.WebClient;

export type SlackPostmaster = Pick<Postmaster, 'config' | 'offboarding' | 'forwarding' | 'audit' | 'store' | 'runEvents'>;

export interface SlackContext {
  postmaster: SlackPostmaster;
  slack: SlackConfig;
  logger: Logger;
  policy: Policy;
  messages: RequestMessages;
  background: Background;
  /** How long a modal submission may wait for the core before it is acknowledged anyway (Slack allows 3 s). */
  submitBudgetMs: number;
  /** Origins a response_url may have (Slack's, or the configured SLACK_API_URL's in tests). */
  responseOrigins: string[];
  /** Call after ack() and before any slow work: lets the acks of requests queued behind go first. */
  acksFirst(): Promise<void>;
}

export function policyFrom(config: SlackPostmaster['config']): Policy {
  return {
    requesters: new Set(config.POSTMASTER_REQUESTERS),
    approvers: new Set(config.POSTMASTER_APPROVERS),
    approvalWindowMs: config.APPROVAL_WINDOW_HOURS * 3_600_000,
  };
}

const slackError = (error: unknown) => (error as { data?: { error?: string } })?.data?.error ?? describeError(error);

/**
 * Tells one person something only they should see: an ephemeral message in the channel where they
 * clicked, or a DM when there is no channel (Home tab) or the ephemeral could not be posted.
 */
export async function tellUser(ctx: SlackContext, client: WebClient, target: { user: string; channel?: string | undefined }, content: MessageContent): Promise<void> {
  if (target.channel && !target.channel.startsWith('D')) {
    try {
      await client.chat.postEphemeral({ channel: target.channel, user: target.user, text: content.text, blocks: content.blocks });
      return;
    } catch (error) {
      ctx.logger.warn({ channel: target.channel, error: slackError(error) }, 'ephemeral message failed; sending a DM instead');
    }
  }
  await sendDm(client, target.user, content);
}

export async function sendDm(client: WebClient, user: string, content: MessageContent): Promise<void> {
  const opened = await client.conversations.open({ users: user });
  const channel = opened.channel?.id ?? user;
  await client.chat.postMessage({ channel, text: content.text, blocks: content.blocks });
}

/** Posts to a slash command's response_url (ephemeral by default); false when it could not. */
export async function postToResponseUrl(ctx: SlackContext, url: string | undefined, content: MessageContent): Promise<boolean> {
  if (!url) return false;
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return false;
  }
  if (!ctx.responseOrigins.includes(origin)) {
    ctx.logger.warn({ origin }, 'refusing to post to a response_url outside Slack');
    return false;
  }
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: content.text, blocks: content.blocks }),
      signal: AbortSignal.timeout(10_000),
    });
    return response.ok;
  } catch (error) {
    ctx.logger.warn({ error: describeError(error) }, 'posting to the response_url failed');
    return false;
  }
}

/** Re-renders the request message in the approvals channel from the request as stored now. */
export async function refreshRequestMessage(ctx: SlackContext, client: WebClient, request: OffboardingRequest): Promise<void> {
  const record = await ctx.messages.get(request.id);
  if (!record) return;
  const content = requestMessage(request, { approvers: ctx.postmaster.config.POSTMASTER_APPROVERS });
  try {
    await client.chat.update({ channel: record.channel, ts: record.ts, text: content.text, blocks: content.blocks });
  } catch (error) {
    ctx.logger.warn({ requestId: request.id, error: slackError(error) }, 'could not update the request message');
  }
}

export { slackError };
