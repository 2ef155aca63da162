/**
 * The audit log's hash chain. Each entry's hash covers its own fields and the previous entry's
 * hash, so editing, deleting or reordering any entry breaks every link after it.
 */
import { createHash } from 'node:crypto';
import type { AuditDraft, AuditEntry } from './entry.js';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with sorted keys and no undefined members: the same entry always hashes the same. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const members = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`);
  return `{${members.join(',')}}`;
}

export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonical(entry)).digest('hex');
}

export function chainEntry(draft: AuditDraft, seq: number, at: Date, prevHash: string): AuditEntry {
  const body = { ...draft, seq, at: at.toISOString(), prevHash };
  return { ...body, hash: hashEntry(body) };
}

export type ChainVerdict =
  | { ok: true; entries: number }
  | { ok: false; entries: number; seq: number; problem: string };

/**
 * Checks the whole chain. `head` is the last (seq, hash) the store recorded, so that cutting
 * entries off the end is caught too.
 */
export function verifyChain(entries: AuditEntry[], head: { seq: number; hash: string } | undefined): ChainVerdict {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < sorted.length; i++) {
    const entry = sorted[i]!;
    const expectedSeq = i + 1;
    const fail = (problem: string): ChainVerdict => ({ ok: false, entries: sorted.length, seq: entry.seq, problem });
    if (entry.seq !== expectedSeq) return fail(`entry ${expectedSeq} is missing (next is ${entry.seq}): an entry was deleted`);
    if (entry.prevHash !== prevHash) return fail(`entry ${entry.seq} does not follow entry ${entry.seq - 1}: entries were deleted or reordered`);
    const { hash, ...body } = entry;
    if (hashEntry(body) !== hash) return fail(`entry ${entry.seq} was edited: its content no longer matches its hash`);
    prevHash = hash;
  }
  if (head && head.seq > sorted.length) {
    return { ok: false, entries: sorted.length, seq: sorted.length + 1, problem: `the log ends at entry ${sorted.length} but ${head.seq} were written: entries were removed from the end` };
  }
  if (head && head.seq === sorted.length && head.seq > 0 && head.hash !== prevHash) {
    return { ok: false, entries: sorted.length, seq: head.seq, problem: `the last entry does not match the recorded head: it was replaced` };
  }
  return { ok: true, entries: sorted.length };
}
