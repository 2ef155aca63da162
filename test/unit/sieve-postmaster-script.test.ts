import { describe, expect, it } from 'vitest';
import { isPostmasterError } from '../../src/core/errors.js';
import { extractForwarding } from '../../src/providers/dovecot/sieve/forwarding.js';
import { parseScript } from '../../src/providers/dovecot/sieve/parser.js';
import {
  isEmptyState,
  parsePostmasterScript,
  POSTMASTER_SCRIPT_NAME,
  renderPostmasterScript,
  type PostmasterSieveState,
} from '../../src/providers/dovecot/sieve/postmaster-script.js';

const tricky = 'Grüße "quoted" \\back\\slash 订单 🎉';

const full: PostmasterSieveState = {
  userScript: 'my "rules" \\ 规则',
  forward: { targets: ['dave@external.test', 'erin@external.test'], keepCopy: true, expiresAt: '2031-06-30' },
  autoReply: {
    subject: `Out of office: ${tricky}`,
    body: `Hello,\n\nI have left. ${tricky}\n.\n..a line with dots\r\nAsk bob@example.test.\n`,
    addresses: ['alice@example.test', 'a.smith@example.test'],
    startDate: '2020-01-01',
    endDate: '2031-12-31T17:00:00+08:00',
    days: 3,
  },
  rules: [
    { id: 'r-1', targets: ['orders@external.test'], keepCopy: true, match: 'any', senderContains: ['shop.example'], subjectContains: ['订单', 'a "b" \\ c'] },
    { id: 'r-2', targets: ['boss@external.test'], keepCopy: false, match: 'all', senderContains: ['ceo@'], subjectContains: ['urgent'] },
  ],
};

describe('the postmaster script', () => {
  it('round-trips its state exactly, with unicode, quotes, backslashes and line breaks', () => {
    const text = renderPostmasterScript(full);
    expect(parsePostmasterScript(text)).toEqual(full);
    const stateLine = text.split('\n').find((line) => line.startsWith('# postmaster-state'))!;
    // eslint-disable-next-line no-control-regex
    expect(stateLine).toMatch(/^[\x20-\x7e]+$/);
  });

  it('renders valid Sieve that the reader parses, in the documented order', () => {
    const text = renderPostmasterScript(full);
    const commands = parseScript(text);
    expect(commands.map((c) => c.name)).toEqual(['require', 'if', 'if', 'if', 'if', 'include']);
    expect(commands[0]!.args[0]).toEqual({ type: 'string-list', values: ['copy', 'date', 'relational', 'vacation', 'include'], line: 4 });
    expect(text.trimEnd().endsWith(`include :personal :optional "my \\"rules\\" \\\\ 规则";`)).toBe(true);
  });

  it('carries subject and body through Sieve quoting and dot-stuffing unchanged', () => {
    const commands = parseScript(renderPostmasterScript(full));
    const vacation = commands[4]!.block![0]!;
    expect(vacation.name).toBe('vacation');
    const string = (i: number) => vacation.args[i]!;
    expect(vacation.args.map((a) => (a.type === 'tag' ? `:${a.name}` : a.type))).toEqual([':days', 'number', ':subject', 'string', ':addresses', 'string-list', 'string']);
    expect(string(3)).toMatchObject({ value: full.autoReply!.subject });
    // text: normalizes line breaks to \n; everything else is exact.
    expect(string(6)).toMatchObject({ value: full.autoReply!.body.replace(/\r\n/g, '\n') });
  });

  it('puts a one-line body in a quoted string', () => {
    const text = renderPostmasterScript({ userScript: null, autoReply: { subject: 'Away', body: `Back soon. ${tricky}`, addresses: [] } });
    expect(text).toContain(`vacation :subject "Away" "Back soon. Grüße \\"quoted\\" \\\\back\\\\slash 订单 🎉";`);
    expect(parseScript(text)[1]!.args.at(-1)).toMatchObject({ value: `Back soon. ${tricky}` });
  });

  it('lets the reader find every redirect, conditional rules first', () => {
    const result = extractForwarding(renderPostmasterScript(full), { scriptName: POSTMASTER_SCRIPT_NAME });
    expect(result.redirects.map((r) => [r.target, r.copy, r.conditional])).toEqual([
      ['orders@external.test', true, true],
      ['boss@external.test', false, true],
      ['dave@external.test', true, true],
      ['erin@external.test', true, true],
    ]);
    expect(result.redirects[0]!.condition).toBe('anyof(address :contains "from" "shop.example", header :contains "subject" "订单", header :contains "subject" "a \\"b\\" \\\\ c")');
    expect(result.redirects[1]!.condition).toBe('allof(address :contains "from" "ceo@", header :contains "subject" "urgent")');
    expect(result.redirects[2]!.condition).toBe('currentdate :value "le" "date" "2031-06-30"');
    expect(result.includes).toEqual([full.userScript]);
    expect(result.hasVacation).toBe(true);
  });

  it('forwards every message for a rule without conditions, until its expiry when it has one', () => {
    const state: PostmasterSieveState = {
      userScript: null,
      rules: [
        { id: 'always', targets: ['a@x.test'], keepCopy: true, match: 'all' },
        { id: 'until', targets: ['b@x.test'], keepCopy: false, match: 'any', expiresAt: '2031-06-30' },
        { id: 'both', targets: ['c@x.test'], keepCopy: true, match: 'any', subjectContains: ['x', 'y'], expiresAt: '2031-06-30' },
      ],
    };
    const text = renderPostmasterScript(state);
    expect(text).toContain('# Rule "always"\nredirect :copy "a@x.test";\n');
    expect(text).toContain('# Rule "until"\nif currentdate :value "le" "date" "2031-06-30" {\n  redirect "b@x.test";\n}');
    expect(text).toContain('if allof(currentdate :value "le" "date" "2031-06-30", anyof(header :contains "subject" "x", header :contains "subject" "y")) {');
    expect(parsePostmasterScript(text)).toEqual(state);
    expect(extractForwarding(text).redirects.map((r) => [r.target, r.copy, r.conditional])).toEqual([
      ['a@x.test', true, false],
      ['b@x.test', false, true],
      ['c@x.test', true, true],
    ]);
  });

  it('requires only what it uses', () => {
    const plain = renderPostmasterScript({ userScript: null, forward: { targets: ['a@x.test'], keepCopy: false } });
    expect(plain).not.toContain('require');
    expect(plain).toContain('\nredirect "a@x.test";\n');
    const copy = renderPostmasterScript({ userScript: 'mine', forward: { targets: ['a@x.test'], keepCopy: true } });
    expect(copy).toContain('require ["copy", "include"];');
    expect(extractForwarding(copy).redirects).toEqual([{ target: 'a@x.test', copy: true, conditional: false, script: 'main' }]);
    const vacation = renderPostmasterScript({ userScript: null, autoReply: { subject: 's', body: 'b', addresses: [] } });
    expect(vacation).toContain('require "vacation";');
    expect(vacation).not.toContain('currentdate');
  });

  it('compares timestamps in UTC and plain dates as dates', () => {
    const text = renderPostmasterScript({ userScript: null, autoReply: { subject: 's', body: 'b', addresses: [], startDate: '2031-01-01T09:30:00.500+02:00' } });
    expect(text).toContain('if currentdate :zone "+0000" :value "ge" "iso8601" "2031-01-01T07:30:00Z" {');
  });

  it('returns undefined for a script that is not Postmaster\'s', () => {
    expect(parsePostmasterScript('require "fileinto";\nfileinto "x";\n')).toBeUndefined();
    expect(parsePostmasterScript('')).toBeUndefined();
  });

  it('refuses a hand-edited state line rather than guessing', () => {
    const text = renderPostmasterScript(full).replace('"keepCopy":true', '"keepCopy":"yes"');
    expect(() => parsePostmasterScript(text)).toThrow(/unreadable state/);
    expect(() => parsePostmasterScript('# postmaster-state v1: {not json')).toThrow(/unreadable state/);
  });

  it('refuses states it cannot render safely', () => {
    const refuses = (state: PostmasterSieveState, message: RegExp) => {
      try {
        renderPostmasterScript(state);
        expect.unreachable();
      } catch (error) {
        expect(isPostmasterError(error, 'BadInput')).toBe(true);
        expect((error as Error).message).toMatch(message);
      }
    };
    refuses({ userScript: POSTMASTER_SCRIPT_NAME, forward: { targets: ['a@x.test'], keepCopy: true } }, /userScript/);
    refuses({ userScript: null, autoReply: { subject: 'a\nBcc: x@evil.test', body: '', addresses: [] } }, /subject/);
    refuses({ userScript: null, forward: { targets: ['a@x.test'], keepCopy: true, expiresAt: 'next tuesday' } }, /expiresAt/);
  });

  it('is empty with no forward, no auto-reply and no rules', () => {
    expect(isEmptyState({ userScript: 'mine' })).toBe(true);
    expect(isEmptyState({ userScript: null, forward: { targets: [], keepCopy: true }, rules: [] })).toBe(true);
    expect(isEmptyState({ userScript: null, forward: { targets: ['a@x.test'], keepCopy: true } })).toBe(false);
    expect(isEmptyState({ userScript: null, autoReply: { subject: 's', body: 'b', addresses: [] } })).toBe(false);
    expect(isEmptyState({ userScript: null, rules: full.rules })).toBe(false);
  });
});
