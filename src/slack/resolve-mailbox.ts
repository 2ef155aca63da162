/**
 * What `/offboard <argument>` names: a mailbox ("alice", "alice@example.test") or a Slack user
 * ("<@U123|alice>", which Slack sends for "@alice" when the command escapes users, as our manifest
 * asks), resolved through users.info to the profile email.
 */
import type { webApi } from '@slack/bolt';
import { notFound } from '../core/errors.js';

export type CommandTarget = { kind: 'mailbox'; text: string } | { kind: 'user'; userId: string; label: string } | { kind: 'unresolved'; text: string };

export function parseTarget(argument: string): CommandTarget {
  const text = argument.trim();
  const user = /^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$/.exec(text);
  if (user) return { kind: 'user', userId: user[1]!, label: user[2] ?? user[1]! };
  // With escaping on, Slack turns a typed address into <mailto:alice@example.test|alice@example.test>.
  const mailto = /^<mailto:([^|>]+)(?:\|[^>]*)?>$/.exec(text);
  if (mailto) return { kind: 'mailbox', text: mailto[1]! };
  // "@alice" that Slack did not turn into a user mention: no such Slack user.
  if (text.startsWith('@')) return { kind: 'unresolved', text };
  return { kind: 'mailbox', text };
}

/** The mailbox address the target names; NotFound when a Slack user cannot be resolved to one. */
export async function mailboxOf(target: CommandTarget, client: webApi.WebClient): Promise<string> {
  switch (target.kind) {
    case 'mailbox':
      return target.text;
    case 'unresolved':
      throw notFound(`there is no Slack user ${target.text}`, 'type the mailbox instead, like /offboard alice');
    case 'user': {
      let email: string | undefined;
      try {
        const info = await client.users.info({ user: target.userId });
        email = info.user?.profile?.email;
      } catch (error) {
        const code = (error as { data?: { error?: string } }).data?.error;
        if (code === 'user_not_found') throw notFound(`there is no Slack user <@${target.userId}>`, 'type the mailbox instead, like /offboard alice');
        throw error;
      }
      if (!email) {
        throw notFound(`the Slack profile of @${target.label} shows no email address`, 'type the mailbox instead (the app needs the users:read.email scope to see emails)');
      }
      return email;
    }
  }
}
