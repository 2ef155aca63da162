import { describe, expect, it } from 'vitest';
import { findingKey, sortFindings, type Finding } from '../../src/core/findings/model.js';
import { buildReport, diffFindings, findingsCsv, summarize } from '../../src/core/findings/report.js';
import { sensitiveMatcher } from '../../src/core/forwarding/sensitive.js';

const finding = (over: Partial<Finding> & Pick<Finding, 'kind' | 'mailbox'>): Finding => ({
  severity: 'high',
  targets: [],
  detail: 'x',
  ...over,
});

const loop = finding({ severity: 'critical', kind: 'loop', mailbox: 'a@x.test', targets: ['a@x.test', 'b@x.test'], detail: 'forwarding loops: a@x.test -> b@x.test -> a@x.test' });
const external = finding({ kind: 'external', mailbox: 'c@x.test', targets: ['z@gmail.com'], freeMail: true });
const unreadable = finding({ severity: 'medium', kind: 'unreadable_script', mailbox: 'd@x.test' });
const owner = finding({ severity: 'low', kind: 'no_owner', mailbox: 'e@x.test', targets: ['f@x.test'] });

describe('summarize', () => {
  it('counts by severity and leads with the worst', () => {
    const summary = summarize([loop, external, unreadable, owner, owner]);
    expect(summary.counts).toEqual({ critical: 1, high: 1, medium: 1, low: 2, info: 0 });
    expect(summary.total).toBe(5);
    expect(summary.headline).toBe('5 forwarding findings: 1 critical, 1 high, 1 medium, 2 low');
    expect(summary.unreadableNote).toBeUndefined();
  });

  it('says the domain is clean only when everything was read', () => {
    expect(summarize([]).headline).toBe('No forwarding findings: all forwarding was read and none needs attention');
    const partial = summarize([], { unreadableCount: 12 });
    expect(partial.unreadableMailboxes).toBe(12);
    expect(partial.unreadableNote).toBe('forwarding for 12 mailboxes could not be read through the API');
    expect(partial.headline).toBe('No findings in the forwarding that could be read, but forwarding for 12 mailboxes could not be read through the API');
    expect(partial.headline).not.toMatch(/^No forwarding findings/);
  });

  it('adds the unread count to a report with findings, in the singular for one', () => {
    expect(summarize([owner], { unreadableCount: 1 }).headline).toBe('1 forwarding finding: 1 low; forwarding for 1 mailbox could not be read through the API');
  });
});

describe('findingKey and diffFindings', () => {
  it('keys on kind, mailbox and the set of targets, not on the detail or target order', () => {
    const a = finding({ kind: 'external', mailbox: 'c@x.test', targets: ['b@y.test', 'a@y.test'], detail: 'week 1' });
    const b = finding({ kind: 'external', mailbox: 'c@x.test', targets: ['a@y.test', 'b@y.test'], detail: 'week 2, reworded' });
    expect(findingKey(a)).toBe(findingKey(b));
    expect(findingKey(a)).toBe('external|c@x.test|a@y.test,b@y.test');
    expect(findingKey({ ...b, kind: 'dead_target' })).not.toBe(findingKey(b));
  });

  it('lists what is new this week and what was resolved since last week', () => {
    const added = finding({ kind: 'dead_target', mailbox: 'g@x.test', targets: ['h@x.test'] });
    const changed = { ...external, targets: ['z@gmail.com', 'q@qq.com'] };
    const diff = diffFindings([loop, external, unreadable, owner], [{ ...loop, detail: 'reworded' }, changed, owner, added]);
    expect(diff.new).toEqual(sortFindings([changed, added]));
    expect(diff.resolved).toEqual([external, unreadable]);
  });

  it('does not depend on the order the lists come in', () => {
    const previous = [owner, loop, external];
    const current = [unreadable, owner, loop];
    expect(diffFindings(previous, current)).toEqual({ new: [unreadable], resolved: [external] });
    expect(diffFindings([], [])).toEqual({ new: [], resolved: [] });
  });
});

describe('findingsCsv', () => {
  it('writes the header and one row per finding, free mail and the rules behind it as columns', () => {
    expect(findingsCsv([external]).split('\n')).toEqual(['severity,kind,mailbox,targets,detail,free_mail,rule_ids', 'high,external,c@x.test,z@gmail.com,x,true,', '']);
    expect(findingsCsv([{ ...external, ruleIds: ['fw-1', 'fw-2'] }]).split('\n')[1]).toBe('high,external,c@x.test,z@gmail.com,x,true,fw-1; fw-2');
    expect(findingsCsv([])).toBe('severity,kind,mailbox,targets,detail,free_mail,rule_ids\n');
  });

  it('quotes commas, quotes and line breaks, and keeps Chinese text as is', () => {
    const tricky = finding({
      kind: 'unreadable_script',
      severity: 'medium',
      mailbox: 'd@x.test',
      targets: ['a@x.test', 'b@x.test'],
      detail: 'forwarding could not be read: line 2: expected "}", got 订单,发票\nnear here',
    });
    expect(findingsCsv([tricky])).toBe(
      'severity,kind,mailbox,targets,detail,free_mail,rule_ids\n' + 'medium,unreadable_script,d@x.test,a@x.test; b@x.test,"forwarding could not be read: line 2: expected ""}"", got 订单,发票\nnear here",,\n',
    );
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    const evil = finding({ kind: 'external', mailbox: 'c@x.test', targets: ['=HYPERLINK("http://evil.test")@evil.test'], detail: '+1 pwned' });
    const row = findingsCsv([evil]).split('\n')[1]!;
    expect(row).toBe(`high,external,c@x.test,"'=HYPERLINK(""http://evil.test"")@evil.test",'+1 pwned,,`);
  });

  it('adds a byte-order mark for Excel only when asked', () => {
    expect(findingsCsv([loop]).charCodeAt(0)).not.toBe(0xfeff);
    expect(findingsCsv([loop], { bom: true }).charCodeAt(0)).toBe(0xfeff);
  });

  it('keeps every row across its internal slices, with one header', () => {
    const many = Array.from({ length: 4_500 }, (_, i) => finding({ kind: 'no_owner', severity: 'low', mailbox: `m${String(i).padStart(5, '0')}@x.test` }));
    const lines = findingsCsv(many).trimEnd().split('\n');
    expect(lines).toHaveLength(4_501);
    expect(lines.filter((line) => line.startsWith('severity,'))).toHaveLength(1);
    expect(lines[4_500]).toBe('low,no_owner,m04499@x.test,,x,,');
  });
});

describe('buildReport', () => {
  it('runs the audit and summarizes it, with the change since last week when there was one', () => {
    const input = {
      domain: 'x.test',
      now: new Date('2027-03-01T00:00:00Z'),
      mailboxes: [{ address: 'a@x.test', status: 'active' as const }],
      forwarding: [{ mailbox: 'a@x.test', readable: true as const, targets: ['z@gmail.com'], conditional: false, source: 'user' as const }],
      rules: [],
      offboardings: [],
      allowedDomains: [],
      sensitive: sensitiveMatcher(''),
      unreadableCount: 3,
    };
    const first = buildReport(input);
    expect(first.change).toBeUndefined();
    expect(first.summary.headline).toBe('2 forwarding findings: 1 high, 1 low; forwarding for 3 mailboxes could not be read through the API');
    const second = buildReport({ ...input, forwarding: [] }, first.findings);
    expect(second.findings).toEqual([]);
    expect(second.change).toEqual({ new: [], resolved: first.findings });
  });
});
