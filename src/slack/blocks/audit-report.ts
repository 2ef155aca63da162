/**
 * The forwarding audit as Block Kit: the headline, counts by severity, the unreadable note, the
 * change since last week, and the top findings (most severe first) with a "Remove forward" button
 * on those a Postmaster rule causes. Also the expiry notice and the removal request an approver
 * answers. Pure; the full list goes out as the CSV (audit-report.ts).
 */
import type { types } from '@slack/bolt';
import { isSortedFindings, SEVERITIES, sortFindings, type Finding, type Severity } from '../../core/findings/model.js';
import type { ExpiryNotice, AuditRun } from '../../core/forwarding/service.js';
import type { ForwardingRule } from '../../core/forwarding/rule.js';
import { ACTION } from '../ids.js';
import { capList, LIMITS, truncate } from './limits.js';
import type { MessageContent } from './request-message.js';
import { ruleDetails, ruleLine } from './forward.js';
import { button, context, escape, fallback, header, mention, plain, section } from './text.js';

export const SEVERITY_MARK: Record<Severity, string> = { critical: '🔴', high: '🟠', medium: '🟡', low: '🔵', info: '⚪' };

/** Top findings shown as blocks; the rest are in the CSV. Keeps the message well under 50 blocks. */
export const TOP_FINDINGS = 20;
const CHANGE_ITEMS = 3;
const DETAIL_MAX = 600;


/**
 * The Postmaster rule a "Remove forward" button removes: the finding's one rule, when it has
 * exactly one and (given the stored rules) that rule still exists. Forwards in a user's own
 * script, and findings behind several rules, get no button.
 */
export function removableRule(finding: Finding, rules?: readonly ForwardingRule[]): string | undefined {
  const ids = finding.ruleIds ?? [];
  if (ids.length !== 1) return undefined;
  return !rules || rules.some((r) => r.id === ids[0]) ? ids[0] : undefined;
}

/** A finding that is about a forward but has no Postmaster rule behind it: the owner's own script. */
const ownScriptNote = (finding: Finding) =>
  finding.kind === 'unreadable_script'
    ? ''
    : `\n_In ${escape(finding.mailbox)}'s own Sieve script (or set outside Postmaster's rules): the owner or a mail administrator must change it._`;

export function findingText(finding: Finding): string {
  const free = finding.freeMail ? ' · free mail' : '';
  return `${SEVERITY_MARK[finding.severity]} *${finding.severity}* · ${finding.kind.replace(/_/g, ' ')}${free} · *${escape(truncate(finding.mailbox, 300))}*\n${escape(truncate(finding.detail, DETAIL_MAX))}`;
}

function findingLine(finding: Finding): string {
  return `${SEVERITY_MARK[finding.severity]} ${finding.kind.replace(/_/g, ' ')} · ${escape(truncate(finding.mailbox, 200))}${finding.targets.length ? ` → ${escape(truncate(finding.targets.join(', '), 300))}` : ''}`;
}

export interface AuditReportOptions {
  /** Postmaster's rules, to tell which findings a button can fix. Without it, only findings naming a rule get one. */
  rules?: readonly ForwardingRule[];
  /** The date shown in the header (YYYY-MM-DD, in AUDIT_TZ); default the run's UTC date. */
  date?: string;
  /** On-demand run: says so, and that it is not next week's baseline. */
  onDemand?: boolean;
}

export function auditReportMessage(run: AuditRun, options: AuditReportOptions = {}): MessageContent {
  const { summary } = run;
  const date = options.date ?? run.at.slice(0, 10);
  const blocks: types.KnownBlock[] = [header(`Forwarding audit — ${date}`), section(`*${escape(summary.headline)}*`)];

  blocks.push({
    type: 'section',
    fields: SEVERITIES.map((s) => ({ type: 'mrkdwn' as const, text: `${SEVERITY_MARK[s]} *${s}*: ${summary.counts[s]}` })),
  });
  if (summary.unreadableNote) blocks.push(context(`:warning: ${escape(summary.unreadableNote)}. The findings only cover what could be read.`));
  blocks.push(context(`${run.mailboxesRead} mailboxes read${options.onDemand ? ' · on demand (the weekly report compares with the last scheduled run)' : ''}`));

  const change = run.change;
  if (!change) blocks.push(context('First report: nothing to compare with yet.'));
  else {
    const lines = [`*Since last week:* ${change.new.length} new, ${change.resolved.length} resolved`];
    const list = (items: Finding[], sign: string) => {
      for (const f of items.slice(0, CHANGE_ITEMS)) lines.push(`${sign} ${findingLine(f)}`);
      if (items.length > CHANGE_ITEMS) lines.push(`${sign} …and ${items.length - CHANGE_ITEMS} more`);
    };
    list(change.new, 'New:');
    list(change.resolved, 'Resolved:');
    blocks.push(section(lines.join('\n')));
  }

  const findings = isSortedFindings(run.findings) ? run.findings : sortFindings(run.findings);
  if (findings.length) {
    blocks.push({ type: 'divider' });
    const top = findings.slice(0, TOP_FINDINGS);
    blocks.push(section(`*Top ${top.length === findings.length ? findings.length : `${top.length} of ${findings.length}`} findings*, most severe first`));
    for (const finding of top) {
      const ruleId = removableRule(finding, options.rules);
      if (ruleId) {
        blocks.push(
          section(`${findingText(finding)}\n_Postmaster rule \`${ruleId}\`_`, {
            accessory: button('Remove forward', ACTION.auditRemove, ruleId, 'danger', {
              title: plain('Remove this forward?', LIMITS.confirmTitle),
              text: plain(`Rule ${ruleId} of ${truncate(finding.mailbox, 200)} is removed. Another person's mailbox needs an approver.`, LIMITS.confirmText),
              confirm: plain('Remove', LIMITS.confirmButton),
              deny: plain('Keep', LIMITS.confirmButton),
            }),
          }),
        );
      } else {
        const isOwnScript = !options.rules || !options.rules.some((r) => r.mailbox === finding.mailbox);
        blocks.push(section(`${findingText(finding)}${isOwnScript ? ownScriptNote(finding) : ''}`));
      }
    }
    if (findings.length > top.length) blocks.push(context(`…and ${findings.length - top.length} more in the CSV.`));
  }

  return { text: fallback(`Forwarding audit ${date}: ${summary.headline}`), blocks };
}

const MAX_NOTICES = 40;

export function expiryNoticesMessage(notices: readonly ExpiryNotice[]): MessageContent {
  const byHand = notices.filter((n) => n.removeByHand).length;
  const title = byHand ? `${notices.length} expired ${notices.length === 1 ? 'forward' : 'forwards'}, ${byHand} to remove by hand` : `${notices.length} expired ${notices.length === 1 ? 'forward' : 'forwards'} removed`;
  const blocks: types.KnownBlock[] = [section(`:hourglass: *${title}*`)];
  const lines = notices.map((n) => {
    const what = n.kind === 'rule' ? `rule \`${escape(n.id)}\`` : `offboarding \`${escape(n.id)}\``;
    const targets = escape(truncate(n.targets.join(', '), 1000));
    if (n.removeByHand) return `${what} · *${escape(truncate(n.mailbox, 300))}* → ${targets} expired ${escape(n.expiresAt)}; ✋ remove it by hand: ${escape(truncate(n.removeByHand, 1200))}`;
    return `${what} · *${escape(truncate(n.mailbox, 300))}* no longer forwards to ${targets} (expired ${escape(n.expiresAt)})`;
  });
  for (const line of capList(lines, MAX_NOTICES, (hidden) => `…and ${hidden} more (see the audit log)`)) blocks.push(section(line));
  return { text: fallback(`${notices.length} expired forwards removed`), blocks };
}

/** Posted to the approvals channel when a requester who is not an approver asks for a removal. */
export function removalRequestMessage(rule: ForwardingRule, requestedBy: string, approvers: readonly string[]): MessageContent {
  const who = approvers.length ? approvers.slice(0, 20).map(mention).join(' ') : 'an approver';
  return {
    text: fallback(`${requestedBy} asks to remove forwarding rule ${rule.id} (${rule.mailbox}); an approver must confirm`),
    blocks: [
      section(`${mention(requestedBy)} asks to remove a forward from the audit report:\n${ruleLine(rule)}`),
      context(ruleDetails(rule)),
      { type: 'actions', elements: [button('Remove forward', ACTION.auditRemoveApproved, rule.id, 'danger')] },
      context(truncate(`Approvers: ${who}`, LIMITS.contextText)),
    ],
  };
}

/** The removal request after an approver answered (buttons gone). */
export function removalDoneBlocks(previous: readonly types.KnownBlock[], outcome: string): types.KnownBlock[] {
  return [...previous.filter((b) => b.type !== 'actions').slice(0, LIMITS.messageBlocks - 1), context(outcome)];
}
