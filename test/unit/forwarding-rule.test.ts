import { describe, expect, it } from 'vitest';
import { ForwardingRuleSchema, RuleInputSchema, type RuleInput } from '../../src/core/forwarding/rule.js';

describe('forwarding rule schema', () => {
  it('expresses the seed example: subject contains 订单 -> sales@, a VIP sender -> director@', () => {
    const orders: RuleInput = { mailbox: 'shop@example.test', targets: ['sales@example.test'], conditions: { match: 'any', subjectContains: ['订单'] } };
    const vip: RuleInput = {
      mailbox: 'shop@example.test',
      targets: ['director@example.test'],
      conditions: { match: 'any', senderContains: ['ceo@bigcustomer.example', '@vip.example'] },
    };
    expect(RuleInputSchema.parse(orders).conditions).toEqual({ match: 'any', subjectContains: ['订单'] });
    expect(RuleInputSchema.parse(vip).conditions?.senderContains).toEqual(['ceo@bigcustomer.example', '@vip.example']);
  });

  it('lower-cases and de-duplicates targets, keeps a copy by default, and leaves conditions out for "everything"', () => {
    const rule = RuleInputSchema.parse({ mailbox: 'Alice@Example.test', targets: ['Bob@example.test', 'bob@EXAMPLE.test', 'carol@example.test'] });
    expect(rule).toEqual({ mailbox: 'alice@example.test', targets: ['bob@example.test', 'carol@example.test'], keepCopy: true });
  });

  it('needs 1 to 5 different targets', () => {
    expect(RuleInputSchema.safeParse({ mailbox: 'a@example.test', targets: [] }).success).toBe(false);
    const six = ['1', '2', '3', '4', '5', '6'].map((n) => `t${n}@example.test`);
    expect(RuleInputSchema.safeParse({ mailbox: 'a@example.test', targets: six }).success).toBe(false);
    // Six entries, five addresses: de-duplication comes before the limit.
    expect(RuleInputSchema.safeParse({ mailbox: 'a@example.test', targets: [...six.slice(0, 5), 'T1@example.test'] }).success).toBe(true);
  });

  it('refuses an empty condition, an empty value and a multi-line value', () => {
    const base = { mailbox: 'a@example.test', targets: ['b@example.test'] };
    expect(RuleInputSchema.safeParse({ ...base, conditions: { match: 'all' } }).error?.issues[0]?.message).toMatch(/needs senderContains or subjectContains/);
    expect(RuleInputSchema.safeParse({ ...base, conditions: { subjectContains: ['  '] } }).success).toBe(false);
    expect(RuleInputSchema.safeParse({ ...base, conditions: { subjectContains: ['a\nb'] } }).success).toBe(false);
  });

  it('accepts a date or a date-time with offset as expiry, nothing else', () => {
    const base = { mailbox: 'a@example.test', targets: ['b@example.test'] };
    expect(RuleInputSchema.safeParse({ ...base, expiresAt: '2027-01-31' }).success).toBe(true);
    expect(RuleInputSchema.safeParse({ ...base, expiresAt: '2027-01-31T18:00:00+08:00' }).success).toBe(true);
    expect(RuleInputSchema.safeParse({ ...base, expiresAt: '2027-01-31Z' }).success).toBe(false);
    expect(RuleInputSchema.safeParse({ ...base, expiresAt: 'next friday' }).success).toBe(false);
  });

  it('rejects a misspelt field in input, but reads a stored rule with extra fields', () => {
    expect(RuleInputSchema.safeParse({ mailbox: 'a@example.test', targets: ['b@example.test'], keep_copy: false }).success).toBe(false);
    const stored = ForwardingRuleSchema.parse({
      id: 'fw-1',
      mailbox: 'a@example.test',
      targets: ['b@example.test'],
      createdBy: 'U1',
      createdAt: '2027-01-01T00:00:00.000Z',
      addedLater: true,
    });
    expect(stored).toMatchObject({ id: 'fw-1', keepCopy: true, createdBy: 'U1' });
  });
});
