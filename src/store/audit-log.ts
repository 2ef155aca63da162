/**
 * The audit log on top of the store. Entry N is written with insert-if-absent, which is the atomic
 * point: two processes appending at once cannot both take the same sequence number, so the chain
 * never forks. The head record is a hint for the next append and the anchor `log verify` uses to
 * notice entries cut off the end.
 */
import { chainEntry, GENESIS_HASH } from '../core/audit/chain.js';
import type { AuditEntry } from '../core/audit/entry.js';
import type { AuditLog, Clock } from '../core/ports.js';
import type { Store } from './open-store.js';

interface Head {
  seq: number;
  hash: string;
}

const HEAD = 'head';
const entryKey = (seq: number) => String(seq).padStart(12, '0');

export function auditLog(store: Store, clock: Clock): AuditLog {
  const entries = store.collection<AuditEntry>('audit');
  const meta = store.collection<Head>('audit-meta');

  const advanceHead = async (entry: AuditEntry) => {
    if (await meta.insert(HEAD, { seq: entry.seq, hash: entry.hash })) return;
    await meta.update(HEAD, (head) => (head.seq >= entry.seq ? undefined : { seq: entry.seq, hash: entry.hash }));
  };

  return {
    async append(draft) {
      const head = await meta.get(HEAD);
      let seq = (head?.seq ?? 0) + 1;
      let prevHash = head?.hash ?? GENESIS_HASH;
      for (;;) {
        // The head may lag behind entries another process wrote; walk forward to the real end.
        const existing = await entries.get(entryKey(seq));
        if (existing) {
          prevHash = existing.hash;
          seq += 1;
          continue;
        }
        const entry = chainEntry(draft, seq, clock.now(), prevHash);
        if (await entries.insert(entryKey(seq), entry)) {
          await advanceHead(entry);
          return entry;
        }
      }
    },
    async read() {
      const all = await entries.values();
      all.sort((a, b) => a.seq - b.seq);
      return { entries: all, head: await meta.get(HEAD) };
    },
  };
}
