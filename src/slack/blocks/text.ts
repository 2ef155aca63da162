/**
 * Small pieces of text every builder shares: escaping, names for steps and states, the way a
 * mailbox's state and a date are shown. Pure.
 */
import type { types } from '@slack/bolt';
import type { Mailbox } from '../../core/mailbox.js';
import type { OffboardingRequest, RequestState, Step, StepName } from '../../core/offboarding/model.js';
import { formatBytes, formatCount } from '../../core/format.js';
import { LIMITS, truncate } from './limits.js';

/**
 * Escapes the three characters Slack's mrkdwn treats as control characters. Anything a person
 * typed (a reason, an address) goes through this, so `<!channel>` in a reason pings nobody.
 */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const mention = (userId: string) => (/^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escape(userId));

export const STEP_TITLE: Record<StepName, string> = {
  backup: 'Backup',
  forward: 'Forward',
  auto_reply: 'Auto-reply',
  revoke_sessions: 'End sessions',
  disable: 'Disable login',
  delete: 'Delete',
};

export const STEP_MARK: Record<Step['status'], string> = {
  pending: '·',
  running: '⏳',
  done: '✓',
  failed: '✗',
  awaiting_manual: '✋',
  waiting: '⏸',
};

export const STATE_LABEL: Record<RequestState, string> = {
  pending_approval: 'waiting for approval',
  approved: 'approved',
  scheduled: 'scheduled',
  running: 'running',
  awaiting_manual: 'waiting for a manual task',
  completed: 'completed',
  failed: 'failed',
  rejected: 'rejected',
  cancelled: 'cancelled',
};

export const STATE_MARK: Record<RequestState, string> = {
  pending_approval: '🕓',
  approved: '👍',
  scheduled: '📅',
  running: '⏳',
  awaiting_manual: '✋',
  completed: '✓',
  failed: '✗',
  rejected: '⛔',
  cancelled: '⊘',
};

/** A date Slack shows in each reader's own time zone, with the ISO text as the fallback. */
export function when(iso: string | undefined): string {
  if (!iso) return 'unknown';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escape(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso.slice(0, 16).replace('T', ' ')} UTC>`;
}

/** "active · forwarding to bob@… (keeps a copy) · 12,408 messages, 1.9 GB" */
export function mailboxState(mailbox: Mailbox): string {
  const provider = mailbox.providerStatus ? ` (${escape(mailbox.providerStatus)})` : '';
  const parts: string[] = [mailbox.status === 'disabled' ? `*disabled*${provider || ' (login refused)'}` : `active${provider}`];
  if (mailbox.forwarding === undefined) parts.push('forwarding unknown');
  else if (mailbox.forwarding.targets.length === 0) parts.push('no forwarding');
  else {
    const copy = mailbox.forwarding.keepCopy ? 'keeps a copy' : 'no copy kept';
    const who = mailbox.forwarding.managed ? '' : ', set outside Postmaster';
    parts.push(`forwarding to ${escape(mailbox.forwarding.targets.join(', '))} (${copy}${who})`);
  }
  if (mailbox.autoReply) parts.push(`auto-reply on${mailbox.autoReply.endDate ? ` until ${escape(mailbox.autoReply.endDate)}` : ''}`);
  if (mailbox.messages !== undefined || mailbox.bytes !== undefined) {
    const count = mailbox.messages !== undefined ? `${formatCount(mailbox.messages)} messages` : 'size';
    parts.push(mailbox.bytes !== undefined ? `${count}, ${formatBytes(mailbox.bytes)}` : count);
  }
  return parts.join(' · ');
}

export function requestLine(request: OffboardingRequest): string {
  return `${STATE_MARK[request.state]} \`${request.id}\` *${escape(request.mailbox)}* — ${STATE_LABEL[request.state]}, requested by ${mention(request.requestedBy)} ${when(request.requestedAt)}`;
}

export const plain = (text: string, max: number): types.PlainTextElement => ({ type: 'plain_text', text: truncate(text, max), emoji: true });
export const md = (text: string, max: number = LIMITS.sectionText): types.MrkdwnElement => ({ type: 'mrkdwn', text: truncate(text, max) });

export function section(text: string, extra: Partial<types.SectionBlock> = {}): types.SectionBlock {
  return { type: 'section', text: md(text), ...extra };
}

export function context(...texts: string[]): types.ContextBlock {
  return { type: 'context', elements: texts.slice(0, LIMITS.contextElements).map((t) => md(t, LIMITS.contextText)) };
}

export function header(text: string): types.HeaderBlock {
  return { type: 'header', text: plain(text, LIMITS.headerText) };
}

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger', confirm?: types.ConfirmationDialog): types.Button {
  const b: types.Button = { type: 'button', text: plain(text, LIMITS.buttonText), action_id: actionId, value: truncate(value, LIMITS.buttonValue) };
  if (style) b.style = style;
  if (confirm) b.confirm = confirm;
  return b;
}

/** Notification text (what a phone shows): short, plain, never over the limit. */
export const fallback = (text: string) => truncate(text, LIMITS.messageText);
