/**
 * What the weekly forwarding audit reports. A finding is plain data, so the same list feeds Block
 * Kit, the CSV upload and `postmaster audit --json` unchanged.
 */

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** In report order: within a severity, the order listed here. */
export const FINDING_KINDS = [
  'loop',
  'sensitive_external',
  'external',
  'dead_target',
  'offboarded_forwarding',
  'expired_active',
  'too_many_targets',
  'unreadable_script',
  'no_owner',
  'recent',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** Each kind has exactly one severity (issue 4). */
export const SEVERITY_OF: Readonly<Record<FindingKind, Severity>> = {
  loop: 'critical',
  sensitive_external: 'critical',
  external: 'high',
  dead_target: 'high',
  offboarded_forwarding: 'high',
  expired_active: 'medium',
  too_many_targets: 'medium',
  unreadable_script: 'medium',
  no_owner: 'low',
  recent: 'info',
};

export interface Finding {
  severity: Severity;
  kind: FindingKind;
  /** The mailbox that forwards; for a loop, the loop's smallest address. */
  mailbox: string;
  /** The addresses concerned; for a loop, every mailbox in it, in loop order. */
  targets: string[];
  /** One sentence a person reads. Not part of the finding's identity (it carries dates and counts). */
  detail: string;
  /** Set on external findings (and sensitive_external) when a target is a free-mail service. */
  freeMail?: true;
  /**
   * The Postmaster rules behind the forwards this finding is about (sorted ids), for a person to
   * remove (`postmaster forward remove <id>`, the Slack "Remove forward" button). Absent when the
   * forwards are the owner's own script. Not part of the finding's identity.
   */
  ruleIds?: string[];
}

const SEVERITY_RANK: Record<Severity, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;
const KIND_RANK: Record<FindingKind, number> = Object.fromEntries(FINDING_KINDS.map((k, i) => [k, i])) as Record<FindingKind, number>;

/**
 * Identifies "the same finding" from one week to the next: kind, mailbox and targets (sorted).
 * The detail is left out on purpose, since it carries dates and counts that change weekly.
 */
export function findingKey(finding: Pick<Finding, 'kind' | 'mailbox' | 'targets'>): string {
  const { targets } = finding;
  return `${finding.kind}|${finding.mailbox}|${(isSortedStrings(targets) ? targets : [...targets].sort()).join(',')}`;
}

/**
 * Severity, then kind, then mailbox, then targets; code-unit order, so the result never depends
 * on the locale. 0 exactly when the two share a findingKey (and severity).
 */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    compareStrings(a.mailbox, b.mailbox) ||
    compareTargets(a.targets, b.targets)
  );
}

/** Element-wise on the sorted lists, without building keys: this runs for every finding kept from last week. */
export function compareTargets(a: readonly string[], b: readonly string[]): number {
  const x = isSortedStrings(a) ? a : [...a].sort();
  const y = isSortedStrings(b) ? b : [...b].sort();
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

function isSortedStrings(values: readonly string[]): boolean {
  for (let i = 1; i < values.length; i++) if (values[i - 1]! > values[i]!) return false;
  return true;
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}

export function isSortedFindings(findings: readonly Finding[]): boolean {
  for (let i = 1; i < findings.length; i++) if (compareFindings(findings[i - 1]!, findings[i]!) > 0) return false;
  return true;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
