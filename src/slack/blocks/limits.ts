/**
 * Slack's Block Kit limits (docs.slack.dev, checked in shared/stack.md), the helpers builders use
 * to stay inside them, and a checker the tests run over every builder. Slack refuses a whole
 * message or view when one field is over a limit (invalid_blocks), so a long reason or mailbox
 * name must be cut here, never sent as is.
 */
import type { types } from '@slack/bolt';

export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  /** Slack cuts `text` past 40,000; we keep the notification text short. */
  messageText: 3000,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
  externalId: 255,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  inputLabel: 2000,
  inputHint: 2000,
  placeholder: 150,
  plainTextInitial: 3000,
  optionText: 75,
  optionValue: 150,
  checkboxOptions: 10,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

/** Cuts text to at most `max` characters (by UTF-16 unit, as Slack counts), ending with "…". */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  // Never leave half a surrogate pair behind.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Keeps a list within `max` items, replacing the rest with one `more(n)` item. */
export function capList<T>(items: T[], max: number, more: (hidden: number) => T): T[] {
  if (items.length <= max) return items;
  return [...items.slice(0, max - 1), more(items.length - (max - 1))];
}

type Json = Record<string, unknown>;
type Surface =
  | { kind: 'message'; text?: string; blocks?: types.KnownBlock[] | types.Block[] }
  | { kind: 'modal'; view: types.ModalView }
  | { kind: 'home'; view: types.HomeView };

const textOf = (value: unknown): string | undefined =>
  value && typeof value === 'object' && typeof (value as Json).text === 'string' ? ((value as Json).text as string) : undefined;

/** Every Slack limit the surface breaks, as readable lines; empty when it is within all of them. */
export function limitViolations(surface: Surface): string[] {
  const problems: string[] = [];
  const over = (where: string, value: string | undefined, max: number) => {
    if (value !== undefined && value.length > max) problems.push(`${where}: ${value.length} > ${max}`);
  };

  let blocks: unknown[];
  if (surface.kind === 'message') {
    blocks = (surface.blocks ?? []) as unknown[];
    if (blocks.length > LIMITS.messageBlocks) problems.push(`message: ${blocks.length} blocks > ${LIMITS.messageBlocks}`);
    over('message text', surface.text, LIMITS.messageText);
    if (!surface.text) problems.push('message: no fallback text');
  } else {
    const view = surface.view as unknown as Json;
    blocks = (view.blocks ?? []) as unknown[];
    if (blocks.length > LIMITS.viewBlocks) problems.push(`${surface.kind}: ${blocks.length} blocks > ${LIMITS.viewBlocks}`);
    over('title', textOf(view.title), LIMITS.modalTitle);
    over('submit', textOf(view.submit), LIMITS.modalButton);
    over('close', textOf(view.close), LIMITS.modalButton);
    over('private_metadata', view.private_metadata as string | undefined, LIMITS.privateMetadata);
    over('callback_id', view.callback_id as string | undefined, LIMITS.callbackId);
    over('external_id', view.external_id as string | undefined, LIMITS.externalId);
    if (surface.kind === 'modal' && !textOf(view.title)) problems.push('modal: no title');
  }

  const blockIds = new Set<string>();
  blocks.forEach((raw, index) => {
    const block = raw as Json;
    const where = `block ${index} (${String(block.type)})`;
    const blockId = block.block_id as string | undefined;
    over(`${where} block_id`, blockId, LIMITS.blockId);
    if (blockId !== undefined) {
      if (blockIds.has(blockId)) problems.push(`${where}: duplicate block_id ${blockId}`);
      blockIds.add(blockId);
    }
    switch (block.type) {
      case 'section': {
        over(`${where} text`, textOf(block.text), LIMITS.sectionText);
        const fields = (block.fields ?? []) as unknown[];
        if (fields.length > LIMITS.sectionFields) problems.push(`${where}: ${fields.length} fields > ${LIMITS.sectionFields}`);
        fields.forEach((f, i) => over(`${where} field ${i}`, textOf(f), LIMITS.fieldText));
        if (!textOf(block.text) && fields.length === 0) problems.push(`${where}: no text and no fields`);
        if (block.accessory) checkElement(`${where} accessory`, block.accessory as Json, over, problems);
        break;
      }
      case 'header':
        over(`${where} text`, textOf(block.text), LIMITS.headerText);
        break;
      case 'context': {
        const elements = (block.elements ?? []) as unknown[];
        if (elements.length > LIMITS.contextElements) problems.push(`${where}: ${elements.length} elements > ${LIMITS.contextElements}`);
        elements.forEach((e, i) => over(`${where} element ${i}`, textOf(e), LIMITS.contextText));
        break;
      }
      case 'actions': {
        const elements = (block.elements ?? []) as Json[];
        if (elements.length > LIMITS.actionsElements) problems.push(`${where}: ${elements.length} elements > ${LIMITS.actionsElements}`);
        elements.forEach((e, i) => checkElement(`${where} element ${i}`, e, over, problems));
        break;
      }
      case 'input':
        if (surface.kind === 'message') problems.push(`${where}: input blocks belong in views`);
        over(`${where} label`, textOf(block.label), LIMITS.inputLabel);
        over(`${where} hint`, textOf(block.hint), LIMITS.inputHint);
        checkElement(`${where} element`, block.element as Json, over, problems);
        break;
      default:
        break;
    }
  });
  return problems;
}

function checkElement(where: string, element: Json, over: (w: string, v: string | undefined, max: number) => void, problems: string[]): void {
  over(`${where} action_id`, element.action_id as string | undefined, LIMITS.actionId);
  over(`${where} placeholder`, textOf(element.placeholder), LIMITS.placeholder);
  if (element.type === 'button') {
    over(`${where} text`, textOf(element.text), LIMITS.buttonText);
    over(`${where} value`, element.value as string | undefined, LIMITS.buttonValue);
  }
  if (element.type === 'plain_text_input') {
    over(`${where} initial_value`, element.initial_value as string | undefined, LIMITS.plainTextInitial);
    const max = element.max_length as number | undefined;
    if (max !== undefined && max > LIMITS.plainTextInitial) problems.push(`${where}: max_length ${max} > ${LIMITS.plainTextInitial}`);
    const initial = element.initial_value as string | undefined;
    if (max !== undefined && initial !== undefined && initial.length > max) problems.push(`${where}: initial_value longer than its max_length`);
  }
  const options = (element.options ?? []) as Json[];
  if (element.type === 'checkboxes' && options.length > LIMITS.checkboxOptions) problems.push(`${where}: ${options.length} options > ${LIMITS.checkboxOptions}`);
  options.forEach((o, i) => {
    over(`${where} option ${i} text`, textOf(o.text), LIMITS.optionText);
    over(`${where} option ${i} value`, o.value as string | undefined, LIMITS.optionValue);
  });
  const confirm = element.confirm as Json | undefined;
  if (confirm) {
    over(`${where} confirm title`, textOf(confirm.title), LIMITS.confirmTitle);
    over(`${where} confirm text`, textOf(confirm.text), LIMITS.confirmText);
    over(`${where} confirm button`, textOf(confirm.confirm), LIMITS.confirmButton);
    over(`${where} deny button`, textOf(confirm.deny), LIMITS.confirmButton);
  }
}
