/**
 * A synthetic mail domain for the audit benchmark: mailboxes, their forwarding (as the provider
 * would report it, Postmaster's rules and users' own scripts), Postmaster's rules and offboardings,
 * with loops planted where the benchmark can check that each one is found.
 *
 * Forwarding outside the planted loops is acyclic by construction: every mailbox gets a random
 * rank, a planted loop's members share one rank, and every other edge goes from a lower rank to
 * a higher one. So the planted loops are exactly the graph's cycle groups.
 */
import type { AuditSnapshot, ForwardingEntry, OffboardingFact } from '../src/core/findings/audit.js';
import type { ForwardingRule } from '../src/core/forwarding/rule.js';
import { sensitiveMatcher } from '../src/core/forwarding/sensitive.js';
import { mulberry32 } from './lib/random.js';

export interface DomainOptions {
  mailboxes: number;
  edges: number;
  /** Planted loops; their lengths cycle through 2..10. */
  loops: number;
  seed: number;
}

export interface DomainData {
  snapshot: AuditSnapshot;
}

export interface SyntheticDomain {
  /** Each planted loop's members. */
  planted: string[][];
  /**
   * The snapshot, with freshly made address strings on every call: a string that has been a Map
   * key keeps its hash, so timing a second pass over the same strings would flatter it.
   */
  materialize(): DomainData;
}

export const DOMAIN = 'example.test';
const EXTERNAL_DOMAINS = ['partner.example', 'supplier.example', 'lawfirm.example', 'gmail.com', 'qq.com', '163.com', 'outlook.com', 'yahoo.co.jp', 'gmx.de'];
const ALLOWED = ['partner.example', 'supplier.example'];

const random = mulberry32;

export function syntheticDomain(options: DomainOptions): SyntheticDomain {
  const rand = random(options.seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const n = options.mailboxes;

  const addresses: string[] = new Array(n);
  for (let i = 0; i < n; i++) addresses[i] = i % 100 === 0 ? `finance-${i}@${DOMAIN}` : `user${i}@${DOMAIN}`;

  const rank = new Uint32Array(n);
  for (let i = 0; i < n; i++) rank[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = pick(i + 1);
    const t = rank[i]!;
    rank[i] = rank[j]!;
    rank[j] = t;
  }

  // Edges as two flat arrays, then grouped by source (CSR): the benchmark's own bookkeeping should
  // not weigh on the RSS it reports. Targets >= 0 are mailboxes; < 0 the external and missing pools.
  const src = new Int32Array(options.edges);
  const dst = new Int32Array(options.edges);
  const conditionalEdge = new Set<string>();
  const used = new Uint8Array(n);
  const planted: string[][] = [];
  let edgeCount = 0;
  for (let l = 0; l < options.loops; l++) {
    const length = 2 + (l % 9);
    const members: number[] = [];
    while (members.length < length) {
      const m = pick(n);
      if (used[m]) continue;
      used[m] = 1;
      members.push(m);
    }
    for (const m of members) rank[m] = rank[members[0]!]!;
    members.forEach((m, i) => {
      src[edgeCount] = m;
      dst[edgeCount++] = members[(i + 1) % length]!;
      // Every third loop needs a condition to go round: conditional edges still make a loop.
      if (l % 3 === 0 && i === 0) conditionalEdge.add(`${m}>${members[1 % length]}`);
    });
    planted.push(members.map((m) => addresses[m]!));
  }

  // One mailbox in 200 has a script the reader cannot parse: its edges are unknown, so it gets none.
  const unreadable = (s: number) => s % 200 === 3 && !used[s];
  const externalPool = 5_000;
  const missingPool = 200;
  while (edgeCount < options.edges) {
    const r = rand();
    let s = pick(n);
    let t: number;
    if (r < 0.08) t = -1 - pick(externalPool);
    else if (r < 0.081) t = -1 - externalPool - pick(missingPool);
    else {
      t = pick(n);
      if (rank[s] === rank[t]) continue;
      if (rank[s]! > rank[t]!) [s, t] = [t, s];
    }
    if (unreadable(s)) continue;
    src[edgeCount] = s;
    dst[edgeCount++] = t;
  }
  const offsets = new Uint32Array(n + 1);
  for (let e = 0; e < edgeCount; e++) offsets[src[e]! + 1]!++;
  for (let v = 0; v < n; v++) offsets[v + 1]! += offsets[v]!;
  const cursor = offsets.slice(0, n);
  const out = new Int32Array(edgeCount);
  for (let e = 0; e < edgeCount; e++) out[cursor[src[e]!]!++] = dst[e]!;

  const externalAddress = (k: number) => `ext${k}@${EXTERNAL_DOMAINS[k % EXTERNAL_DOMAINS.length]}`;
  // Every address as a provider hands it over: a string of its own, parsed out of a listing or a
  // script, whose hash no Map has computed yet.
  const fresh = (text: string) => Buffer.from(text, 'latin1').toString('latin1');
  const targetString = (t: number): string =>
    fresh(t >= 0 ? addresses[t]! : -1 - t < externalPool ? externalAddress(-1 - t) : `gone${-1 - t - externalPool}@${DOMAIN}`);

  const now = new Date('2026-03-02T01:00:00Z');
  const offboardings: OffboardingFact[] = [];
  for (let i = 7; i < n; i += 500) offboardings.push({ mailbox: addresses[i]!, endDate: '2026-02-01', state: i % 1000 === 7 ? 'completed' : 'scheduled' });

  const materialize = (): DomainData => {
    const listed = addresses.map(fresh);
    const mailboxes = listed.map((address, i) => ({ address, status: i % 50 === 7 ? ('disabled' as const) : ('active' as const) }));
    const forwarding: ForwardingEntry[] = [];
    const rules: ForwardingRule[] = [];
    for (let s = 0; s < n; s++) {
      const list = Array.from(out.subarray(offsets[s]!, offsets[s + 1]!));
      const mailbox = listed[s]!;
      if (unreadable(s)) {
        forwarding.push({ mailbox, readable: false, error: 'line 3: unexpected "}"' });
        continue;
      }
      if (list.length === 0) continue;
      // Roughly one mailbox in five has a Postmaster rule for its first targets; the rest are the owner's script.
      const split = s % 5 === 0 ? Math.min(list.length, 1 + (s % 3)) : 0;
      const groups: Array<{ targets: number[]; source: 'postmaster' | 'user'; ruleId?: string }> = [];
      if (split > 0) groups.push({ targets: list.slice(0, split), source: 'postmaster', ruleId: `r${s}` });
      if (split < list.length) groups.push({ targets: list.slice(split), source: 'user' });
      for (const group of groups) {
        const targets = group.targets.map(targetString);
        const conditional = group.targets.some((t) => conditionalEdge.has(`${s}>${t}`)) || (s % 7 === 0 && group.source === 'user');
        forwarding.push({ mailbox, readable: true, targets, conditional, source: group.source, ...(group.ruleId ? { ruleId: group.ruleId } : {}) });
        if (group.ruleId) {
          const created = new Date(now.getTime() - (s % 60) * 86_400_000).toISOString();
          rules.push({
            id: group.ruleId,
            mailbox,
            targets: [...new Set(targets)],
            keepCopy: true,
            ...(s % 10 === 0 ? {} : { owner: `team-${s % 17}` }),
            ...(s % 4 === 0 ? {} : { expiresAt: s % 3 === 0 ? '2026-02-20' : '2026-12-31' }),
            createdBy: 'U0BENCH',
            createdAt: created,
          });
        }
      }
    }

    return {
      snapshot: {
        domain: DOMAIN,
        now,
        timeZone: 'Asia/Shanghai',
        mailboxes,
        forwarding,
        rules,
        offboardings,
        allowedDomains: ALLOWED,
        sensitive: sensitiveMatcher(`finance-*@${DOMAIN}`),
        unreadableCount: 0,
      },
    };
  };

  return { planted, materialize };
}
