/**
 * A forwarding rule as Postmaster stores it. The provider compiles it into the Sieve script
 * Postmaster owns; the guardrails (guardrails.ts) decide whether it may be saved at all.
 */
import { z } from 'zod';
import { AddressSchema } from '../mailbox.js';
import { MAX_FORWARD_TARGETS } from '../offboarding/model.js';

export { MAX_FORWARD_TARGETS };

/** One substring a condition looks for. The provider quotes it into Sieve, so any text is safe. */
const Needle = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters')
  // Sieve's :contains runs on one unfolded header line, so a line break could never match.
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), 'must be one line of text');

const Needles = z.array(Needle).min(1, 'needs at least one value').max(20, 'at most 20 values');

/**
 * Absent conditions mean every message is forwarded. `match: 'all'` needs every value to match;
 * `any` needs one. Sieve's default comparator (i;ascii-casemap) makes the match case-insensitive.
 */
export const RuleConditionsSchema = z
  .strictObject({
    match: z.enum(['all', 'any']).default('all'),
    /** Substrings of the From address, e.g. a VIP customer's address or "@bigcustomer.example". */
    senderContains: Needles.optional(),
    /** Substrings of the Subject, e.g. "订单". */
    subjectContains: Needles.optional(),
  })
  .refine((c) => (c.senderContains?.length ?? 0) + (c.subjectContains?.length ?? 0) > 0, {
    message: 'a condition needs senderContains or subjectContains (leave conditions out to forward everything)',
  });

/**
 * A YYYY-MM-DD date (the rule runs through the end of that day, see expiry.ts) or an ISO
 * date-time with an offset (the rule stops at that instant).
 */
export const ExpirySchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'must be a date like 2027-01-31 or a date-time like 2027-01-31T18:00:00+08:00',
});

/** Lower-cased (AddressSchema) and de-duplicated, so "Bob@x" and "bob@x" are one target. */
export const RuleTargetsSchema = z
  .array(AddressSchema)
  .min(1, 'needs at least one target')
  .transform((targets) => [...new Set(targets)])
  .refine((targets) => targets.length <= MAX_FORWARD_TARGETS, {
    message: `at most ${MAX_FORWARD_TARGETS} different targets`,
  });

const ruleFields = {
  mailbox: AddressSchema,
  targets: RuleTargetsSchema,
  /** Keep a copy in the mailbox (Sieve `redirect :copy`). */
  keepCopy: z.boolean().default(true),
  conditions: RuleConditionsSchema.optional(),
  expiresAt: ExpirySchema.optional(),
  /** Who answers for the rule (a person or team); the audit flags rules without one. */
  owner: z.string().trim().min(1).max(200).optional(),
  reason: z.string().trim().min(1).max(1000).optional(),
};

/** What a front end sends to create or replace a rule. Strict, so a misspelt field is an error, not ignored. */
export const RuleInputSchema = z.strictObject(ruleFields);

/** A rule as stored. Not strict: a rule written by a newer Postmaster still reads. */
export const ForwardingRuleSchema = z.object({
  id: z.string().min(1),
  ...ruleFields,
  /** The actor id (Slack user id, or the CLI's --as). */
  createdBy: z.string().min(1),
  createdAt: z.iso.datetime({ offset: true }),
});

export type RuleConditions = z.output<typeof RuleConditionsSchema>;
export type RuleInput = z.input<typeof RuleInputSchema>;
/** A rule input after parsing: lower-cased, de-duplicated targets and defaults filled in. */
export type NormalizedRuleInput = z.output<typeof RuleInputSchema>;
export type ForwardingRule = z.output<typeof ForwardingRuleSchema>;
