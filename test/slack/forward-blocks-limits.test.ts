/**
 * The /forward and audit-report builders stay within Slack's limits (shared/stack.md) on
 * worst-case input: 200-character addresses, 5 targets, 20 long conditions, long owners and
 * reasons, hundreds of rules, thousands of findings with long details, a long change list,
 * hundreds of approvers and expiry notices. Buttons carry only the rule id.
 */
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/findings/model.js';
import { FINDING_KINDS, SEVERITY_OF } from '../../src/core/findings/model.js';
import { summarize } from '../../src/core/findings/report.js';
import type { ForwardingRule } from '../../src/core/forwarding/rule.js';
import type { AuditRun, ExpiryNotice } from '../../src/core/forwarding/service.js';
import { limitViolations } from '../../src/slack/blocks/limits.js';
import { forwardAddedMessage, forwardAddedModal, forwardCheckingModal, forwardEndedMessage, forwardHelp, forwardList, forwardModal, forwardRemovedMessage, emptyForwardForm } from '../../src/slack/blocks/forward.js';
import { auditReportMessage, expiryNoticesMessage, removalDoneBlocks, removalRequestMessage } from '../../src/slack/blocks/audit-report.js';

const long = (n: number, seed = 'x') => seed.repeat(Math.ceil(n / seed.length)).slice(0, n);
const address = (local: string) => `${local}${long(200 - local.length - '@example.test'.length, 'q')}@example.test`;
const MAILBOX = address('alice');
const TARGETS = ['b', 'c', 'd', 'e', 'f'].map(address);
const within = (surface: Parameters<typeof limitViolations>[0]) => expect(limitViolations(surface)).toEqual([]);

function worstRule(i: number): ForwardingRule {
  return {
    id: `fw-${String(i).padStart(16, 'a')}`,
    mailbox: MAILBOX,
    targets: TARGETS,
    keepCopy: i % 2 === 0,
    conditions: { match: 'any', subjectContains: Array.from({ length: 20 }, () => long(200, '订单 <!channel> ')), senderContains: Array.from({ length: 20 }, () => long(200, 'vip&')) },
    expiresAt: '2027-01-31T18:00:00+08:00',
    owner: long(200, 'owner <@U1> '),
    reason: long(1000, 'reason <!here> '),
    createdBy: 'U0123456789',
    createdAt: '2026-12-31T10:00:00.000Z',
  };
}

function worstRun(count: number, rules: ForwardingRule[]): AuditRun {
  const findings: Finding[] = Array.from({ length: count }, (_, i) => {
    const kind = FINDING_KINDS[i % FINDING_KINDS.length]!;
    const rule = rules[i % rules.length]!;
    return {
      severity: SEVERITY_OF[kind],
      kind,
      mailbox: MAILBOX,
      targets: TARGETS,
      detail: `${i % 3 === 0 ? `rule ${rule.id} ` : ''}${long(20_000, 'forwards to <!channel> & free mail; ')}`,
      ...(i % 2 ? { freeMail: true as const } : {}),
      ...(i % 3 === 0 ? { ruleIds: [rule.id] } : {}),
    };
  }).sort((a, b) => FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind));
  return {
    findings,
    summary: summarize(findings, { unreadableCount: 123_456 }),
    change: { new: findings.slice(0, 500), resolved: findings.slice(500, 1000) },
    at: '2027-01-04T01:00:00.000Z',
    mailboxesRead: 100_000,
    csv: 'severity,kind,mailbox,targets,detail,free_mail,rule_ids\n',
  };
}

describe('the /forward and audit builders stay within Slack limits on worst-case input', () => {
  const rules = Array.from({ length: 300 }, (_, i) => worstRule(i));

  it('the /forward help, listing and notices', () => {
    within({ kind: 'message', ...forwardHelp(long(300, 'example.') + 'test') });
    within({ kind: 'message', ...forwardList(rules, MAILBOX) });
    within({ kind: 'message', ...forwardList(rules.slice(0, 1)) });
    within({ kind: 'message', ...forwardList([], long(5000)) });
    const offboardings = Array.from({ length: 60 }, (_, i) => ({ requestId: `ob-${String(i).padStart(16, 'b')}`, mailbox: MAILBOX, targets: TARGETS, keepCopy: i % 2 === 0, expiresAt: '2027-02-21' }));
    within({ kind: 'message', ...forwardList(rules, MAILBOX, offboardings) });
    within({ kind: 'message', ...forwardList(rules.slice(0, 20), MAILBOX, offboardings) });
    within({ kind: 'message', ...forwardList([], long(5000), offboardings) });
    within({ kind: 'message', ...forwardEndedMessage(offboardings[0]!) });
    // Every Remove button carries only an id: a rule's or an offboarding's.
    const mixed = forwardList(rules.slice(0, 2), undefined, offboardings.slice(0, 2)).blocks;
    const ids = mixed.flatMap((b) => ((b as { accessory?: { value: string } }).accessory ? [(b as { accessory: { value: string } }).accessory.value] : []));
    expect(ids).toEqual([rules[0]!.id, rules[1]!.id, offboardings[0]!.requestId, offboardings[1]!.requestId]);
    expect(JSON.stringify(mixed)).toContain('set by offboarding `ob-');
    within({ kind: 'message', ...forwardAddedMessage(rules[0]!) });
    within({ kind: 'message', ...forwardRemovedMessage(rules[0]!, 'U0123456789') });
    const values = forwardList(rules).blocks.flatMap((b) => ((b as { accessory?: { value?: string } }).accessory ? [(b as { accessory: { value: string } }).accessory.value] : []));
    expect(values.every((v) => /^fw-[a]*\d+$/.test(v))).toBe(true);
  });

  it('the /forward add modal and its other views', () => {
    const values = {
      ...emptyForwardForm(long(5000)),
      targets: long(10_000, `${TARGETS[0]}\n`),
      subject: long(10_000, '订单\n'),
      sender: long(10_000, 'vip@x\n'),
      match: 'any' as const,
      expires: '2027-01-31',
      owner: long(5000),
      reason: long(10_000),
    };
    within({ kind: 'modal', view: forwardModal(values, { responseUrl: `https://hooks.slack.com/commands/T1/${long(3000, '1')}`, channel: 'C1' }, long(10_000, 'refused <!channel> ')) });
    within({ kind: 'modal', view: forwardModal(emptyForwardForm(), {}) });
    within({ kind: 'modal', view: forwardCheckingModal(long(5000)) });
    within({ kind: 'modal', view: forwardAddedModal(rules[0]!) });
  });

  it('the audit report with thousands of findings, a long change list and an unreadable note', () => {
    const run = worstRun(5000, rules);
    const report = auditReportMessage(run, { rules, date: '2027-01-04' });
    within({ kind: 'message', ...report });
    within({ kind: 'message', ...auditReportMessage(run, { onDemand: true }) });
    within({ kind: 'message', ...auditReportMessage({ ...run, findings: [], summary: summarize([]), change: undefined }) });
    const buttons = report.blocks.flatMap((b) => ((b as { accessory?: { value: string } }).accessory ? [(b as { accessory: { value: string } }).accessory.value] : []));
    expect(buttons.length).toBeGreaterThan(0);
    expect(buttons.every((v) => rules.some((r) => r.id === v))).toBe(true);
  });

  it('the expiry notice and the removal request', () => {
    const notices: ExpiryNotice[] = Array.from({ length: 500 }, (_, i) => ({ kind: i % 2 ? 'rule' : 'offboarding_forward', id: `fw-${i}`, mailbox: MAILBOX, targets: TARGETS, expiresAt: '2027-01-31' }));
    within({ kind: 'message', ...expiryNoticesMessage(notices) });
    const approvers = Array.from({ length: 300 }, (_, i) => `U${String(i).padStart(10, '0')}`);
    const request = removalRequestMessage(rules[0]!, 'U0123456789', approvers);
    within({ kind: 'message', ...request });
    within({ kind: 'message', text: 'done', blocks: removalDoneBlocks(request.blocks, long(5000)) });
    const values = request.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => (e as { value?: string }).value) : []));
    expect(values).toEqual([rules[0]!.id]);
  });
});
