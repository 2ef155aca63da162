/**
 * Turning findings into a report: counts, the change since last week, and the CSV. Block Kit
 * rendering lives in slack/; this is what every front end shares.
 */
import { stringify } from 'csv-stringify/sync';
import { auditForwarding, type AuditSnapshot } from './audit.js';
import { compareFindings, isSortedFindings, SEVERITIES, sortFindings, type Finding, type Severity } from './model.js';

export interface ReportSummary {
  counts: Record<Severity, number>;
  total: number;
  /** Mailboxes whose forwarding the provider cannot read through its API at all. */
  unreadableMailboxes: number;
  /** "forwarding for N mailboxes could not be read through the API", present exactly when N > 0. */
  unreadableNote?: string;
  /**
   * The line a report leads with. It never says the domain is clean while some forwarding went
   * unread: "no findings" would then only describe the part that could be read.
   */
  headline: string;
}

export interface FindingsDiff {
  /** In this week's report order. */
  new: Finding[];
  /** In last week's report order. */
  resolved: Finding[];
}

export interface AuditReport {
  findings: Finding[];
  summary: ReportSummary;
  /** Undefined when there is no earlier report to compare with (the first run). */
  change: FindingsDiff | undefined;
}

export function summarize(findings: readonly Finding[], options: { unreadableCount?: number | undefined } = {}): ReportSummary {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const finding of findings) counts[finding.severity]++;
  const total = findings.length;
  const unreadable = Math.max(0, options.unreadableCount ?? 0);
  const unreadableNote = unreadable > 0 ? `forwarding for ${unreadable} ${unreadable === 1 ? 'mailbox' : 'mailboxes'} could not be read through the API` : undefined;

  let headline: string;
  if (total > 0) {
    const bySeverity = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
    headline = `${total} forwarding ${total === 1 ? 'finding' : 'findings'}: ${bySeverity.join(', ')}`;
    if (unreadableNote) headline += `; ${unreadableNote}`;
  } else if (unreadableNote) {
    headline = `No findings in the forwarding that could be read, but ${unreadableNote}`;
  } else {
    headline = 'No forwarding findings: all forwarding was read and none needs attention';
  }
  return { counts, total, unreadableMailboxes: unreadable, ...(unreadableNote ? { unreadableNote } : {}), headline };
}

/**
 * What appeared and what went away since the previous report: findings are the same when they
 * share a findingKey. A merge of the two lists in report order (sorted first if they are not), so
 * no key strings are built for the many findings that stay from week to week.
 */
export function diffFindings(previous: readonly Finding[], current: readonly Finding[]): FindingsDiff {
  const before = isSortedFindings(previous) ? previous : sortFindings(previous);
  const after = isSortedFindings(current) ? current : sortFindings(current);
  const added: Finding[] = [];
  const resolved: Finding[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length && j < after.length) {
    const c = compareFindings(before[i]!, after[j]!);
    if (c === 0) {
      i++;
      j++;
    } else if (c < 0) resolved.push(before[i++]!);
    else added.push(after[j++]!);
  }
  while (i < before.length) resolved.push(before[i++]!);
  while (j < after.length) added.push(after[j++]!);
  return { new: added, resolved };
}

export const CSV_COLUMNS = ['severity', 'kind', 'mailbox', 'targets', 'detail', 'free_mail', 'rule_ids'] as const;
const CSV_SLICE = 2_000;

/**
 * The full list as CSV, quoted as RFC 4180 says (lines end in \n). Cells that a spreadsheet would run as a formula
 * (=, +, -, @ first) are prefixed with a quote: targets and details come from users' own scripts.
 * `bom` adds a UTF-8 byte-order mark, without which Excel shows Chinese text as mojibake; leave it
 * off for output that a program reads.
 */
export function findingsCsv(findings: readonly Finding[], options: { bom?: boolean } = {}): string {
  // In slices, so a week with 100k findings never holds a second copy of them all as row arrays.
  const parts: string[] = [];
  let at = 0;
  do {
    const rows = findings.slice(at, at + CSV_SLICE).map((f) => [f.severity, f.kind, f.mailbox, f.targets.join('; '), f.detail, f.freeMail ? 'true' : '', f.ruleIds?.join('; ') ?? '']);
    parts.push(stringify(rows, { header: at === 0, columns: [...CSV_COLUMNS], escape_formulas: true, bom: at === 0 && (options.bom ?? false) }));
    at += CSV_SLICE;
  } while (at < findings.length);
  return parts.join('');
}

/** The audit and its summary in one call; pass last week's findings to get the change. */
export function buildReport(snapshot: AuditSnapshot, previous?: readonly Finding[]): AuditReport {
  const { findings } = auditForwarding(snapshot);
  return {
    findings,
    summary: summarize(findings, { unreadableCount: snapshot.unreadableCount }),
    change: previous === undefined ? undefined : diffFindings(previous, findings),
  };
}
