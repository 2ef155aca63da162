/**
 * The /offboard modal: a "loading" view opened at once (a trigger_id lives 3 s), the form once the
 * mailbox's state is known, an error view, and the view shown after submitting. Pure.
 */
import type { types } from '@slack/bolt';
import type { Mailbox } from '../../core/mailbox.js';
import type { OffboardingRequest } from '../../core/offboarding/model.js';
import { MAX_FORWARD_TARGETS } from '../../core/offboarding/model.js';
import { ACTION, BLOCK, CALLBACK, inputAction } from '../ids.js';
import { LIMITS, truncate } from './limits.js';
import { context, escape, mailboxState, plain, section } from './text.js';

/** What the modal carries between Slack and us. Slack stores it; it never holds the plan's authority. */
export interface OffboardModalMeta {
  mailbox: string;
  /** The slash command's response_url, for the ephemeral confirmation. */
  responseUrl?: string | undefined;
  /** The successor and end date the auto-reply text was last generated for ('' for none). */
  templateFor: string;
  templateUntil?: string | undefined;
  /** Version of the auto-reply block id (see BLOCK.autoReplyBody). */
  arv: number;
}

export interface OffboardFormValues {
  successor: string;
  /** As typed: addresses separated by commas, spaces or new lines. */
  targets: string;
  keepCopy: boolean;
  autoReplySubject: string;
  autoReplyBody: string;
  /** YYYY-MM-DD: when the forward and the auto-reply end. */
  until: string | undefined;
  backup: boolean;
  disable: boolean;
  revokeSessions: boolean;
  deleteAfterDays: string;
  /** Unix seconds; undefined means "as soon as it is approved". */
  effectiveAt: number | undefined;
  reason: string;
}

const TITLE = 'Offboard a mailbox';

export function encodeMeta(meta: OffboardModalMeta): string {
  const json = JSON.stringify(meta);
  // A response_url is ~120 characters; drop it rather than overflow, it only costs the ephemeral.
  return json.length <= LIMITS.privateMetadata ? json : JSON.stringify({ ...meta, responseUrl: undefined });
}

export function decodeMeta(raw: string | undefined): OffboardModalMeta | undefined {
  try {
    const parsed = JSON.parse(raw ?? '') as Partial<OffboardModalMeta>;
    if (typeof parsed.mailbox !== 'string') return undefined;
    return { mailbox: parsed.mailbox, responseUrl: parsed.responseUrl, templateFor: parsed.templateFor ?? '', templateUntil: parsed.templateUntil, arv: Number(parsed.arv) || 0 };
  } catch {
    return undefined;
  }
}

export function loadingModal(input: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.offboardLoading,
    title: plain(TITLE, LIMITS.modalTitle),
    close: plain('Cancel', LIMITS.modalButton),
    blocks: [section(`:hourglass_flowing_sand: Looking up *${escape(truncate(input, 500))}* on the mail server…`)],
  };
}

export function errorModal(message: string, hint?: string): types.ModalView {
  const blocks: types.KnownBlock[] = [section(`:warning: ${escape(message)}`)];
  if (hint) blocks.push(context(escape(hint)));
  return { type: 'modal', title: plain(TITLE, LIMITS.modalTitle), close: plain('Close', LIMITS.modalButton), blocks };
}

export function checkingModal(mailbox: string): types.ModalView {
  return {
    type: 'modal',
    title: plain(TITLE, LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalButton),
    blocks: [section(`:hourglass_flowing_sand: Checking the plan for *${escape(mailbox)}* against the mail server… You can close this; you will get a message either way.`)],
  };
}

export function submittedModal(request: OffboardingRequest): types.ModalView {
  return {
    type: 'modal',
    title: plain(TITLE, LIMITS.modalTitle),
    close: plain('Done', LIMITS.modalButton),
    blocks: [
      section(`:white_check_mark: Request \`${request.id}\` for *${escape(request.mailbox)}* is waiting for approval.`),
      context('An approver who is not you must approve it. You will hear back here and in the approvals channel.'),
    ],
  };
}

/** The form's values before a person touched it. */
export function defaultFormValues(options: { successor?: string; until: string; template: { subject: string; body: string } }): OffboardFormValues {
  return {
    successor: options.successor ?? '',
    targets: '',
    keepCopy: true,
    autoReplySubject: options.template.subject,
    autoReplyBody: options.template.body,
    until: options.until,
    backup: true,
    disable: true,
    revokeSessions: true,
    deleteAfterDays: '0',
    effectiveAt: undefined,
    reason: '',
  };
}

const KEEP_COPY = 'keep_copy';
const STEP_OPTIONS = [
  { value: 'backup', text: 'Back up every folder first (verified)' },
  { value: 'revoke', text: 'End live IMAP/POP sessions' },
  { value: 'disable', text: 'Disable login (mail is still delivered)' },
] as const;

function option(value: string, text: string): types.Option {
  return { text: plain(text, LIMITS.optionText), value };
}

function input(blockId: string, label: string, element: types.InputBlockElement, extra: Partial<types.InputBlock> = {}): types.InputBlock {
  return { type: 'input', block_id: blockId, label: plain(label, LIMITS.inputLabel), element, optional: true, ...extra };
}

/** The auto-reply text field; a new `version` gives it a new block id, so views.update replaces its text. */
export function autoReplyBodyBlock(text: string, version: number): types.InputBlock {
  const body: types.PlainTextInput = { type: 'plain_text_input', action_id: inputAction('auto_reply_body'), multiline: true, max_length: 3000 };
  if (text) body.initial_value = truncate(text, 3000);
  return input(BLOCK.autoReplyBody(version), 'Auto-reply text', body, { hint: plain('Empty: no auto-reply. Left as generated, it names the successor you submit.', LIMITS.inputHint) });
}

/** The form. `error` is shown on top when the plan failed after the modal was acknowledged. */
export function offboardModal(options: { mailbox: Mailbox; values: OffboardFormValues; meta: OffboardModalMeta; error?: string | undefined }): types.ModalView {
  const { mailbox, values, meta } = options;
  const stepOptions = STEP_OPTIONS.map((o) => option(o.value, o.text));
  const checkedSteps = stepOptions.filter((o) =>
    (o.value === 'backup' && values.backup) || (o.value === 'revoke' && values.revokeSessions) || (o.value === 'disable' && values.disable),
  );
  const keepCopy = option(KEEP_COPY, 'Keep a copy in the mailbox');

  const blocks: types.KnownBlock[] = [];
  if (options.error) blocks.push(section(`:warning: ${escape(options.error)}`));
  blocks.push(section(`*${escape(mailbox.address)}*${mailbox.displayName ? ` (${escape(mailbox.displayName)})` : ''}\n${mailboxState(mailbox)}`));
  if (mailbox.status === 'disabled') blocks.push(context('This mailbox is already disabled; the steps that are already done are no-ops.'));

  const successor: types.EmailInput = {
    type: 'email_text_input',
    action_id: ACTION.successor,
    placeholder: plain('bob@example.com', LIMITS.placeholder),
    dispatch_action_config: { trigger_actions_on: ['on_enter_pressed'] },
  };
  if (values.successor) successor.initial_value = values.successor;
  blocks.push(input(BLOCK.successor, 'Successor', successor, {
    dispatch_action: true,
    hint: plain('Who takes over. The auto-reply names them (press Enter to update the text below).', LIMITS.inputHint),
  }));

  const targets: types.PlainTextInput = {
    type: 'plain_text_input',
    action_id: inputAction(BLOCK.targets),
    multiline: true,
    max_length: 1500,
    placeholder: plain(`Up to ${MAX_FORWARD_TARGETS} addresses, one per line`, LIMITS.placeholder),
  };
  if (values.targets) targets.initial_value = truncate(values.targets, 1500);
  blocks.push(input(BLOCK.targets, 'Forward new mail to', targets, { hint: plain(`At most ${MAX_FORWARD_TARGETS}. Leave empty for no forward.`, LIMITS.inputHint) }));

  const keep: types.Checkboxes = { type: 'checkboxes', action_id: inputAction(BLOCK.keepCopy), options: [keepCopy] };
  if (values.keepCopy) keep.initial_options = [keepCopy];
  blocks.push(input(BLOCK.keepCopy, 'Forwarding', keep));

  const subject: types.PlainTextInput = { type: 'plain_text_input', action_id: inputAction(BLOCK.autoReplySubject), max_length: 200 };
  if (values.autoReplySubject) subject.initial_value = truncate(values.autoReplySubject, 200);
  blocks.push(input(BLOCK.autoReplySubject, 'Auto-reply subject', subject));

  blocks.push(autoReplyBodyBlock(values.autoReplyBody, meta.arv));

  const until: types.Datepicker = { type: 'datepicker', action_id: inputAction(BLOCK.until) };
  if (values.until) until.initial_date = values.until;
  blocks.push(input(BLOCK.until, 'Forward and auto-reply end on', until));

  const steps: types.Checkboxes = { type: 'checkboxes', action_id: inputAction(BLOCK.steps), options: stepOptions };
  if (checkedSteps.length) steps.initial_options = checkedSteps;
  blocks.push(input(BLOCK.steps, 'Steps', steps));

  blocks.push(input(BLOCK.deleteAfter, 'Delete the mailbox after (days)', {
    type: 'number_input',
    action_id: inputAction(BLOCK.deleteAfter),
    is_decimal_allowed: false,
    min_value: '0',
    max_value: '3650',
    initial_value: values.deleteAfterDays || '0',
  }, { optional: false, hint: plain('0 keeps the mailbox. Deleting needs the backup.', LIMITS.inputHint) }));

  const effective: types.DateTimepicker = { type: 'datetimepicker', action_id: inputAction(BLOCK.effective) };
  if (values.effectiveAt) effective.initial_date_time = values.effectiveAt;
  blocks.push(input(BLOCK.effective, 'Effective', effective, { hint: plain('Empty: as soon as it is approved. A future time schedules it.', LIMITS.inputHint) }));

  const reason: types.PlainTextInput = { type: 'plain_text_input', action_id: inputAction(BLOCK.reason), multiline: true, max_length: 1000 };
  if (values.reason) reason.initial_value = truncate(values.reason, 1000);
  blocks.push(input(BLOCK.reason, 'Reason', reason));

  return {
    type: 'modal',
    callback_id: CALLBACK.offboard,
    title: plain(TITLE, LIMITS.modalTitle),
    submit: plain('Request approval', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: encodeMeta(meta),
    blocks,
  };
}
