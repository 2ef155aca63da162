import { describe, expect, it } from 'vitest';
import { auditForwarding, computeFindings, type AuditSnapshot, type ForwardingEntry } from '../../src/core/findings/audit.js';
import { FINDING_KINDS, SEVERITY_OF, type Finding } from '../../src/core/findings/model.js';
import { sensitiveMatcher } from '../../src/core/forwarding/sensitive.js';
import type { ForwardingRule } from '../../src/core/forwarding/rule.js';

const D = 'example.test';
const NOW = new Date('2027-03-01T02:00:00Z'); // 10:00 on 1 March in Shanghai
const at = (name: string) => (name.includes('@') ? name : `${name}@${D}`);

function forwards(mailbox: string, targets: string[], extra: Partial<Extract<ForwardingEntry, { readable: true }>> = {}): ForwardingEntry {
  return { mailbox: at(mailbox), readable: true, targets: targets.map(at), conditional: false, source: 'user', ...extra };
}

function rule(id: string, mailbox: string, targets: string[], extra: Partial<ForwardingRule> = {}): ForwardingRule {
  return { id, mailbox: at(mailbox), targets: targets.map(at), keepCopy: true, owner: 'team-mail', expiresAt: '2027-12-31', createdBy: 'U1', createdAt: '2027-01-01T00:00:00.000Z', ...extra };
}

function snapshot(overrides: Partial<AuditSnapshot> = {}): AuditSnapshot {
  const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'finance-ap', 'left', 'off'];
  return {
    domain: D,
    now: NOW,
    timeZone: 'Asia/Shanghai',
    mailboxes: names.map((n) => ({ address: at(n), status: n === 'left' || n === 'off' ? ('disabled' as const) : ('active' as const) })),
    forwarding: [],
    rules: [],
    offboardings: [],
    allowedDomains: ['partner.example'],
    sensitive: sensitiveMatcher(`finance-*@${D}`),
    ...overrides,
  };
}

const only = (findings: Finding[], kind: Finding['kind']) => findings.filter((f) => f.kind === kind);

describe('forwarding audit', () => {
  it('finds nothing in a domain whose forwarding is all fine', () => {
    const findings = computeFindings(snapshot({ forwarding: [forwards('alice', ['bob'], { source: 'postmaster', ruleId: 'fw-1' })], rules: [rule('fw-1', 'alice', ['bob'])] }));
    expect(findings).toEqual([]);
  });

  it('reports a loop as critical, naming every mailbox in it, user scripts included', () => {
    const findings = computeFindings(snapshot({ forwarding: [forwards('carol', ['dave']), forwards('dave', ['erin']), forwards('erin', ['carol'], { source: 'postmaster', ruleId: 'fw-9' })] }));
    expect(only(findings, 'loop')).toEqual([
      { severity: 'critical', kind: 'loop', mailbox: at('carol'), targets: [at('carol'), at('dave'), at('erin')], detail: `forwarding loops: ${at('carol')} -> ${at('dave')} -> ${at('erin')} -> ${at('carol')}`, ruleIds: ['fw-9'] },
    ]);
  });

  it('reports a self-forward and a conditional loop, saying the loop needs a condition', () => {
    const findings = computeFindings(snapshot({ forwarding: [forwards('alice', ['alice']), forwards('bob', ['carol'], { conditional: true }), forwards('carol', ['bob'])] }));
    const loops = only(findings, 'loop');
    expect(loops.map((f) => f.targets)).toEqual([[at('alice')], [at('bob'), at('carol')]]);
    expect(loops[1]!.detail).toMatch(/only mail that meets a forwarding condition goes round/);
  });

  it('names the extra members when one group holds more than the loop it shows', () => {
    const findings = computeFindings(snapshot({ forwarding: [forwards('alice', ['bob']), forwards('bob', ['alice', 'carol']), forwards('carol', ['bob'])] }));
    expect(only(findings, 'loop')).toEqual([expect.objectContaining({ targets: [at('alice'), at('bob'), at('carol')], detail: expect.stringMatching(/1 more mailbox\(es\) forward within the same loop$/) })]);
  });

  it('reports a sensitive mailbox forwarding out as critical, instead of a plain external finding', () => {
    const findings = computeFindings(snapshot({ forwarding: [forwards('finance-ap', ['bob', 'x@partner.example', 'y@gmail.com'])] }));
    expect(only(findings, 'external')).toEqual([]);
    expect(only(findings, 'sensitive_external')).toEqual([
      {
        severity: 'critical',
        kind: 'sensitive_external',
        mailbox: at('finance-ap'),
        targets: ['x@partner.example', 'y@gmail.com'],
        detail: `sensitive mailbox (SENSITIVE_MAILBOXES) forwards outside ${D} to x@partner.example, y@gmail.com (free mail: y@gmail.com)`,
        freeMail: true,
      },
    ]);
  });

  it('reports external forwarding as high, free mail flagged apart, allowlisted or not', () => {
    const findings = computeFindings(snapshot({ forwarding: [forwards('alice', ['z@qq.com', 'x@partner.example', 'y@other.example', 'w@163.com'])] }));
    expect(only(findings, 'external')).toEqual([
      { severity: 'high', kind: 'external', mailbox: at('alice'), targets: ['w@163.com', 'z@qq.com'], detail: `forwards to free mail outside ${D}: w@163.com, z@qq.com`, freeMail: true },
      {
        severity: 'high',
        kind: 'external',
        mailbox: at('alice'),
        targets: ['x@partner.example', 'y@other.example'],
        detail: `forwards outside ${D} to y@other.example (not on FORWARD_ALLOWED_DOMAINS); x@partner.example (allowlisted)`,
      },
    ]);
  });

  it('reports forwarding to a disabled or missing mailbox as high', () => {
    const findings = computeFindings(snapshot({ forwarding: [forwards('alice', ['left', 'nobody', 'bob'])] }));
    expect(only(findings, 'dead_target')).toEqual([
      { severity: 'high', kind: 'dead_target', mailbox: at('alice'), targets: [at('left'), at('nobody')], detail: `forwards to ${at('left')} (disabled), ${at('nobody')} (does not exist)` },
    ]);
  });

  it('reports an offboarded mailbox still forwarding after its end date', () => {
    const forwarding = [forwards('left', ['bob'], { source: 'postmaster' }), forwards('off', ['carol'], { source: 'postmaster' }), forwards('frank', ['dave'], { source: 'postmaster' })];
    const offboardings = [
      { mailbox: at('left'), endDate: '2027-02-28', state: 'completed' },
      // Waiting out retention before its delete: disabled, so offboarded.
      { mailbox: at('off'), endDate: '2027-02-28', state: 'scheduled' },
      // Not offboarded yet (never approved), or the forward still runs today (in Shanghai).
      { mailbox: at('frank'), endDate: '2027-02-01', state: 'pending_approval' },
    ];
    const findings = computeFindings(snapshot({ forwarding, offboardings }));
    expect(only(findings, 'offboarded_forwarding')).toEqual([
      { severity: 'high', kind: 'offboarded_forwarding', mailbox: at('left'), targets: [at('bob')], detail: `offboarded, and its forward ended 2027-02-28, but it still forwards to ${at('bob')}` },
      expect.objectContaining({ kind: 'offboarded_forwarding', mailbox: at('off') }),
    ]);
    const stillRunning = computeFindings(snapshot({ forwarding, offboardings: [{ mailbox: at('left'), endDate: '2027-03-01', state: 'completed' }] }));
    expect(only(stillRunning, 'offboarded_forwarding')).toEqual([]);
  });

  it('reports a Postmaster rule past its expiry that is still active as medium', () => {
    const rules = [rule('fw-1', 'alice', ['bob'], { expiresAt: '2027-02-28' }), rule('fw-2', 'carol', ['dave'], { expiresAt: '2027-02-28' }), rule('fw-3', 'erin', ['bob'], { expiresAt: '2027-03-01' })];
    const forwarding = [
      forwards('alice', ['bob'], { source: 'postmaster', ruleId: 'fw-1' }),
      // The provider read carol and fw-2 is gone: not active any more.
      forwards('carol', ['erin']),
      forwards('erin', ['bob'], { source: 'postmaster', ruleId: 'fw-3' }),
    ];
    const findings = computeFindings(snapshot({ forwarding, rules }));
    expect(only(findings, 'expired_active')).toEqual([
      { severity: 'medium', kind: 'expired_active', mailbox: at('alice'), targets: [at('bob')], detail: 'rule fw-1 expired 2027-02-28 but is still active', ruleIds: ['fw-1'] },
    ]);
  });

  it('counts an expired rule as active when its mailbox could not be read', () => {
    const findings = computeFindings(snapshot({ forwarding: [{ mailbox: at('alice'), readable: false, error: 'boom' }], rules: [rule('fw-1', 'alice', ['bob'], { expiresAt: '2027-01-31' })] }));
    expect(only(findings, 'expired_active')).toHaveLength(1);
  });

  it('matches readings to rules whatever case the provider spells the mailbox in', () => {
    const rules = [rule('fw-1', 'alice', ['bob'], { expiresAt: '2027-02-28' }), rule('fw-2', 'carol', ['dave'], { expiresAt: '2027-02-28' })];
    const forwarding = [
      // Read, and fw-1 is gone: not active any more.
      { ...forwards('alice', ['erin']), mailbox: `ALICE@${D.toUpperCase()}` },
      // Read in part only: a script that could not be read might still hold fw-2.
      forwards('carol', ['erin']),
      { mailbox: `Carol@${D}`, readable: false as const, error: 'line 1: unexpected "}"' },
    ];
    const findings = computeFindings(snapshot({ forwarding, rules }));
    expect(only(findings, 'expired_active').map((f) => f.mailbox)).toEqual([at('carol')]);
  });

  it('counts an expired rule as active while a Postmaster edge without a rule id still goes to its targets', () => {
    const rules = [rule('fw-1', 'alice', ['bob'], { expiresAt: '2027-02-28' }), rule('fw-2', 'carol', ['dave'], { expiresAt: '2027-02-28' })];
    const forwarding = [forwards('alice', ['bob'], { source: 'postmaster' }), forwards('carol', ['dave'], { source: 'postmaster', ruleId: 'fw-9' })];
    const findings = computeFindings(snapshot({ forwarding, rules }));
    expect(only(findings, 'expired_active').map((f) => f.mailbox)).toEqual([at('alice')]);
  });

  it('reports more than 5 addresses in all, across a mailbox\'s rules and script, as medium', () => {
    const forwarding = [forwards('alice', ['bob', 'carol', 'dave'], { source: 'postmaster', ruleId: 'fw-1' }), forwards('alice', ['erin', 'frank', 'grace', 'bob'])];
    const findings = computeFindings(snapshot({ forwarding }));
    expect(only(findings, 'too_many_targets')).toEqual([
      { severity: 'medium', kind: 'too_many_targets', mailbox: at('alice'), targets: ['bob', 'carol', 'dave', 'erin', 'frank', 'grace'].map(at), detail: 'forwards to 6 addresses (at most 5)', ruleIds: ['fw-1'] },
    ]);
  });

  it('names the Postmaster rules behind a finding\'s forwards, and none for the owner\'s own script', () => {
    const forwarding = [
      forwards('alice', ['x@gmail.com'], { source: 'postmaster', ruleId: 'fw-1' }),
      forwards('alice', ['left'], { source: 'postmaster', ruleId: 'fw-2' }),
      forwards('alice', ['y@qq.com']),
      forwards('bob', ['z@gmail.com']),
    ];
    const findings = computeFindings(snapshot({ forwarding }));
    const external = only(findings, 'external');
    expect(external.map((f) => [f.mailbox, f.targets, f.ruleIds])).toEqual([
      [at('alice'), ['x@gmail.com', 'y@qq.com'], ['fw-1']],
      [at('bob'), ['z@gmail.com'], undefined],
    ]);
    expect(only(findings, 'dead_target').map((f) => f.ruleIds)).toEqual([['fw-2']]);
  });

  it('reports a script that cannot be read as medium, never a crash', () => {
    const findings = computeFindings(snapshot({ forwarding: [{ mailbox: at('alice'), readable: false, error: 'line 3: unterminated string' }] }));
    expect(findings).toEqual([{ severity: 'medium', kind: 'unreadable_script', mailbox: at('alice'), targets: [], detail: 'forwarding could not be read: line 3: unterminated string' }]);
  });

  it('reports rules without an owner or an expiry, and users\' own forwarding, as low', () => {
    const rules = [rule('fw-1', 'alice', ['bob'], { owner: undefined }), rule('fw-2', 'carol', ['bob'], { expiresAt: undefined }), rule('fw-3', 'dave', ['bob'], { owner: undefined, expiresAt: undefined })];
    const forwarding = [...rules.map((r) => forwards(r.mailbox, r.targets, { source: 'postmaster', ruleId: r.id })), forwards('erin', ['frank'], { conditional: true })];
    const findings = only(computeFindings(snapshot({ forwarding, rules })), 'no_owner');
    expect(findings.map((f) => [f.severity, f.mailbox, f.detail])).toEqual([
      ['low', at('alice'), 'rule fw-1 has no owner'],
      ['low', at('carol'), 'rule fw-2 has no expiry'],
      ['low', at('dave'), 'rule fw-3 has no owner and no expiry'],
      ['low', at('erin'), "forwarding set up in the mailbox's own Sieve script, outside Postmaster: no owner and no expiry"],
    ]);
  });

  it('lists rules created in the last 7 days as info', () => {
    const rules = [rule('fw-new', 'alice', ['bob'], { createdAt: '2027-02-23T03:00:00.000Z' }), rule('fw-old', 'carol', ['bob'], { createdAt: '2027-02-22T01:00:00.000Z' })];
    const findings = computeFindings(snapshot({ rules, forwarding: rules.map((r) => forwards(r.mailbox, r.targets, { source: 'postmaster', ruleId: r.id })) }));
    expect(findings).toEqual([{ severity: 'info', kind: 'recent', mailbox: at('alice'), targets: [at('bob')], detail: 'rule fw-new was created 2027-02-23 by U1', ruleIds: ['fw-new'] }]);
  });

  it('merges two findings that would share a key, keeping both details', () => {
    const rules = [rule('fw-1', 'alice', ['bob'], { owner: undefined }), rule('fw-2', 'alice', ['bob'], { owner: undefined })];
    const findings = only(computeFindings(snapshot({ rules })), 'no_owner');
    expect(findings).toEqual([expect.objectContaining({ mailbox: at('alice'), detail: 'rule fw-1 has no owner; rule fw-2 has no owner', ruleIds: ['fw-1', 'fw-2'] })]);
  });

  it('gives every kind its one severity, in severity, kind, mailbox order, whatever the input order', () => {
    const forwarding: ForwardingEntry[] = [
      forwards('alice', ['bob']),
      forwards('bob', ['alice', 'left', 'y@gmail.com', 'carol', 'dave', 'erin']),
      forwards('finance-ap', ['x@partner.example']),
      forwards('left', ['carol'], { source: 'postmaster', ruleId: 'fw-1' }),
      { mailbox: at('grace'), readable: false, error: 'bad' },
    ];
    const rules = [rule('fw-1', 'left', ['carol'], { expiresAt: '2027-02-01', owner: undefined, createdAt: '2027-02-27T00:00:00.000Z' })];
    const input = snapshot({ forwarding, rules, offboardings: [{ mailbox: at('left'), endDate: '2027-02-01', state: 'completed' }] });
    const findings = computeFindings(input);
    expect(new Set(findings.map((f) => f.kind))).toEqual(new Set(FINDING_KINDS));
    for (const f of findings) expect(f.severity).toBe(SEVERITY_OF[f.kind]);
    expect(findings.map((f) => `${f.severity} ${f.kind} ${f.mailbox}`)).toEqual([
      `critical loop ${at('alice')}`,
      `critical sensitive_external ${at('finance-ap')}`,
      `high external ${at('bob')}`,
      `high dead_target ${at('bob')}`,
      `high offboarded_forwarding ${at('left')}`,
      `medium expired_active ${at('left')}`,
      `medium too_many_targets ${at('bob')}`,
      `medium unreadable_script ${at('grace')}`,
      `low no_owner ${at('alice')}`,
      `low no_owner ${at('bob')}`,
      `low no_owner ${at('finance-ap')}`,
      `low no_owner ${at('left')}`,
      `info recent ${at('left')}`,
    ]);
    const reversed = computeFindings({ ...input, forwarding: [...forwarding].reverse(), mailboxes: [...input.mailboxes].reverse() });
    expect(reversed).toEqual(findings);
  });

  it('returns the loops it found alongside the findings', () => {
    const { cycles } = auditForwarding(snapshot({ forwarding: [forwards('alice', ['bob']), forwards('bob', ['alice'])] }));
    expect(cycles.map((c) => c.path)).toEqual([[at('alice'), at('bob'), at('alice')]]);
  });
});
