import { describe, expect, it } from 'vitest';
import { chainEntry, GENESIS_HASH, verifyChain } from '../../src/core/audit/chain.js';
import type { AuditEntry } from '../../src/core/audit/entry.js';

function buildChain(n: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const entry = chainEntry({ actor: `U${seq}`, action: 'request.created', requestId: `ob-${seq}` }, seq, new Date(Date.UTC(2026, 10, seq)), prev);
    entries.push(entry);
    prev = entry.hash;
  }
  return entries;
}

const headOf = (entries: AuditEntry[]) => ({ seq: entries.at(-1)!.seq, hash: entries.at(-1)!.hash });

describe('audit hash chain', () => {
  it('accepts an untouched chain', () => {
    const entries = buildChain(5);
    expect(verifyChain(entries, headOf(entries))).toEqual({ ok: true, entries: 5 });
  });

  it('finds an edited entry, even one field of it', () => {
    const entries = buildChain(5);
    const head = headOf(entries);
    entries[2] = { ...entries[2]!, actor: 'mallory' };
    const verdict = verifyChain(entries, head);
    expect(verdict).toMatchObject({ ok: false, seq: 3 });
    expect(!verdict.ok && verdict.problem).toMatch(/edited/);
  });

  it('finds an edit that also recomputed the entry hash, at the next link', () => {
    const entries = buildChain(5);
    const head = headOf(entries);
    const { hash: _old, ...body } = { ...entries[1]!, detail: 'rewritten' };
    entries[1] = chainEntry({ actor: body.actor, action: body.action, requestId: body.requestId, detail: body.detail }, 2, new Date(body.at), body.prevHash);
    expect(verifyChain(entries, head)).toMatchObject({ ok: false, seq: 3 });
  });

  it('finds a deleted entry in the middle', () => {
    const entries = buildChain(5);
    const head = headOf(entries);
    entries.splice(1, 1);
    expect(verifyChain(entries, head)).toMatchObject({ ok: false });
  });

  it('finds entries cut off the end, using the head', () => {
    const entries = buildChain(5);
    const head = headOf(entries);
    expect(verifyChain(entries.slice(0, 4), head)).toMatchObject({ ok: false, seq: 5 });
  });

  it('finds two entries swapped', () => {
    const entries = buildChain(5);
    const head = headOf(entries);
    const a = entries[1]!;
    const b = entries[2]!;
    entries[1] = { ...b, seq: 2 };
    entries[2] = { ...a, seq: 3 };
    expect(verifyChain(entries, head)).toMatchObject({ ok: false, seq: 2 });
  });
});
