import { describe, expect, it } from 'vitest';
import { isPostmasterError, type PostmasterError } from '../../src/core/errors.js';
import { buildGraph, type ForwardEdge } from '../../src/core/forwarding/graph.js';
import { checkRule, isFreeMail, sensitiveMatcher, type GuardrailContext } from '../../src/core/forwarding/guardrails.js';
import type { RuleInput } from '../../src/core/forwarding/rule.js';

const D = 'example.test';
const edge = (from: string, to: string, conditional = false): ForwardEdge => ({ from: `${from}@${D}`, to: to.includes('@') ? to : `${to}@${D}`, conditional, source: 'user' });

function context(overrides: Partial<GuardrailContext> = {}): GuardrailContext {
  const mailboxes = new Map(
    ['alice', 'bob', 'carol', 'dave', 'erin', 'sales', 'director', 'finance-ap', 'gone'].map((name) => [`${name}@${D}`, { status: name === 'gone' ? ('disabled' as const) : ('active' as const) }]),
  );
  return {
    domain: D,
    allowedDomains: ['partner.example', 'gmail.com'],
    sensitive: sensitiveMatcher(`finance-*@${D}, ceo`, D),
    mailboxes,
    graph: buildGraph([]),
    existingRedirects: 0,
    ...overrides,
  };
}

/** The error checkRule throws, so each test can look at code, message and hint. */
function refusal(input: RuleInput, ctx: GuardrailContext = context()): PostmasterError {
  try {
    checkRule(input, ctx);
  } catch (error) {
    if (isPostmasterError(error)) return error;
    throw error;
  }
  throw new Error('the rule was accepted');
}

describe('checkRule', () => {
  it('accepts a good rule and returns it normalized', () => {
    const rule = checkRule(
      { mailbox: 'Alice', targets: ['sales', 'Bob@Example.test', 'bob@example.test', 'x@partner.example'], conditions: { subjectContains: ['订单'] }, expiresAt: '2027-01-31' },
      context({ now: new Date('2027-01-01T00:00:00Z') }),
    );
    expect(rule).toEqual({
      mailbox: `alice@${D}`,
      targets: [`sales@${D}`, `bob@${D}`, 'x@partner.example'],
      keepCopy: true,
      conditions: { match: 'all', subjectContains: ['订单'] },
      expiresAt: '2027-01-31',
    });
  });

  it('refuses more than 5 targets, saying how many', () => {
    const error = refusal({ mailbox: 'alice', targets: ['bob', 'carol', 'dave', 'erin', 'sales', 'director'] });
    expect(error.code).toBe('Refused');
    expect(error.message).toBe('a rule forwards to at most 5 addresses, and this one has 6');
  });

  it('refuses a self-forward, whatever the spelling', () => {
    const error = refusal({ mailbox: 'alice', targets: ['bob', 'ALICE@example.test'] });
    expect(error.code).toBe('Refused');
    expect(error.message).toBe(`alice@${D} cannot forward to itself`);
  });

  it('refuses A -> B when B already forwards to A, naming the loop', () => {
    const error = refusal({ mailbox: 'alice', targets: ['bob'] }, context({ graph: buildGraph([edge('bob', 'alice')]) }));
    expect(error.code).toBe('Refused');
    expect(error.message).toBe(`forwarding would loop: alice@${D} -> bob@${D} -> alice@${D}`);
    expect(error.hint).toBe(`remove bob@${D}'s forward to alice@${D} first, or pick another target`);
  });

  it('refuses a longer loop, through a user-written conditional forward too', () => {
    const graph = buildGraph([edge('bob', 'carol'), edge('carol', 'dave', true), edge('dave', 'alice')]);
    expect(refusal({ mailbox: 'alice', targets: ['bob'] }, context({ graph })).message).toBe(
      `forwarding would loop: alice@${D} -> bob@${D} -> carol@${D} -> dave@${D} -> alice@${D}`,
    );
  });

  it('does not refuse because of a loop elsewhere in the domain (the audit reports those)', () => {
    const graph = buildGraph([edge('carol', 'dave'), edge('dave', 'carol')]);
    expect(() => checkRule({ mailbox: 'alice', targets: ['bob'] }, context({ graph }))).not.toThrow();
  });

  it('refuses an internal target that does not exist, or is disabled', () => {
    const missing = refusal({ mailbox: 'alice', targets: ['bob', 'nobody'] });
    expect(missing.code).toBe('Refused');
    expect(missing.message).toBe(`forward target nobody@${D} does not exist in ${D}`);
    const disabled = refusal({ mailbox: 'alice', targets: ['gone'] });
    expect(disabled.message).toMatch(new RegExp(`^forward target gone@${D} is disabled`));
  });

  it('refuses an external domain that is not on the allowlist, naming the domain and the setting', () => {
    const error = refusal({ mailbox: 'alice', targets: ['x@partner.example', 'y@other.example', 'z@qq.com'] });
    expect(error.code).toBe('Refused');
    expect(error.message).toBe(
      'forwarding to y@other.example, z@qq.com is not allowed: other.example, qq.com are not on FORWARD_ALLOWED_DOMAINS (it allows partner.example, gmail.com)',
    );
    expect(refusal({ mailbox: 'alice', targets: ['y@other.example'] }, context({ allowedDomains: [] })).message).toMatch(/\(it is empty\)$/);
  });

  it('never lets a sensitive mailbox forward outside the domain, allowlist or not', () => {
    const error = refusal({ mailbox: 'finance-ap', targets: ['bob', 'x@partner.example'] });
    expect(error.code).toBe('Refused');
    expect(error.message).toBe(
      `finance-ap@${D} is a sensitive mailbox (SENSITIVE_MAILBOXES) and never forwards outside ${D}, but this rule forwards to x@partner.example`,
    );
    expect(() => checkRule({ mailbox: 'finance-ap', targets: ['bob'] }, context())).not.toThrow();
  });

  it('refuses more redirects than the server performs, naming MAXREDIRECTS', () => {
    const error = refusal({ mailbox: 'alice', targets: ['bob', 'carol'] }, context({ maxRedirects: 4, existingRedirects: 3 }));
    expect(error.code).toBe('Refused');
    expect(error.message).toBe(`forwarding to 2 target(s) plus the 3 redirect(s) alice@${D} already has would exceed the server's limit of 4 redirects per message (MAXREDIRECTS)`);
    expect(error.hint).toMatch(/use at most 1 target\(s\)/);
    expect(() => checkRule({ mailbox: 'alice', targets: ['bob'] }, context({ maxRedirects: 4, existingRedirects: 3 }))).not.toThrow();
  });

  it('refuses a rule that would take the mailbox past 5 addresses in all', () => {
    const graph = buildGraph(['bob', 'carol', 'dave', 'erin'].map((to) => edge('alice', to)));
    const error = refusal({ mailbox: 'alice', targets: ['sales', 'director'] }, context({ graph }));
    expect(error.message).toBe(`alice@${D} would forward to 6 addresses in all (at most 5); it already forwards to bob@${D}, carol@${D}, dave@${D}, erin@${D}`);
    // Re-forwarding to addresses it already has does not add to the count.
    expect(() => checkRule({ mailbox: 'alice', targets: ['bob', 'sales'] }, context({ graph }))).not.toThrow();
  });

  it('names the loop first when a rule would both loop and go past 5 addresses', () => {
    const graph = buildGraph([...['bob', 'carol', 'dave', 'erin'].map((to) => edge('alice', to)), edge('director', 'alice')]);
    expect(refusal({ mailbox: 'alice', targets: ['sales', 'director'] }, context({ graph })).message).toBe(`forwarding would loop: alice@${D} -> director@${D} -> alice@${D}`);
  });

  it('refuses a mailbox outside the domain, and says NotFound for an unknown one', () => {
    expect(refusal({ mailbox: 'someone@other.example', targets: ['bob'] }).message).toBe(`someone@other.example is not in ${D}`);
    const unknown = refusal({ mailbox: 'nobody', targets: ['bob'] });
    expect(unknown.code).toBe('NotFound');
    expect(unknown.message).toBe(`mailbox nobody@${D} does not exist`);
  });

  it('calls a malformed rule BadInput, naming the field', () => {
    const bad = refusal({ mailbox: 'alice', targets: ['not an address'] });
    expect(bad.code).toBe('BadInput');
    expect(bad.message).toBe('the forwarding rule is not valid: targets.0: is not an email address');
    const past = refusal({ mailbox: 'alice', targets: ['bob'], expiresAt: '2026-12-31' }, context({ now: new Date('2027-01-01T00:00:00Z') }));
    expect(past.code).toBe('BadInput');
    expect(past.message).toBe('the expiry 2026-12-31 is already past');
  });
});

describe('sensitiveMatcher', () => {
  const sensitive = sensitiveMatcher(' finance-*@example.test ,ceo@example.test, *@hr.example.test , payroll?@example.test');

  it('matches addresses and globs, case-insensitively', () => {
    expect(sensitive('finance-ap@example.test')).toBe(true);
    expect(sensitive('FINANCE-AR@Example.Test')).toBe(true);
    expect(sensitive('finance-@example.test')).toBe(true);
    expect(sensitive('ceo@example.test')).toBe(true);
    expect(sensitive('anyone@hr.example.test')).toBe(true);
    expect(sensitive('payroll1@example.test')).toBe(true);
    expect(sensitive('payroll12@example.test')).toBe(false);
    expect(sensitive('finance@example.test')).toBe(false);
    expect(sensitive('cfo@example.test')).toBe(false);
  });

  it('never lets * cross the @ or a dot stand for any character', () => {
    expect(sensitive('finance-x@evil.test@example.test')).toBe(false);
    expect(sensitive('finance-ap@exampleXtest')).toBe(false);
    expect(sensitive('anyone@hr.example.test.evil')).toBe(false);
  });

  it('reads a bare local part as a mailbox of the domain, and refuses a malformed entry', () => {
    expect(sensitiveMatcher('ceo', 'example.test')('ceo@example.test')).toBe(true);
    expect(sensitiveMatcher('')('anyone@example.test')).toBe(false);
    expect(() => sensitiveMatcher('finance team@example.test')).toThrow(/SENSITIVE_MAILBOXES entry "finance team@example.test" is not an address or a glob/);
  });
});

describe('isFreeMail', () => {
  it('knows the big consumer services, in China too', () => {
    for (const domain of ['gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'yahoo.com', 'yahoo.co.jp', 'icloud.com', 'me.com', 'aol.com', 'proton.me', 'protonmail.com', 'mail.ru', 'qq.com', 'foxmail.com', '163.com', '126.com', 'yeah.net', 'sina.com', 'sina.cn', 'sohu.com', '139.com', '189.cn', 'aliyun.com']) {
      expect(isFreeMail(domain), domain).toBe(true);
    }
  });

  it('covers country variants, subdomains and spelling', () => {
    for (const domain of ['gmx.de', 'gmx.net', 'yandex.ru', 'yandex.com', 'hotmail.co.uk', 'yahoo.com.tw', 'live.cn', 'vip.163.com', 'vip.qq.com', 'GMAIL.COM', 'gmail.com.']) {
      expect(isFreeMail(domain), domain).toBe(true);
    }
  });

  it('does not flag company domains that merely look alike', () => {
    for (const domain of ['example.test', 'gmail.example.com', 'live.example.com', 'qq.com.evil.test', 'mygmail.com', 'partner.example', 'com']) {
      expect(isFreeMail(domain), domain).toBe(false);
    }
  });
});
