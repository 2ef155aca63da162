/**
 * The weekly forwarding audit as one pure function: a snapshot of the domain in, findings out. The
 * shell (scheduler, CLI, Slack) reads the provider and the store into the snapshot; nothing here
 * does I/O, so the whole audit is tested on plain data.
 *
 * Per-mailbox findings are computed on the interned graph: each address is classified once
 * (internal active/disabled/missing, external allowlisted or not, free mail), then every
 * mailbox's edges are one pass over its CSR row.
 */
import { domainOf, type MailboxStatus } from '../mailbox.js';
import { hasExpired } from '../forwarding/expiry.js';
import { isFreeMail } from '../forwarding/free-mail.js';
import { findCycles, formatCycle, type CycleGroup } from '../forwarding/cycles.js';
import { EDGE_USER, ForwardingGraphBuilder, NO_RULE, nodeId, type EdgeSource, type ForwardingGraph, type GraphSizeHint } from '../forwarding/graph.js';
import { MAX_FORWARD_TARGETS, type ForwardingRule } from '../forwarding/rule.js';
import type { SensitiveMatcher } from '../forwarding/sensitive.js';
import { compareTargets, FINDING_KINDS, SEVERITY_OF, type Finding, type FindingKind } from './model.js';

/** What one mailbox forwards, as the provider read it; one entry per rule or script. */
export type ForwardingEntry =
  | { mailbox: string; readable: true; targets: readonly string[]; conditional: boolean; source: EdgeSource; ruleId?: string | undefined }
  | { mailbox: string; readable: false; error: string };

export interface OffboardingFact {
  mailbox: string;
  /** When the offboarding's forward ends (plan.forward.expiresAt). */
  endDate?: string | undefined;
  /** The request's state (RequestState). */
  state: string;
}

export interface AuditSnapshot {
  /** MAIL_DOMAIN. */
  domain: string;
  now: Date;
  /** AUDIT_TZ: whose calendar day a date-only expiry ends on. UTC when absent. */
  timeZone?: string | undefined;
  mailboxes: ReadonlyArray<{ address: string; status: MailboxStatus }>;
  forwarding: readonly ForwardingEntry[];
  /** Postmaster's stored rules. */
  rules: readonly ForwardingRule[];
  offboardings: readonly OffboardingFact[];
  /** FORWARD_ALLOWED_DOMAINS. */
  allowedDomains: readonly string[];
  sensitive: SensitiveMatcher;
  /** Mailboxes whose forwarding the provider cannot read at all (no API for it). */
  unreadableCount?: number | undefined;
}

export interface AuditResult {
  findings: Finding[];
  /** The loops found, for callers that want more than the findings say. */
  cycles: CycleGroup[];
}

export const RECENT_DAYS = 7;
const DAY_MS = 86_400_000;

// How an address a mailbox forwards to is classified (Uint8Array codes).
const UNSEEN = 0;
const ACTIVE = 1;
const DISABLED = 2;
const MISSING = 3;
const EXTERNAL_ALLOWED = 4;
const EXTERNAL = 5;
const FREE_MAIL_BIT = 8;

// Bits of the per-node read state: some of the mailbox's forwarding was read, some could not be.
const READ = 1;
const UNREAD = 2;

// An offboarding in one of these states never reached its steps, so its mailbox was not offboarded.
const NOT_STARTED = new Set(['pending_approval', 'approved', 'rejected', 'cancelled']);

export function computeFindings(snapshot: AuditSnapshot): Finding[] {
  return auditForwarding(snapshot).findings;
}

export function auditForwarding(snapshot: AuditSnapshot): AuditResult {
  const domain = snapshot.domain.toLowerCase();
  const now = snapshot.now;
  const timeZone = snapshot.timeZone ?? 'UTC';
  // One list per kind, in report order: sorting is then by mailbox only, within each list.
  const byKind: Finding[][] = FINDING_KINDS.map(() => []);
  const add: Add = (kind, mailbox, targets, detail, extra = {}) => {
    // Sorted targets make the report stable and comparisons cheap; a loop's keep the loop's order.
    if (kind !== 'loop') targets.sort();
    const finding: Finding = { severity: SEVERITY_OF[kind], kind, mailbox, targets, detail };
    if (extra.freeMail) finding.freeMail = true;
    if (extra.ruleIds?.length) finding.ruleIds = extra.ruleIds;
    byKind[KIND_INDEX[kind]]!.push(finding);
  };

  // Mailboxes first, so that node id < mailboxCount means "a mailbox of the domain".
  const builder = new ForwardingGraphBuilder(graphSizeHint(snapshot));
  const status = new Uint8Array(snapshot.mailboxes.length);
  const mailboxNodes = builder.nodes(snapshot.mailboxes.map((mailbox) => mailbox.address));
  snapshot.mailboxes.forEach((mailbox, i) => (status[mailboxNodes[i]!] = mailbox.status === 'disabled' ? DISABLED : ACTIVE));
  const mailboxCount = builder.nodeCount;

  const ruleIdsSeen = new Set<string>();
  // The mailboxes whose forwarding was read (as the builder's source numbers), and the node ids of those that could not be.
  const readSources: number[] = [];
  const unreadNodes: number[] = [];
  for (const entry of snapshot.forwarding) {
    if (!entry.readable) {
      unreadNodes.push(builder.node(entry.mailbox));
      add('unreadable_script', entry.mailbox.toLowerCase(), [], `forwarding could not be read: ${entry.error}`);
      continue;
    }
    if (entry.ruleId !== undefined) ruleIdsSeen.add(entry.ruleId);
    readSources.push(builder.addEdges(entry.mailbox, entry.targets, entry.conditional, entry.source, entry.ruleId));
  }
  const graph = builder.build();
  const readState = new Uint8Array(graph.nodeCount);
  for (const source of readSources) readState[builder.sourceNode(source)] = READ;
  for (const v of unreadNodes) readState[v] = readState[v]! | UNREAD;

  const cycles = findCycles(graph);
  for (const cycle of cycles) {
    const extra = cycle.members.length - (cycle.path.length - 1);
    add(
      'loop',
      cycle.path[0]!,
      cycle.members,
      `forwarding loops: ${formatCycle(cycle.path)}` +
        (cycle.conditional ? ' (only mail that meets a forwarding condition goes round)' : '') +
        (extra > 0 ? `; ${extra} more mailbox(es) forward within the same loop` : ''),
      { ruleIds: loopRules(graph, cycle.path) },
    );
  }

  const offboardedUntil = offboardedMailboxes(snapshot, graph, mailboxCount, status, now, timeZone);
  const classify = classifier(graph, domain, mailboxCount, status, snapshot.allowedDomains);
  perMailbox(graph, classify, domain, snapshot.sensitive, offboardedUntil, add);

  for (const rule of snapshot.rules) {
    const mailbox = rule.mailbox;
    const name = `rule ${rule.id}`;
    if (rule.expiresAt !== undefined && hasExpired(rule.expiresAt, now, timeZone)) {
      // The store is the record of what Postmaster wrote; only a provider reading that shows the
      // rule gone proves it is not forwarding any more.
      const v = readNode(graph, mailbox);
      const gone = v >= 0 && readState[v] === READ && !ruleIdsSeen.has(rule.id) && !forwardsUnlabelled(graph, mailbox, rule.targets);
      if (!gone) add('expired_active', mailbox, [...rule.targets], `${name} expired ${rule.expiresAt} but is still active`, { ruleIds: [rule.id] });
    }
    if (!rule.owner || !rule.expiresAt) {
      const missing = !rule.owner && !rule.expiresAt ? 'no owner and no expiry' : !rule.owner ? 'no owner' : 'no expiry';
      add('no_owner', mailbox, [...rule.targets], `${name} has ${missing}`, { ruleIds: [rule.id] });
    }
    const created = Date.parse(rule.createdAt);
    if (created <= now.getTime() && now.getTime() - created < RECENT_DAYS * DAY_MS) {
      add('recent', mailbox, [...rule.targets], `${name} was created ${rule.createdAt.slice(0, 10)} by ${rule.createdBy}`, { ruleIds: [rule.id] });
    }
  }

  // concat, not push(...list): a spread of 100k+ arguments overflows the stack.
  const findings = ([] as Finding[]).concat(...byKind.map((list) => mergeSame(list.sort(byMailbox))));
  return { findings, cycles };
}

/**
 * Room for every edge the provider reported and every mailbox, so the graph mostly skips
 * regrowing. Not for the external addresses too: a guess on the high side makes the address
 * table sparser, and a sparser table costs more cache misses than one regrowth.
 */
export function graphSizeHint(snapshot: Pick<AuditSnapshot, 'mailboxes' | 'forwarding'>): GraphSizeHint {
  let edges = 0;
  for (const entry of snapshot.forwarding) if (entry.readable) edges += entry.targets.length;
  return { nodes: snapshot.mailboxes.length, edges };
}

/**
 * The node of a mailbox as a rule names it, for the read state, or -1. Readings are matched on
 * the lower-cased address, so a rule naming its mailbox in any other case matches no reading.
 */
function readNode(graph: ForwardingGraph, mailbox: string): number {
  return mailbox === mailbox.toLowerCase() ? (graph.ids.get(mailbox) ?? -1) : -1;
}

const KIND_INDEX = Object.fromEntries(FINDING_KINDS.map((kind, i) => [kind, i])) as Record<FindingKind, number>;

function byMailbox(a: Finding, b: Finding): number {
  if (a.mailbox !== b.mailbox) return a.mailbox < b.mailbox ? -1 : 1;
  return compareTargets(a.targets, b.targets);
}

/**
 * Findings of one kind, sorted by mailbox, with those sharing a findingKey merged: two rules of
 * one mailbox with the same targets would otherwise be two rows to a person and one key to the
 * weekly diff.
 */
function mergeSame(sorted: Finding[]): Finding[] {
  let merged: Finding[] | undefined;
  for (let i = 1; i < sorted.length; i++) {
    const previous = (merged ?? sorted)[merged ? merged.length - 1 : i - 1]!;
    const finding = sorted[i]!;
    const same = previous.mailbox === finding.mailbox && compareTargets(previous.targets, finding.targets) === 0;
    if (same) {
      merged ??= sorted.slice(0, i);
      const detail = previous.detail.includes(finding.detail) ? previous.detail : `${previous.detail}; ${finding.detail}`;
      const ruleIds = [...new Set([...(previous.ruleIds ?? []), ...(finding.ruleIds ?? [])])].sort();
      merged[merged.length - 1] = { ...previous, detail, ...(ruleIds.length ? { ruleIds } : {}) };
    } else if (merged) merged.push(finding);
  }
  return merged ?? sorted;
}

type Add = (kind: FindingKind, mailbox: string, targets: string[], detail: string, extra?: { freeMail?: boolean; ruleIds?: string[] }) => void;

/** A finding about some of one mailbox's forwards, added with the Postmaster rules behind those forwards. */
type AddForRow = (kind: FindingKind, mailbox: string, targets: string[], detail: string, freeMail?: boolean) => void;

/**
 * The Postmaster rules (by id, sorted) behind the edges from `v` to any of `targets`: what a
 * person removes to act on a finding. Empty when those forwards are the owner's own script.
 */
function rulesTo(graph: ForwardingGraph, v: number, targets: readonly string[]): string[] {
  const ids = new Set<string>();
  const wanted = targets.length > 8 ? new Set(targets) : undefined;
  for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
    const rule = graph.ruleOf[e]!;
    if (rule === NO_RULE) continue;
    const to = graph.addresses[graph.targets[e]!]!;
    if (wanted ? wanted.has(to) : targets.includes(to)) ids.add(graph.ruleIds[rule]!);
  }
  return [...ids].sort();
}

/** The Postmaster rules behind the hops of a loop's path. */
function loopRules(graph: ForwardingGraph, path: readonly string[]): string[] {
  const ids = new Set<string>();
  for (let i = 0; i + 1 < path.length; i++) {
    const from = graph.ids.get(path[i]!);
    if (from !== undefined) for (const id of rulesTo(graph, from, [path[i + 1]!])) ids.add(id);
  }
  return [...ids].sort();
}

/** Each node's class (ACTIVE..EXTERNAL, plus FREE_MAIL_BIT), computed on first use. */
function classifier(graph: ForwardingGraph, domain: string, mailboxCount: number, status: Uint8Array, allowedDomains: readonly string[]): (node: number) => number {
  const classes = new Uint8Array(graph.nodeCount);
  const allowed = new Set(allowedDomains.map((d) => d.trim().toLowerCase()).filter(Boolean));
  const byDomain = new Map<string, number>();
  return (node) => {
    const known = classes[node]!;
    if (known !== UNSEEN) return known;
    const targetDomain = domainOf(graph.addresses[node]!);
    let cls: number;
    if (targetDomain === domain) cls = node < mailboxCount ? status[node]! : MISSING;
    else {
      let cached = byDomain.get(targetDomain);
      if (cached === undefined) {
        cached = (allowed.has(targetDomain) ? EXTERNAL_ALLOWED : EXTERNAL) | (isFreeMail(targetDomain) ? FREE_MAIL_BIT : 0);
        byDomain.set(targetDomain, cached);
      }
      cls = cached;
    }
    classes[node] = cls;
    return cls;
  };
}

/** Findings that depend on everything one mailbox forwards to: one pass over its CSR row. */
function perMailbox(
  graph: ForwardingGraph,
  classify: (node: number) => number,
  domain: string,
  sensitive: SensitiveMatcher,
  offboardedUntil: Map<number, string>,
  add: Add,
): void {
  const { nodeCount, offsets, targets, flags, addresses } = graph;
  const seen = new Int32Array(nodeCount);
  const distinct: number[] = [];
  for (let v = 0; v < nodeCount; v++) {
    const start = offsets[v]!;
    const end = offsets[v + 1]!;
    if (start === end) continue;
    distinct.length = 0;
    let dead = 0;
    let external = 0;
    let user = 0;
    for (let e = start; e < end; e++) {
      const w = targets[e]!;
      if (flags[e]! & EDGE_USER) user++;
      if (seen[w] === v + 1) continue;
      seen[w] = v + 1;
      distinct.push(w);
      const cls = classify(w) & ~FREE_MAIL_BIT;
      if (cls === DISABLED || cls === MISSING) dead++;
      else if (cls === EXTERNAL || cls === EXTERNAL_ALLOWED) external++;
    }
    const mailbox = addresses[v]!;
    const ended = offboardedUntil.get(v);
    const hasRules = rowHasRules(graph, start, end);
    const addForRow: AddForRow = (kind, forwarder, list, detail, freeMail) =>
      add(kind, forwarder, list, detail, { freeMail: freeMail ?? false, ruleIds: hasRules ? rulesTo(graph, v, list) : [] });
    const all = distinct.length > MAX_FORWARD_TARGETS || ended !== undefined ? distinct.map((w) => addresses[w]!).sort() : undefined;

    if (distinct.length > MAX_FORWARD_TARGETS) {
      addForRow('too_many_targets', mailbox, all!, `forwards to ${distinct.length} addresses (at most ${MAX_FORWARD_TARGETS})`);
    }
    if (dead > 0) deadTargets(distinct, classify, addresses, mailbox, addForRow);
    if (external > 0) externalFindings(distinct, classify, addresses, mailbox, domain, sensitive(mailbox), addForRow);
    if (user > 0) {
      const own = new Set<string>();
      for (let e = start; e < end; e++) if (flags[e]! & EDGE_USER) own.add(addresses[targets[e]!]!);
      add('no_owner', mailbox, [...own], "forwarding set up in the mailbox's own Sieve script, outside Postmaster: no owner and no expiry");
    }
    if (ended !== undefined) {
      addForRow('offboarded_forwarding', mailbox, all!, `offboarded, and its forward ended ${ended}, but it still forwards to ${all!.join(', ')}`);
    }
  }
}

function rowHasRules(graph: ForwardingGraph, start: number, end: number): boolean {
  for (let e = start; e < end; e++) if (graph.ruleOf[e] !== NO_RULE) return true;
  return false;
}

function deadTargets(distinct: readonly number[], classify: (node: number) => number, addresses: readonly string[], mailbox: string, add: AddForRow): void {
  const dead = distinct.filter((w) => {
    const cls = classify(w);
    return cls === DISABLED || cls === MISSING;
  });
  dead.sort((a, b) => (addresses[a]! < addresses[b]! ? -1 : 1));
  const why = dead.map((w) => `${addresses[w]} (${classify(w) === DISABLED ? 'disabled' : 'does not exist'})`);
  add('dead_target', mailbox, dead.map((w) => addresses[w]!), `forwards to ${why.join(', ')}`);
}

function externalFindings(
  distinct: readonly number[],
  classify: (node: number) => number,
  addresses: readonly string[],
  mailbox: string,
  domain: string,
  isSensitive: boolean,
  add: AddForRow,
): void {
  const free: string[] = [];
  const allowed: string[] = [];
  const other: string[] = [];
  for (const w of distinct) {
    const cls = classify(w);
    const base = cls & ~FREE_MAIL_BIT;
    if (base !== EXTERNAL && base !== EXTERNAL_ALLOWED) continue;
    if (cls & FREE_MAIL_BIT) free.push(addresses[w]!);
    else (base === EXTERNAL_ALLOWED ? allowed : other).push(addresses[w]!);
  }
  free.sort();
  allowed.sort();
  other.sort();
  if (isSensitive) {
    const all = [...free, ...allowed, ...other].sort();
    add('sensitive_external', mailbox, all, `sensitive mailbox (SENSITIVE_MAILBOXES) forwards outside ${domain} to ${all.join(', ')}${free.length ? ` (free mail: ${free.join(', ')})` : ''}`, free.length > 0);
    return;
  }
  if (free.length) add('external', mailbox, free, `forwards to free mail outside ${domain}: ${free.join(', ')}`, true);
  if (allowed.length || other.length) {
    const parts = [
      ...(other.length ? [`${other.join(', ')} (not on FORWARD_ALLOWED_DOMAINS)`] : []),
      ...(allowed.length ? [`${allowed.join(', ')} (allowlisted)`] : []),
    ];
    add('external', mailbox, [...other, ...allowed], `forwards outside ${domain} to ${parts.join('; ')}`);
  }
}

/**
 * Mailbox node -> the end date of its offboarding's forward, for offboarded mailboxes whose
 * forward has ended. Offboarded: the request completed, or its run disabled the mailbox (a
 * request waiting out the retention period before its delete is `scheduled` again).
 */
function offboardedMailboxes(snapshot: AuditSnapshot, graph: ForwardingGraph, mailboxCount: number, status: Uint8Array, now: Date, timeZone: string): Map<number, string> {
  const ended = new Map<number, string>();
  for (const offboarding of snapshot.offboardings) {
    if (offboarding.endDate === undefined || !hasExpired(offboarding.endDate, now, timeZone)) continue;
    const v = nodeId(graph, offboarding.mailbox);
    // Not in the graph: it forwards nowhere, which is what should have happened.
    if (v === undefined) continue;
    const offboarded = offboarding.state === 'completed' || (v < mailboxCount && status[v] === DISABLED && !NOT_STARTED.has(offboarding.state));
    if (offboarded) ended.set(v, offboarding.endDate);
  }
  return ended;
}

/** The mailbox forwards to one of the rule's targets through a Postmaster edge the provider did not label with a rule id. */
function forwardsUnlabelled(graph: ForwardingGraph, mailbox: string, ruleTargets: readonly string[]): boolean {
  const v = graph.ids.get(mailbox);
  if (v === undefined) return false;
  for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
    if (graph.flags[e]! & EDGE_USER || graph.ruleOf[e] !== NO_RULE) continue;
    if (ruleTargets.includes(graph.addresses[graph.targets[e]!]!)) return true;
  }
  return false;
}
