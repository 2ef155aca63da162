/**
 * From the submitted /forward add modal to a RuleInput, and from a refusal back to the field it is
 * about. The form only catches what it can see itself (too many targets, an empty condition list);
 * the core's guardrails check everything again and have the last word.
 */
import type { ViewOutput, ViewStateValue } from '@slack/bolt';
import { PostmasterError } from '../core/errors.js';
import { MAX_FORWARD_TARGETS, type RuleInput } from '../core/forwarding/rule.js';
import { BLOCK, inputAction } from './ids.js';
import type { ForwardFormValues } from './blocks/forward.js';

type StateValues = ViewOutput['state']['values'];

const field = (values: StateValues, blockId: string): ViewStateValue | undefined => values[blockId]?.[inputAction(blockId)];
const text = (v: ViewStateValue | undefined) => (v?.value ?? '').trim();

export function readForwardForm(values: StateValues): ForwardFormValues {
  return {
    mailbox: text(field(values, BLOCK.fwMailbox)),
    targets: text(field(values, BLOCK.fwTargets)),
    keepCopy: (field(values, BLOCK.fwKeepCopy)?.selected_options ?? []).some((o) => o.value === 'keep_copy'),
    subject: text(field(values, BLOCK.fwSubject)),
    sender: text(field(values, BLOCK.fwSender)),
    match: field(values, BLOCK.fwMatch)?.selected_option?.value === 'any' ? 'any' : 'all',
    expires: field(values, BLOCK.fwExpires)?.selected_date ?? undefined,
    owner: text(field(values, BLOCK.fwOwner)),
    reason: text(field(values, BLOCK.fwReason)),
  };
}

const lines = (value: string) => value.split(/\r?\n/).map((v) => v.trim()).filter(Boolean);

export type ForwardFormCheck = { ok: true; input: RuleInput } | { ok: false; errors: Record<string, string> };

export function ruleInputFromForm(values: ForwardFormValues): ForwardFormCheck {
  const errors: Record<string, string> = {};
  if (!values.mailbox) errors[BLOCK.fwMailbox] = 'which mailbox forwards?';
  const targets = [...new Set(values.targets.split(/[\s,;]+/).filter(Boolean).map((t) => t.toLowerCase()))];
  if (targets.length === 0) errors[BLOCK.fwTargets] = 'give at least one address to forward to';
  else if (targets.length > MAX_FORWARD_TARGETS) errors[BLOCK.fwTargets] = `at most ${MAX_FORWARD_TARGETS} targets (you gave ${targets.length}); forward to a distribution list instead`;
  if (Object.keys(errors).length) return { ok: false, errors };

  const subjectContains = lines(values.subject);
  const senderContains = lines(values.sender);
  const input: RuleInput = { mailbox: values.mailbox, targets, keepCopy: values.keepCopy };
  if (subjectContains.length || senderContains.length) {
    input.conditions = {
      match: values.match,
      ...(subjectContains.length ? { subjectContains } : {}),
      ...(senderContains.length ? { senderContains } : {}),
    };
  }
  if (values.expires) input.expiresAt = values.expires;
  if (values.owner) input.owner = values.owner;
  if (values.reason) input.reason = values.reason;
  return { ok: true, input };
}

/** The modal field a refusal from addRule is about. */
export function blockForRuleError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof PostmasterError && error.code === 'NotFound' && /^mailbox /.test(message)) return BLOCK.fwMailbox;
  if (/ is not in /.test(message)) return BLOCK.fwMailbox;
  if (/ may not /.test(message)) return BLOCK.fwMailbox;
  // Schema problems name the field: "the forwarding rule is not valid: conditions.subjectContains.0: …".
  const path = /is not valid: ([A-Za-z]+(?:\.[A-Za-z]+)?)/.exec(message)?.[1] ?? '';
  if (path.startsWith('mailbox')) return BLOCK.fwMailbox;
  if (path.startsWith('expiresAt') || /\bexpiry\b/.test(message)) return BLOCK.fwExpires;
  if (path === 'conditions.senderContains') return BLOCK.fwSender;
  if (path.startsWith('conditions')) return BLOCK.fwSubject;
  if (path.startsWith('owner')) return BLOCK.fwOwner;
  if (path.startsWith('reason')) return BLOCK.fwReason;
  // Loops, the allowlist, sensitive mailboxes, missing or disabled targets, MAXREDIRECTS, self-forward.
  return BLOCK.fwTargets;
}
