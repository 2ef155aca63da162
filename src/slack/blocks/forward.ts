/**
 * What /forward shows: the help, the listing of rules (a "Remove" button each, carrying only the
 * rule id), the "add a rule" modal and the views shown after submitting it. Pure.
 */
import type { types } from '@slack/bolt';
import type { ForwardingRule } from '../../core/forwarding/rule.js';
import type { OffboardingForward, RemovedForward } from '../../core/forwarding/service.js';
import { MAX_FORWARD_TARGETS } from '../../core/forwarding/rule.js';
import { ACTION, BLOCK, CALLBACK, inputAction } from '../ids.js';
import { LIMITS, truncate } from './limits.js';
import type { MessageContent } from './request-message.js';
import { button, context, escape, fallback, mention, plain, section } from './text.js';

const TITLE = 'Add a forwarding rule';

/** What the modal carries: where to confirm. Never authority; the core checks everything again. */
export interface ForwardModalMeta {
  /** The slash command's response_url, for the ephemeral confirmation. */
  responseUrl?: string | undefined;
  channel?: string | undefined;
}

export interface ForwardFormValues {
  mailbox: string;
  /** As typed: addresses separated by commas, spaces or new lines. */
  targets: string;
  keepCopy: boolean;
  /** One value per line. */
  subject: string;
  sender: string;
  match: 'all' | 'any';
  /** YYYY-MM-DD. */
  expires: string | undefined;
  owner: string;
  reason: string;
}

export function emptyForwardForm(mailbox = ''): ForwardFormValues {
  return { mailbox, targets: '', keepCopy: true, subject: '', sender: '', match: 'all', expires: undefined, owner: '', reason: '' };
}

export function encodeForwardMeta(meta: ForwardModalMeta): string {
  const json = JSON.stringify(meta);
  return json.length <= LIMITS.privateMetadata ? json : JSON.stringify({ channel: meta.channel });
}

export function decodeForwardMeta(raw: string | undefined): ForwardModalMeta {
  try {
    const parsed = JSON.parse(raw ?? '') as Partial<ForwardModalMeta>;
    return {
      responseUrl: typeof parsed.responseUrl === 'string' ? parsed.responseUrl : undefined,
      channel: typeof parsed.channel === 'string' ? parsed.channel : undefined,
    };
  } catch {
    return {};
  }
}

export function forwardHelp(domain: string): MessageContent {
  const d = escape(domain);
  return {
    text: 'How to use /forward',
    blocks: [
      section(
        [
          '*`/forward list [mailbox]`* — the forwarding rules Postmaster manages, each with a Remove button, and the forwards offboardings have set.',
          '*`/forward add [mailbox]`* — a form for a new rule: up to 5 targets, optional conditions (subject or sender contains), an expiry, an owner and a reason.',
          '*`/forward remove <id>`* — remove a rule (`fw-…`), or end an offboarding\'s forward early (`ob-…`).',
          '*`/forward help`* — this message.',
        ].join('\n'),
      ),
      context(
        `A rule is refused, and nothing changes, when it would loop, forward outside ${d} to a domain not on FORWARD_ALLOWED_DOMAINS, forward a sensitive mailbox outside ${d}, or exceed ${MAX_FORWARD_TARGETS} targets or the server's redirect limit. \`/mailaudit\` reports on all forwarding, including what users set up themselves.`,
      ),
    ],
  };
}

/** "keeps a copy · subject contains "订单" · until 2027-01-31 · owner: sales · by <@U1>" */
export function ruleDetails(rule: ForwardingRule): string {
  const parts = [rule.keepCopy ? 'keeps a copy' : 'no copy kept'];
  const c = rule.conditions;
  if (c) {
    const terms = [
      ...(c.subjectContains ?? []).map((v) => `subject contains "${escape(v)}"`),
      ...(c.senderContains ?? []).map((v) => `sender contains "${escape(v)}"`),
    ];
    parts.push(terms.join(c.match === 'any' ? ' or ' : ' and '));
  }
  parts.push(rule.expiresAt ? `until ${escape(rule.expiresAt)}` : 'no expiry');
  if (rule.owner) parts.push(`owner: ${escape(rule.owner)}`);
  parts.push(`by ${mention(rule.createdBy)} on ${rule.createdAt.slice(0, 10)}`);
  return parts.join(' · ');
}

export function ruleLine(rule: ForwardingRule): string {
  return `\`${rule.id}\` *${escape(rule.mailbox)}* → ${escape(rule.targets.join(', '))}`;
}

/** Sections in a listing: with the header and two context lines, within a message's 50 blocks. */
const MAX_LISTED = 45;

/**
 * The listing: one section per rule, then one per forward an offboarding set, each with a Remove
 * button carrying only its id (fw-… or ob-…), capped within the message limit.
 */
export function forwardList(rules: readonly ForwardingRule[], mailbox?: string, offboardings: readonly OffboardingForward[] = []): MessageContent {
  const where = mailbox ? ` for ${escape(mailbox)}` : '';
  if (rules.length === 0 && offboardings.length === 0) {
    const text = `No forwarding rules${where}. \`/forward add\` creates one.`;
    return { text: fallback(`No forwarding rules${mailbox ? ` for ${mailbox}` : ''}.`), blocks: [section(text)] };
  }
  const shownRules = rules.slice(0, MAX_LISTED);
  const shownForwards = offboardings.slice(0, MAX_LISTED - shownRules.length);
  const counts = [
    ...(rules.length ? [`${rules.length} forwarding ${rules.length === 1 ? 'rule' : 'rules'}`] : []),
    ...(offboardings.length ? [`${offboardings.length} offboarding ${offboardings.length === 1 ? 'forward' : 'forwards'}`] : []),
  ].join(' and ');
  const blocks: types.KnownBlock[] = [section(`*${counts}${where}*`)];
  for (const rule of shownRules) {
    const text = `${ruleLine(rule)}\n${ruleDetails(rule)}${rule.reason ? `\n_${escape(truncate(rule.reason, 300))}_` : ''}`;
    blocks.push(
      section(text, {
        accessory: button('Remove', ACTION.forwardRemove, rule.id, 'danger', {
          title: plain('Remove this rule?', LIMITS.confirmTitle),
          text: plain(truncate(`${rule.mailbox} stops forwarding to ${rule.targets.join(', ')}.`, LIMITS.confirmText), LIMITS.confirmText),
          confirm: plain('Remove', LIMITS.confirmButton),
          deny: plain('Keep', LIMITS.confirmButton),
        }),
      }),
    );
  }
  for (const forward of shownForwards) {
    blocks.push(
      section(`${offboardingForwardLine(forward)}\n${offboardingForwardDetails(forward)}`, {
        accessory: button('Remove', ACTION.forwardRemove, forward.requestId, 'danger', {
          title: plain('End this forward now?', LIMITS.confirmTitle),
          text: plain(truncate(`${forward.mailbox} stops forwarding to ${forward.targets.join(', ')} before its end date. The auto-reply and the rest of the offboarding stay.`, LIMITS.confirmText), LIMITS.confirmText),
          confirm: plain('End it', LIMITS.confirmButton),
          deny: plain('Keep', LIMITS.confirmButton),
        }),
      }),
    );
  }
  const hidden = rules.length + offboardings.length - shownRules.length - shownForwards.length;
  if (hidden > 0) blocks.push(context(`…and ${hidden} more. \`/forward list <mailbox>\` narrows the list; \`postmaster forward list\` shows them all.`));
  if (shownForwards.length) blocks.push(context('An offboarding forward ends on its end date, when the sweep removes it, or when it is removed here; `/offboard status <id>` shows its offboarding.'));
  return { text: fallback(`${counts}${mailbox ? ` for ${mailbox}` : ''}`), blocks };
}

export function offboardingForwardLine(forward: OffboardingForward): string {
  return `\`${forward.requestId}\` *${escape(forward.mailbox)}* → ${escape(forward.targets.join(', '))}`;
}

/** "set by offboarding ob-… · keeps a copy · until 2027-02-21" */
function offboardingForwardDetails(forward: OffboardingForward): string {
  const until = forward.expiresAt ? `until ${escape(forward.expiresAt)}` : 'no end date';
  return [`set by offboarding \`${forward.requestId}\``, forward.keepCopy ? 'keeps a copy' : 'no copy kept', until].join(' · ');
}

function input(blockId: string, label: string, element: types.InputBlockElement, extra: Partial<types.InputBlock> = {}): types.InputBlock {
  return { type: 'input', block_id: blockId, label: plain(label, LIMITS.inputLabel), element, optional: true, ...extra };
}

function textInput(blockId: string, value: string, options: { max: number; multiline?: boolean; placeholder?: string }): types.PlainTextInput {
  const element: types.PlainTextInput = { type: 'plain_text_input', action_id: inputAction(blockId), max_length: options.max };
  if (options.multiline) element.multiline = true;
  if (options.placeholder) element.placeholder = plain(options.placeholder, LIMITS.placeholder);
  if (value) element.initial_value = truncate(value, options.max);
  return element;
}

const option = (value: string, text: string): types.Option => ({ text: plain(text, LIMITS.optionText), value });

/** The form. `error` is shown on top when the rule was refused after the modal was acknowledged. */
export function forwardModal(values: ForwardFormValues, meta: ForwardModalMeta, error?: string): types.ModalView {
  const blocks: types.KnownBlock[] = [];
  if (error) blocks.push(section(`:warning: ${escape(error)}`));
  blocks.push(input(BLOCK.fwMailbox, 'Mailbox', textInput(BLOCK.fwMailbox, values.mailbox, { max: 254, placeholder: 'alice or alice@example.com' }), { optional: false }));
  blocks.push(
    input(BLOCK.fwTargets, 'Forward to', textInput(BLOCK.fwTargets, values.targets, { max: 1500, multiline: true, placeholder: `Up to ${MAX_FORWARD_TARGETS} addresses, one per line` }), {
      optional: false,
      hint: plain(`At most ${MAX_FORWARD_TARGETS}. A bare name is a mailbox in the domain.`, LIMITS.inputHint),
    }),
  );
  const keepCopy = option('keep_copy', 'Keep a copy in the mailbox');
  const keep: types.Checkboxes = { type: 'checkboxes', action_id: inputAction(BLOCK.fwKeepCopy), options: [keepCopy] };
  if (values.keepCopy) keep.initial_options = [keepCopy];
  blocks.push(input(BLOCK.fwKeepCopy, 'Copy', keep));
  blocks.push(input(BLOCK.fwSubject, 'Only when the subject contains', textInput(BLOCK.fwSubject, values.subject, { max: 2000, multiline: true, placeholder: 'One value per line, e.g. 订单' })));
  blocks.push(input(BLOCK.fwSender, 'Only when the sender contains', textInput(BLOCK.fwSender, values.sender, { max: 2000, multiline: true, placeholder: 'One value per line, e.g. @bigcustomer.example' })));
  const all = option('all', 'All of the conditions');
  const any = option('any', 'Any of the conditions');
  blocks.push(
    input(BLOCK.fwMatch, 'Match', { type: 'radio_buttons', action_id: inputAction(BLOCK.fwMatch), options: [all, any], initial_option: values.match === 'any' ? any : all }, {
      hint: plain('Leave both condition fields empty to forward every message.', LIMITS.inputHint),
    }),
  );
  const expires: types.Datepicker = { type: 'datepicker', action_id: inputAction(BLOCK.fwExpires) };
  if (values.expires) expires.initial_date = values.expires;
  blocks.push(input(BLOCK.fwExpires, 'Expires after', expires, { hint: plain('The rule runs through the end of that day, then the sweep removes it.', LIMITS.inputHint) }));
  blocks.push(input(BLOCK.fwOwner, 'Owner', textInput(BLOCK.fwOwner, values.owner, { max: 200, placeholder: 'Who answers for this rule (a person or team)' })));
  blocks.push(input(BLOCK.fwReason, 'Reason', textInput(BLOCK.fwReason, values.reason, { max: 1000, multiline: true })));
  return {
    type: 'modal',
    callback_id: CALLBACK.forwardAdd,
    private_metadata: encodeForwardMeta(meta),
    title: plain(TITLE, LIMITS.modalTitle),
    submit: plain('Add rule', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks,
  };
}

export function forwardCheckingModal(mailbox: string): types.ModalView {
  return {
    type: 'modal',
    title: plain(TITLE, LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalButton),
    blocks: [section(`:hourglass_flowing_sand: Checking the rule for *${escape(truncate(mailbox, 500))}* against the mail server… You can close this; you will get a message either way.`)],
  };
}

export function forwardAddedModal(rule: ForwardingRule): types.ModalView {
  return {
    type: 'modal',
    title: plain(TITLE, LIMITS.modalTitle),
    close: plain('Done', LIMITS.modalButton),
    blocks: [section(`:white_check_mark: Rule added.\n${ruleLine(rule)}`), context(ruleDetails(rule))],
  };
}

export function forwardAddedMessage(rule: ForwardingRule): MessageContent {
  return {
    text: fallback(`Forwarding rule ${rule.id} added: ${rule.mailbox} -> ${rule.targets.join(', ')}`),
    blocks: [section(`:white_check_mark: Forwarding rule added: ${ruleLine(rule)}`), context(ruleDetails(rule))],
  };
}

/** The answer to a Remove: a rule removed, or an offboarding's forward ended early. */
export function forwardGoneMessage(removed: RemovedForward): MessageContent {
  return 'rule' in removed ? forwardRemovedMessage(removed.rule) : forwardEndedMessage(removed.offboarding);
}

export function forwardEndedMessage(forward: OffboardingForward): MessageContent {
  return {
    text: fallback(`Forward of offboarding ${forward.requestId} ended: ${forward.mailbox} no longer forwards to ${forward.targets.join(', ')}`),
    blocks: [section(`:wastebasket: Ended before its end date: ${offboardingForwardLine(forward)}\n${escape(forward.mailbox)} no longer forwards there; its auto-reply stays.`)],
  };
}

export function forwardRemovedMessage(rule: ForwardingRule, by?: string): MessageContent {
  const who = by ? ` by ${mention(by)}` : '';
  return {
    text: fallback(`Forwarding rule ${rule.id} removed: ${rule.mailbox} no longer forwards to ${rule.targets.join(', ')}`),
    blocks: [section(`:wastebasket: Removed${who}: ${ruleLine(rule)}\n${escape(rule.mailbox)} no longer forwards there.`)],
  };
}
