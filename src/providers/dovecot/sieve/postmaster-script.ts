/**
 * The Sieve script Postmaster owns. Postmaster never edits the user's own script: it writes this
 * one, makes it the active script, and this one includes the script that was active before, so
 * the user's own rules keep acting. The script's first lines carry Postmaster's state as JSON, so
 * reading it back is exact rather than a guess from the Sieve.
 */
import { z } from 'zod';
import { PostmasterError } from '../../../core/errors.js';
import { quote, stringList, textBlock } from './format.js';

export const POSTMASTER_SCRIPT_NAME = 'postmaster';

export interface PostmasterSieveState {
  /** The script that was active before Postmaster took over (null = none). */
  userScript: string | null;
  /**
   * Set while Postmaster's auto-reply is on and the user's script has a vacation of its own:
   * Pigeonhole fails the whole delivery on a second vacation action, dropping the forward with it,
   * so the user's script is left out (not deleted) until the auto-reply is removed.
   */
  userScriptSuspended?: boolean;
  /** `expiresAt`: a YYYY-MM-DD date (inclusive, server time) or an ISO timestamp. */
  forward?: { targets: string[]; keepCopy: boolean; expiresAt?: string };
  /** Dates as for `expiresAt`, both inclusive. */
  autoReply?: { subject: string; body: string; addresses: string[]; startDate?: string; endDate?: string; days?: number };
  /** Conditional forwards: each sender/subject value is one condition; `match` combines them. */
  rules?: Array<{ id: string; targets: string[]; keepCopy: boolean; match: 'all' | 'any'; senderContains?: string[]; subjectContains?: string[]; expiresAt?: string }>;
}

const STATE_MARKER = '# postmaster-state v1: ';

const when = z.string().refine((value) => /^\d{4}-\d{2}-\d{2}$/.test(value) || (value.includes('T') && Number.isFinite(Date.parse(value))), {
  message: 'must be a YYYY-MM-DD date or an ISO timestamp',
});
const noLineBreak = z.string().refine((value) => !/[\r\n]/.test(value), { message: 'must be one line' });

const stateSchema = z.object({
  userScript: z.string().min(1).refine((name) => name !== POSTMASTER_SCRIPT_NAME, { message: 'cannot be Postmaster\'s own script' }).nullable(),
  userScriptSuspended: z.boolean().optional(),
  forward: z.object({ targets: z.array(noLineBreak), keepCopy: z.boolean(), expiresAt: when.optional() }).optional(),
  autoReply: z
    .object({
      subject: noLineBreak,
      body: z.string(),
      addresses: z.array(noLineBreak),
      startDate: when.optional(),
      endDate: when.optional(),
      days: z.number().int().min(1).optional(),
    })
    .optional(),
  rules: z
    .array(
      z.object({
        id: z.string(),
        targets: z.array(noLineBreak),
        keepCopy: z.boolean(),
        match: z.enum(['all', 'any']),
        senderContains: z.array(z.string()).optional(),
        subjectContains: z.array(z.string()).optional(),
        expiresAt: when.optional(),
      }),
    )
    .optional(),
});

/** Nothing of Postmaster's is left: remove its script and re-activate `userScript`. */
export function isEmptyState(state: PostmasterSieveState): boolean {
  return !state.forward?.targets.length && !state.autoReply && !state.rules?.some((rule) => rule.targets.length > 0);
}

export function renderPostmasterScript(input: PostmasterSieveState): string {
  const state = validate(input);
  const body: string[] = [];
  const requires = new Set<string>();
  const redirects = (targets: string[], keepCopy: boolean) => {
    if (keepCopy) requires.add('copy');
    return targets.map((target) => `  redirect ${keepCopy ? ':copy ' : ''}${quote(target)};`);
  };

  for (const rule of state.rules ?? []) {
    if (rule.targets.length === 0) continue;
    const conditions = [
      ...(rule.senderContains ?? []).map((value) => `address :contains "from" ${quote(value)}`),
      ...(rule.subjectContains ?? []).map((value) => `header :contains "subject" ${quote(value)}`),
    ];
    const matches = conditions.length ? combine(rule.match === 'all' ? 'allof' : 'anyof', conditions) : undefined;
    // Like the forward, a rule stops at its expiry on the server itself, sweep or no sweep.
    const expiry = rule.expiresAt ? dateTest('le', rule.expiresAt, requires) : undefined;
    const test = expiry && matches ? `allof(${expiry}, ${matches})` : (expiry ?? matches);
    body.push(`# Rule ${asciiJson(rule.id)}`);
    // A rule without conditions or expiry forwards every message.
    if (test === undefined) body.push(...redirects(rule.targets, rule.keepCopy).map((line) => line.trimStart()));
    else body.push(`if ${test} {`, ...redirects(rule.targets, rule.keepCopy), '}');
  }

  if (state.forward?.targets.length) {
    const { targets, keepCopy, expiresAt } = state.forward;
    const lines = redirects(targets, keepCopy);
    body.push('# Forward');
    // The server stops the forward itself at expiry, even if Postmaster's sweep never runs.
    if (expiresAt) body.push(`if ${dateTest('le', expiresAt, requires)} {`, ...lines, '}');
    else body.push(...lines.map((line) => line.trimStart()));
  }

  if (state.autoReply) {
    const { subject, body: text, addresses, startDate, endDate, days } = state.autoReply;
    requires.add('vacation');
    const args = [...(days ? [`:days ${days}`] : []), `:subject ${quote(subject)}`, ...(addresses.length ? [`:addresses ${stringList(addresses)}`] : [])];
    const reason = /[\r\n]/.test(text) ? `${textBlock(text)};` : `${quote(text)};`;
    const vacation = `vacation ${args.join(' ')} ${reason}`;
    const window = [...(startDate ? [dateTest('ge', startDate, requires)] : []), ...(endDate ? [dateTest('le', endDate, requires)] : [])];
    // Pigeonhole's vacation already follows RFC 3834: no reply to mailing lists, Auto-Submitted or
    // Precedence bulk/list/junk mail, or system senders, and one reply per sender per :days.
    body.push('# Auto-reply');
    body.push(...(window.length ? [`if ${combine('allof', window)} {`, `  ${vacation}`, '}'] : [vacation]));
  }

  if (state.userScript !== null && !state.userScriptSuspended) {
    requires.add('include');
    // Last, so the user's rules act on top of ours. :optional (RFC 6609 §3.2): the user may delete
    // that script (only the active one is protected), and a missing include fails the whole run,
    // dropping our forward and reply with it.
    body.push('# The mailbox owner\'s own rules', `include :personal :optional ${quote(state.userScript)};`);
  }

  const order = ['copy', 'date', 'relational', 'vacation', 'include'].filter((name) => requires.has(name));
  return [
    '# Written by Postmaster, which replaces this script on every change: make changes through Postmaster.',
    ...(state.userScript !== null && !state.userScriptSuspended ? [`# The mailbox owner's own script, ${asciiJson(state.userScript)}, is included at the end and left untouched.`] : []),
    ...(state.userScriptSuspended ? [`# The mailbox owner's own script, ${asciiJson(state.userScript)}, has its own vacation and is left out while this auto-reply is on.`] : []),
    `${STATE_MARKER}${asciiJson(state)}`,
    ...(order.length ? [`require ${stringList(order)};`] : []),
    '',
    ...body,
    '',
  ].join('\n');
}

/**
 * Postmaster's state from the script text, or undefined when the script is not Postmaster's. A
 * script that carries the marker but an unreadable state is an error, not "someone else's".
 */
export function parsePostmasterScript(text: string): PostmasterSieveState | undefined {
  const line = text.split('\n').find((l) => l.startsWith(STATE_MARKER));
  if (line === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line.slice(STATE_MARKER.length).trimEnd());
  } catch {
    json = undefined;
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    throw new PostmasterError('ProviderError', `Postmaster's Sieve script "${POSTMASTER_SCRIPT_NAME}" has an unreadable state line`, {
      hint: 'someone edited it by hand; remove it and set forwarding and auto-reply again',
    });
  }
  return parsed.data;
}

function validate(state: PostmasterSieveState): PostmasterSieveState {
  const parsed = stateSchema.safeParse(state);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new PostmasterError('BadInput', `cannot write the Sieve script: ${issue.path.join('.') || 'state'} ${issue.message}`);
}

function combine(operator: 'allof' | 'anyof', tests: string[]): string {
  return tests.length === 1 ? tests[0]! : `${operator}(${tests.join(', ')})`;
}

/**
 * RFC 5260 currentdate. A date compares the "date" part in the server's time zone; a timestamp
 * compares "iso8601" in UTC, which Pigeonhole renders as "YYYY-MM-DDTHH:MM:SSZ" under :zone "+0000"
 * (checked), so the string comparison of :value (RFC 5231) orders correctly.
 */
function dateTest(relation: 'ge' | 'le', value: string, requires: Set<string>): string {
  requires.add('date');
  requires.add('relational');
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `currentdate :value ${quote(relation)} "date" ${quote(value)}`;
  const utc = new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `currentdate :zone "+0000" :value ${quote(relation)} "iso8601" ${quote(utc)}`;
}

/** JSON with every non-ASCII character escaped: the state line stays one plain-ASCII comment line. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
