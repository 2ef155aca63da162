/**
 * From the submitted /offboard modal to a PlanInput, and from a refusal back to the modal field it
 * is about. The checks here only catch what the form itself can see (a malformed address, too many
 * targets, delete without backup) so the person gets the message on the right field at once; the
 * core's checkPlan/request checks everything again and has the last word.
 */
import type { ViewOutput, ViewStateValue } from '@slack/bolt';
import { AddressSchema } from '../core/mailbox.js';
import { describeError, PostmasterError } from '../core/errors.js';
import { MAX_FORWARD_TARGETS, type PlanInput } from '../core/offboarding/model.js';
import { defaultAutoReply } from '../core/offboarding/auto-reply-template.js';
import { BLOCK, inputAction, ACTION } from './ids.js';
import type { OffboardFormValues, OffboardModalMeta } from './blocks/offboard-modal.js';

type StateValues = ViewOutput['state']['values'];

function field(values: StateValues, blockId: string, actionId = inputAction(blockId)): ViewStateValue | undefined {
  return values[blockId]?.[actionId];
}

const text = (v: ViewStateValue | undefined) => (v?.value ?? '').trim();

export function readOffboardForm(values: StateValues, meta: OffboardModalMeta): OffboardFormValues {
  const steps = new Set((field(values, BLOCK.steps)?.selected_options ?? []).map((o) => o.value));
  const keepCopy = (field(values, BLOCK.keepCopy)?.selected_options ?? []).some((o) => o.value === 'keep_copy');
  return {
    successor: text(field(values, BLOCK.successor, ACTION.successor)),
    targets: text(field(values, BLOCK.targets)),
    keepCopy,
    autoReplySubject: text(field(values, BLOCK.autoReplySubject)),
    autoReplyBody: (field(values, BLOCK.autoReplyBody(meta.arv), inputAction('auto_reply_body'))?.value ?? '').trim(),
    until: field(values, BLOCK.until)?.selected_date ?? undefined,
    backup: steps.has('backup'),
    disable: steps.has('disable'),
    revokeSessions: steps.has('revoke'),
    deleteAfterDays: text(field(values, BLOCK.deleteAfter)) || '0',
    effectiveAt: field(values, BLOCK.effective)?.selected_date_time ?? undefined,
    reason: text(field(values, BLOCK.reason)),
  };
}

/** "bob", "bob@example.com": a bare name is in the organisation's domain. */
function toAddress(raw: string, domain: string): string | undefined {
  const candidate = raw.includes('@') ? raw : `${raw}@${domain}`;
  const parsed = AddressSchema.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

/** True when the text is the template generated for `successor`, so it is safe to regenerate. */
export function isUntouchedTemplate(body: string, meta: Pick<OffboardModalMeta, 'templateFor' | 'templateUntil'>): boolean {
  return body.trim() === defaultAutoReply({ successor: meta.templateFor || undefined, endDate: meta.templateUntil }).body.trim();
}

export type FormCheck = { ok: true; input: PlanInput } | { ok: false; errors: Record<string, string> };

export function planInputFromForm(values: OffboardFormValues, meta: OffboardModalMeta, options: { domain: string; now: Date }): FormCheck {
  const errors: Record<string, string> = {};
  const mailbox = meta.mailbox;

  let successor: string | undefined;
  if (values.successor) {
    successor = toAddress(values.successor, options.domain);
    if (!successor) errors[BLOCK.successor] = `"${values.successor}" is not an email address`;
    else if (successor === mailbox) errors[BLOCK.successor] = 'the successor cannot be the mailbox being offboarded';
  }

  const rawTargets = values.targets.split(/[\s,;]+/).filter(Boolean);
  const targets: string[] = [];
  for (const raw of rawTargets) {
    const address = toAddress(raw, options.domain);
    if (!address) {
      errors[BLOCK.targets] = `"${raw}" is not an email address`;
      break;
    }
    if (address === mailbox) {
      errors[BLOCK.targets] = `${mailbox} cannot forward to itself`;
      break;
    }
    if (!targets.includes(address)) targets.push(address);
  }
  if (!errors[BLOCK.targets] && targets.length > MAX_FORWARD_TARGETS) {
    errors[BLOCK.targets] = `at most ${MAX_FORWARD_TARGETS} targets (you gave ${targets.length})`;
  }

  const deleteAfterDays = Number(values.deleteAfterDays);
  if (!Number.isInteger(deleteAfterDays) || deleteAfterDays < 0 || deleteAfterDays > 3650) {
    errors[BLOCK.deleteAfter] = 'a whole number of days from 0 (keep) to 3650';
  } else if (deleteAfterDays > 0 && !values.backup) {
    errors[BLOCK.deleteAfter] = 'delete needs a backup first: tick "Back up every folder first", or set 0 to keep the mailbox';
  }

  const today = options.now.toISOString().slice(0, 10);
  if (values.until && values.until < today) errors[BLOCK.until] = 'the end date is in the past';

  let effectiveAt: string | undefined;
  if (values.effectiveAt !== undefined) {
    const ms = values.effectiveAt * 1000;
    if (ms < options.now.getTime() - 60_000) errors[BLOCK.effective] = 'that time is in the past; leave it empty to run as soon as it is approved';
    else if (ms > options.now.getTime() + 60_000) effectiveAt = new Date(ms).toISOString();
  }

  if (Object.keys(errors).length) return { ok: false, errors };

  let body = values.autoReplyBody;
  let subject = values.autoReplySubject;
  // The prefilled template names whoever was the successor when it was generated; if nobody edited
  // it, regenerate it for the successor actually submitted.
  if (body && isUntouchedTemplate(body, meta)) {
    const template = defaultAutoReply({ successor, endDate: values.until });
    body = template.body;
    if (!subject) subject = template.subject;
  }

  const input: PlanInput = {
    mailbox,
    backup: values.backup,
    revokeSessions: values.revokeSessions,
    disable: values.disable,
    deleteAfterDays,
  };
  if (successor) input.successor = successor;
  if (targets.length) input.forward = { targets, keepCopy: values.keepCopy, ...(values.until ? { expiresAt: values.until } : {}) };
  if (body) {
    input.autoReply = {
      subject: subject || defaultAutoReply({ successor }).subject,
      body,
      startDate: effectiveAt ? effectiveAt.slice(0, 10) : today,
      ...(values.until ? { endDate: values.until } : {}),
    };
  }
  if (effectiveAt) input.effectiveAt = effectiveAt;
  if (values.reason) input.reason = values.reason;
  return { ok: true, input };
}

/**
 * Which modal field a refusal from the core is about. The core's messages are the contract here
 * (tests drive each through the real core, so a reworded message fails a test, not a person).
 */
export function blockForError(error: unknown): string {
  const message = error instanceof PostmasterError ? error.message : describeError(error);
  const zodPath = /the plan is not valid: ([\w.]+)/.exec(message)?.[1] ?? '';
  if (zodPath.startsWith('forward') || /loop|forward to itself|forward target|MAXREDIRECTS|redirects per message/i.test(message)) return BLOCK.targets;
  if (zodPath.startsWith('autoReply')) return BLOCK.autoReplySubject;
  if (zodPath.startsWith('successor') || /successor/i.test(message)) return BLOCK.successor;
  if (zodPath.startsWith('deleteAfterDays') || /delete needs a backup|delete/i.test(message)) return BLOCK.deleteAfter;
  if (zodPath.startsWith('effectiveAt') || /effective date/i.test(message)) return BLOCK.effective;
  if (zodPath.startsWith('reason')) return BLOCK.reason;
  // Not about one field (the mailbox vanished, the mail server is down): show it on the first one.
  return BLOCK.successor;
}
