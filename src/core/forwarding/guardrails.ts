/**
 * The checks a forwarding rule must pass before anything is written. Pure: the caller gathers the
 * facts (mailboxes, the current forwarding graph, the server's redirect limit) and a refusal is a
 * thrown PostmasterError, so a refused rule changes nothing by construction.
 */
import type { z } from 'zod';
import { badInput, notFound, refused } from '../errors.js';
import { domainOf, qualifyAddress, type MailboxStatus } from '../mailbox.js';
import { hasExpired } from './expiry.js';
import { formatCycle, wouldCreateCycle } from './cycles.js';
import { nodeId, type ForwardingGraph } from './graph.js';
import { MAX_FORWARD_TARGETS, RuleInputSchema, type NormalizedRuleInput, type RuleInput } from './rule.js';
import type { SensitiveMatcher } from './sensitive.js';

export { isFreeMail } from './free-mail.js';
export { sensitiveMatcher, type SensitiveMatcher } from './sensitive.js';

export interface GuardrailContext {
  /** MAIL_DOMAIN: the one domain Postmaster manages. */
  domain: string;
  /** FORWARD_ALLOWED_DOMAINS. */
  allowedDomains: readonly string[];
  sensitive: SensitiveMatcher;
  /** Every mailbox in the domain, by lower-cased address. */
  mailboxes: ReadonlyMap<string, { status: MailboxStatus }>;
  /** The domain's forwarding as the provider reports it, without the rule being replaced. */
  graph: ForwardingGraph;
  /** The server's MAXREDIRECTS; undefined when it has none. */
  maxRedirects?: number | undefined;
  /** Redirects the mailbox already performs besides this rule (its other rules, its owner's script). */
  existingRedirects: number;
  /** With a clock, an expiry already in the past is refused. */
  now?: Date | undefined;
  /** How a date-only expiry is read (AUDIT_TZ); UTC when absent. */
  timeZone?: string | undefined;
}

/**
 * Checks a rule against every guardrail and returns it normalized (lower-cased, de-duplicated
 * targets; defaults filled in). A bare local part ("sales") means that mailbox in the domain.
 * Throws BadInput for a malformed rule, NotFound for an unknown mailbox, and Refused for a rule
 * that policy forbids, each naming exactly what is wrong.
 */
export function checkRule(input: RuleInput, context: GuardrailContext): NormalizedRuleInput {
  const domain = context.domain.toLowerCase();
  const raw = input as Partial<Record<keyof RuleInput, unknown>>;
  const qualified = {
    ...input,
    mailbox: qualify(raw.mailbox, domain),
    targets: Array.isArray(raw.targets) ? raw.targets.map((t: unknown) => qualify(t, domain)) : raw.targets,
  };

  // Counted before parsing so that "too many" is a refusal with the number, not a schema error.
  if (Array.isArray(qualified.targets)) {
    const distinct = new Set(qualified.targets.map((t) => (typeof t === 'string' ? t.trim().toLowerCase() : t)));
    if (distinct.size > MAX_FORWARD_TARGETS) {
      throw refused(
        `a rule forwards to at most ${MAX_FORWARD_TARGETS} addresses, and this one has ${distinct.size}`,
        'forward to a distribution list instead, or split the recipients across fewer rules',
      );
    }
  }

  const parsed = RuleInputSchema.safeParse(qualified);
  if (!parsed.success) throw badInput(`the forwarding rule is not valid: ${firstIssue(parsed.error)}`);
  const rule = parsed.data;
  const { mailbox, targets } = rule;

  if (domainOf(mailbox) !== domain) {
    throw refused(`${mailbox} is not in ${domain}`, 'Postmaster manages forwarding for one mail domain (MAIL_DOMAIN)');
  }
  if (targets.includes(mailbox)) throw refused(`${mailbox} cannot forward to itself`, `remove ${mailbox} from the targets`);
  if (!context.mailboxes.has(mailbox)) throw notFound(`mailbox ${mailbox} does not exist`, 'check the spelling with `postmaster mailboxes`');

  if (rule.expiresAt !== undefined && context.now !== undefined && hasExpired(rule.expiresAt, context.now, context.timeZone)) {
    throw badInput(`the expiry ${rule.expiresAt} is already past`, 'give a later date, or leave the expiry out');
  }

  const internal = targets.filter((t) => domainOf(t) === domain);
  const external = targets.filter((t) => domainOf(t) !== domain);

  const missing = internal.filter((t) => !context.mailboxes.has(t));
  if (missing.length) {
    throw refused(`forward target ${list(missing)} ${missing.length > 1 ? 'do' : 'does'} not exist in ${domain}`, 'check the spelling with `postmaster mailboxes`');
  }
  const disabled = internal.filter((t) => context.mailboxes.get(t)?.status === 'disabled');
  if (disabled.length) {
    throw refused(
      `forward target ${list(disabled)} ${disabled.length > 1 ? 'are' : 'is'} disabled, so forwarded mail would pile up unread`,
      'forward to an active mailbox, such as the successor of the person who left',
    );
  }

  // Sensitive before the allowlist: an allowlisted domain is still outside the domain.
  if (external.length && context.sensitive(mailbox)) {
    throw refused(
      `${mailbox} is a sensitive mailbox (SENSITIVE_MAILBOXES) and never forwards outside ${domain}, but this rule forwards to ${list(external)}`,
      `forward to a mailbox in ${domain} instead`,
    );
  }
  const allowed = new Set(context.allowedDomains.map((d) => d.trim().toLowerCase()).filter(Boolean));
  const notAllowed = external.filter((t) => !allowed.has(domainOf(t)));
  if (notAllowed.length) {
    const domains = [...new Set(notAllowed.map(domainOf))];
    const current = allowed.size ? `it allows ${[...allowed].join(', ')}` : 'it is empty';
    throw refused(
      `forwarding to ${list(notAllowed)} is not allowed: ${list(domains)} ${domains.length > 1 ? 'are' : 'is'} not on FORWARD_ALLOWED_DOMAINS (${current})`,
      `ask an administrator to add ${list(domains)} to FORWARD_ALLOWED_DOMAINS, or forward inside ${domain}`,
    );
  }

  if (context.maxRedirects !== undefined && targets.length + context.existingRedirects > context.maxRedirects) {
    const others = context.existingRedirects ? ` plus the ${context.existingRedirects} redirect(s) ${mailbox} already has` : '';
    throw refused(
      `forwarding to ${targets.length} target(s)${others} would exceed the server's limit of ${context.maxRedirects} redirects per message (MAXREDIRECTS)`,
      `use at most ${Math.max(0, context.maxRedirects - context.existingRedirects)} target(s), remove another forward of ${mailbox} first, or raise sieve_max_redirects on the server`,
    );
  }

  const loop = wouldCreateCycle(context.graph, mailbox, targets);
  if (loop) {
    const back = loop[loop.length - 2]!;
    throw refused(`forwarding would loop: ${formatCycle(loop)}`, `remove ${back}'s forward to ${mailbox} first, or pick another target`);
  }

  // The audit flags a mailbox forwarding to more than 5 addresses in all; refuse to create that state.
  const already = successors(context.graph, mailbox);
  const total = new Set([...already, ...targets]);
  if (total.size > MAX_FORWARD_TARGETS) {
    throw refused(
      `${mailbox} would forward to ${total.size} addresses in all (at most ${MAX_FORWARD_TARGETS}); it already forwards to ${list([...already])}`,
      `remove one of ${mailbox}'s other forwards first`,
    );
  }

  return rule;
}

/** The distinct addresses a mailbox already forwards to in the graph. */
function successors(graph: ForwardingGraph, address: string): Set<string> {
  const out = new Set<string>();
  const v = nodeId(graph, address);
  if (v === undefined) return out;
  for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) out.add(graph.addresses[graph.targets[e]!]!);
  return out;
}

/** Strings are qualified; anything else is left for the schema to reject with its own message. */
function qualify(value: unknown, domain: string): unknown {
  return typeof value === 'string' ? qualifyAddress(value, domain) : value;
}

function list(values: readonly string[]): string {
  return values.join(', ');
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'unknown problem';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
