/**
 * The domain's forwarding graph: every mailbox's active forwarding as the provider reports it,
 * Postmaster's rules and the owners' own scripts alike. Addresses are interned to integer ids as
 * the edges arrive (AddressIndex, below) and the adjacency is stored as CSR (compressed sparse rows)
 * in typed arrays, so a domain of 100k mailboxes is a few flat arrays rather than 100k objects.
 * Every traversal is iterative: a forwarding chain 100k mailboxes long must not overflow the call
 * stack.
 *
 * Conditional edges count as loop edges. Sieve's redirect resends the message unchanged, so mail
 * that met a condition once meets it again on the next pass, and conditions on different hops
 * cannot be proven disjoint; a loop that needs a condition is still a loop, only a narrower one.
 */
export type EdgeSource = 'postmaster' | 'user';

/** One forwarding edge as the provider reports it. */
export interface ForwardEdge {
  from: string;
  to: string;
  /** Only some mail takes this edge (a sender/subject condition). */
  conditional: boolean;
  source: EdgeSource;
  ruleId?: string | undefined;
}

/** Bits of ForwardingGraph.flags. */
export const EDGE_CONDITIONAL = 1;
export const EDGE_USER = 2;

/** ForwardingGraph.ruleOf for an edge that carries no rule id. */
export const NO_RULE = -1;

export interface ForwardingGraph {
  readonly nodeCount: number;
  readonly edgeCount: number;
  /** Node id -> address (lower-cased). */
  readonly addresses: readonly string[];
  /** Address (any case) -> node id; nodeId() says the same. */
  readonly ids: AddressLookup;
  /** CSR: the edges out of node v sit at positions offsets[v] .. offsets[v + 1] - 1, in the order they were added. Length nodeCount + 1. */
  readonly offsets: Uint32Array;
  /** Per position: the node the edge goes to. */
  readonly targets: Uint32Array;
  /** Per position: EDGE_CONDITIONAL | EDGE_USER. */
  readonly flags: Uint8Array;
  /** Per position: the edge's rule id as an index into ruleIds, or NO_RULE. */
  readonly ruleOf: Int32Array;
  readonly ruleIds: readonly string[];
}

/** Looking an address up in a graph. */
export interface AddressLookup {
  /** The node id of an address (any case), or undefined when it was never seen. */
  get(address: string): number | undefined;
}

/**
 * Address -> node id, case-insensitive. Interning is most of the audit's analysis time. A JS Map
 * is as quick for 100k mailboxes, but grows slower per edge with the domain (issue 4's benchmark:
 * 4x the domain took 7x the time): each lookup chases bucket, entry and key string to random
 * places in a heap that holds every reading. Here everything a lookup touches besides the address
 * itself is in two compact typed arrays: an open-addressing table (linear probing) of
 * [hash, record], and the records, one per address: [id, length * 2 + wide, its characters packed
 * four to a word (two when one is beyond ASCII)]. A lookup packs the address into words as it
 * hashes it, in its one pass over the characters, then compares words with its slot's record.
 */
export class AddressIndex implements AddressLookup {
  /** Id -> address, lower-cased. */
  readonly addresses: string[] = [];
  /** Two ints per slot: the address's hash, and its record's offset + 1 (0: the slot is empty). */
  private slots: Int32Array;
  private mask: number;
  private records: Int32Array;
  private recordsEnd = 0;
  /** The packed words of the one address being looked up, and of a batch of them (internAll). */
  private single = new Int32Array(64);
  private batchWords = new Int32Array(INTERN_BATCH * 8);
  private readonly batchAt = new Int32Array(INTERN_BATCH);
  private readonly batchHash = new Int32Array(INTERN_BATCH);
  private readonly batchRecord = new Int32Array(INTERN_BATCH);
  /** What findSingle() packed: the address lower-cased, its tag (length * 2 + wide) and hash. */
  private packedKey = '';
  private packedTag = 0;
  private packedHash = 0;

  constructor(expected = 0) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * 2);
    this.mask = capacity - 1;
    // A typical address takes 8 words: id, tag, and 22 characters in 6.
    this.records = new Int32Array(Math.max(1024, expected * 10));
  }

  get size(): number {
    return this.addresses.length;
  }

  get(address: string): number | undefined {
    const record = this.slots[this.findSingle(address) * 2 + 1]! - 1;
    return record < 0 ? undefined : this.records[record];
  }

  /** The id of an address, assigning the next one when it is new. */
  intern(address: string): number {
    const slot = this.findSingle(address);
    const record = this.slots[slot * 2 + 1]! - 1;
    return record >= 0 ? this.records[record]! : this.insert(slot, this.packedHash, this.packedKey, this.packedTag, this.single, 0);
  }

  /**
   * intern() for each of the first `count` addresses, into ids[at ..]: the same ids, found faster.
   * Each step runs over the whole batch (pack and hash, then look at first slots, then compare
   * records), so the memory reads for different addresses are independent of each other and the
   * CPU overlaps their cache misses instead of waiting out each in turn. New ids go out in order.
   */
  internAll(addresses: readonly string[], count: number, ids: Uint32Array, at: number): void {
    const { batchAt: wordsAt, batchHash: hashes, batchRecord: found } = this;
    for (let start = 0; start < count; start += INTERN_BATCH) {
      const n = Math.min(INTERN_BATCH, count - start);
      let words = this.batchWords;
      let used = 0;
      for (let i = 0; i < n; i++) {
        const address = addresses[start + i]!;
        if (used + address.length > words.length) words = this.batchWords = grown(words, new Int32Array(2 * (used + address.length)));
        wordsAt[i] = used;
        hashes[i] = packAscii(address, words, used);
        used += (address.length + 3) >> 2;
      }
      const { slots, mask } = this;
      for (let i = 0; i < n; i++) {
        const hash = hashes[i]!;
        const slot = (hash & mask) * 2;
        found[i] = hash >= 0 && slots[slot] === hash ? slots[slot + 1]! - 1 : -1;
      }
      for (let i = 0; i < n; i++) {
        const address = addresses[start + i]!;
        const tag = address.length * 2;
        const record = found[i]!;
        let id: number;
        if (record >= 0 && this.matches(record, tag, words, wordsAt[i]!)) id = this.records[record]!;
        else if (hashes[i]! < 0) id = this.intern(address);
        else {
          const slot = this.slotOf(hashes[i]!, tag, words, wordsAt[i]!);
          const known = this.slots[slot * 2 + 1]! - 1;
          id = known >= 0 ? this.records[known]! : this.insert(slot, hashes[i]!, address, tag, words, wordsAt[i]!);
        }
        ids[at + start + i] = id;
      }
    }
  }

  /** Packs one address into `single` and returns its slot; packedKey, packedTag and packedHash say what it packed. */
  private findSingle(address: string): number {
    if (this.single.length < address.length) this.single = new Int32Array(address.length * 2);
    const hash = packAscii(address, this.single, 0);
    if (hash >= 0) {
      this.packedKey = address;
      this.packedTag = address.length * 2;
      this.packedHash = hash;
    } else this.packLowerCase(address);
    return this.slotOf(this.packedHash, this.packedTag, this.single, 0);
  }

  /** The rare address with an upper-case or non-ASCII character: only toLowerCase() gets every alphabet right. */
  private packLowerCase(address: string): void {
    const key = address.toLowerCase();
    if (this.single.length < key.length) this.single = new Int32Array(key.length * 2);
    this.packedKey = key;
    // Lower-casing can leave only ASCII behind (the Kelvin sign becomes k); then it packs like any ASCII address.
    const hash = packAscii(key, this.single, 0);
    this.packedTag = key.length * 2 + (hash < 0 ? 1 : 0);
    this.packedHash = hash >= 0 ? hash : packWide(key, this.single, 0);
  }

  /** The slot that holds the packed address, or the empty slot where it would go. */
  private slotOf(hash: number, tag: number, words: Int32Array, at: number): number {
    const { slots, mask } = this;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const record = slots[slot * 2 + 1]! - 1;
      if (record < 0 || (slots[slot * 2] === hash && this.matches(record, tag, words, at))) return slot;
    }
  }

  private matches(record: number, tag: number, words: Int32Array, at: number): boolean {
    const records = this.records;
    if (records[record + 1] !== tag) return false;
    const count = wordCount(tag);
    for (let i = 0; i < count; i++) if (records[record + 2 + i] !== words[at + i]) return false;
    return true;
  }

  private insert(slot: number, hash: number, key: string, tag: number, words: Int32Array, at: number): number {
    const id = this.addresses.push(key) - 1;
    const count = wordCount(tag);
    const record = this.recordsEnd;
    if (record + 2 + count > this.records.length) this.records = grown(this.records, new Int32Array(2 * (record + 2 + count)));
    const records = this.records;
    records[record] = id;
    records[record + 1] = tag;
    for (let i = 0; i < count; i++) records[record + 2 + i] = words[at + i]!;
    this.recordsEnd = record + 2 + count;
    this.slots[slot * 2] = hash;
    this.slots[slot * 2 + 1] = record + 1;
    // At most half full, so a probe rarely goes past its first slot.
    if (this.addresses.length * 2 > this.mask) this.grow();
    return id;
  }

  /** Doubles the table; the stored hashes are enough to place every entry again. */
  private grow(): void {
    const old = this.slots;
    const mask = this.mask * 2 + 1;
    const slots = new Int32Array((mask + 1) * 2);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      let slot = old[i]! & mask;
      while (slots[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
      slots[slot * 2] = old[i]!;
      slots[slot * 2 + 1] = old[i + 1]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** How many addresses AddressIndex.internAll takes a step at a time. */
const INTERN_BATCH = 64;

const HASH_SEED = 0x811c9dc5 | 0;
const HASH_PRIME = 0x01000193;

/**
 * Packs an address four characters a word into out[at ..] and returns a non-negative hash of
 * the words (FNV-1a, then a final mix so the low bits, the slot, depend on every word); or -1
 * when a character is upper-case or beyond ASCII. Addresses almost never have one, so the common
 * case reads each character exactly once.
 */
function packAscii(text: string, out: Int32Array, at: number): number {
  const n = text.length;
  let h = HASH_SEED;
  let word = 0;
  let k = at;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f || (c >= 0x41 && c <= 0x5a)) return -1;
    word = (word << 8) | c;
    if ((i & 3) === 3) {
      out[k++] = word;
      h = Math.imul(h ^ word, HASH_PRIME);
      word = 0;
    }
  }
  if ((n & 3) !== 0) {
    out[k] = word;
    h = Math.imul(h ^ word, HASH_PRIME);
  }
  return finalMix(h ^ n);
}

/** packAscii for a lower-cased address with a character beyond ASCII: two characters a word. */
function packWide(text: string, out: Int32Array, at: number): number {
  const n = text.length;
  let h = HASH_SEED;
  let word = 0;
  let k = at;
  for (let i = 0; i < n; i++) {
    word = (word << 16) | text.charCodeAt(i);
    if ((i & 1) === 1) {
      out[k++] = word;
      h = Math.imul(h ^ word, HASH_PRIME);
      word = 0;
    }
  }
  if ((n & 1) !== 0) {
    out[k] = word;
    h = Math.imul(h ^ word, HASH_PRIME);
  }
  return finalMix(h ^ ~n);
}

/** How many words a record's characters take: `tag` is length * 2, plus 1 when they are packed two a word. */
function wordCount(tag: number): number {
  return tag & 1 ? (tag + 2) >> 2 : ((tag >> 1) + 3) >> 2;
}

/** MurmurHash3's finalizer, cleared of the sign bit. */
function finalMix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** A cycle group: a strongly connected component with more than one mailbox, or a mailbox forwarding to itself. */
export interface CycleGroup {
  /** One concrete loop, closed: ['a@x', 'b@x', 'a@x']. Starts at the group's smallest address. */
  path: string[];
  /** Every mailbox in the group: the path's mailboxes in path order, then the rest sorted. */
  members: string[];
  /** The path needs a conditional edge: the group has no unconditional loop through its start. */
  conditional: boolean;
}

/** How big a graph to make room for up front: a good guess saves regrowing the arrays. */
export interface GraphSizeHint {
  nodes?: number | undefined;
  edges?: number | undefined;
}

/**
 * Takes edges one at a time, the way a provider's readings arrive, and freezes them into a
 * ForwardingGraph. Each address is interned once, as it arrives, so the graph itself only ever
 * handles integer ids. Edges are kept in runs: consecutive edges out of one node with the same
 * flags and rule, as a provider reports a mailbox's rule or script; only the target is kept per
 * edge, and the CSR is built a run at a time.
 */
export class ForwardingGraphBuilder {
  private readonly index: AddressIndex;
  /** Per edge, in the order added: the target's node id (once looked up; see pending). */
  private to: Uint32Array;
  private count = 0;
  /** Per run: its source node, flags, rule (index into ruleIds, or NO_RULE), and where it ends (exclusive); run r starts where run r - 1 ends. */
  private runNode: Uint32Array;
  private runFlags: Uint8Array;
  private runRule: Int32Array;
  private runEnd: Uint32Array;
  private runs = 0;
  private readonly ruleIds: string[] = [];
  private lastFrom: string | undefined;
  private lastFromId = 0;
  private lastRule: string | undefined;
  private lastRuleIndex = NO_RULE;
  /** The targets of the last pendingCount edges, not looked up yet: they are looked up together. */
  private readonly pending: string[] = [];
  private pendingCount = 0;

  constructor(hint: GraphSizeHint = {}) {
    this.index = new AddressIndex(hint.nodes ?? 0);
    this.to = new Uint32Array(Math.max(64, hint.edges ?? 0));
    const runs = Math.max(64, hint.nodes ?? 0);
    this.runNode = new Uint32Array(runs);
    this.runFlags = new Uint8Array(runs);
    this.runRule = new Int32Array(runs);
    this.runEnd = new Uint32Array(runs);
  }

  /** The node id for an address, creating it when new. Case-insensitive. */
  node(address: string): number {
    return this.index.intern(address);
  }

  /** Adds one edge; returns the node id of `from`. */
  addEdge(from: string, to: string, conditional: boolean, source: EdgeSource, ruleId?: string): number {
    return this.addEdges(from, [to], conditional, source, ruleId);
  }

  /** Adds an edge from `from` to each target: one rule or script of one mailbox. Returns the node id of `from`. */
  addEdges(from: string, targets: readonly string[], conditional: boolean, source: EdgeSource, ruleId?: string): number {
    const f = this.source(from);
    if (targets.length === 0) return f;
    this.extendRun(f, edgeFlags(conditional, source), ruleId === undefined ? NO_RULE : this.ruleIndex(ruleId));
    for (let i = 0; i < targets.length; i++) {
      if (this.count === this.to.length) this.to = grown(this.to, new Uint32Array(this.to.length * 2));
      this.count++;
      this.pending[this.pendingCount++] = targets[i]!;
      if (this.pendingCount === PENDING_TARGETS) this.resolvePending();
    }
    this.runEnd[this.runs - 1] = this.count;
    return f;
  }

  /** Adds an edge between interned nodes; returns its insertion index. */
  addEdgeIds(from: number, to: number, flags: number, ruleId?: string): number {
    this.resolvePending();
    this.extendRun(from, flags, ruleId === undefined ? NO_RULE : this.ruleIndex(ruleId));
    if (this.count === this.to.length) this.to = grown(this.to, new Uint32Array(this.to.length * 2));
    this.to[this.count] = to;
    this.runEnd[this.runs - 1] = ++this.count;
    return this.count - 1;
  }

  get edgeCount(): number {
    return this.count;
  }

  get nodeCount(): number {
    this.resolvePending();
    return this.index.size;
  }

  build(): ForwardingGraph {
    this.resolvePending();
    const n = this.index.size;
    const m = this.count;
    const { runNode, runFlags, runRule, runEnd, runs, to } = this;
    const offsets = new Uint32Array(n + 1);
    for (let r = 0, start = 0; r < runs; start = runEnd[r++]!) offsets[runNode[r]! + 1]! += runEnd[r]! - start;
    for (let v = 0; v < n; v++) offsets[v + 1]! += offsets[v]!;
    // A counting sort by source, a run at a time: each row keeps insertion order (so traversals are
    // deterministic), and the jumps to a row's place are per rule or script, not per edge.
    const targets = new Uint32Array(m);
    const flags = new Uint8Array(m);
    const ruleOf = new Int32Array(m);
    const cursor = offsets.slice(0, n);
    for (let r = 0, start = 0; r < runs; start = runEnd[r++]!) {
      const v = runNode[r]!;
      const runFlag = runFlags[r]!;
      const rule = runRule[r]!;
      let at = cursor[v]!;
      // Plain loops: runs are a few edges long, too short for set() and fill() to pay for their calls.
      for (let i = start; i < runEnd[r]!; i++, at++) {
        targets[at] = to[i]!;
        flags[at] = runFlag;
        ruleOf[at] = rule;
      }
      cursor[v] = at;
    }
    return { nodeCount: n, edgeCount: m, addresses: this.index.addresses, ids: this.index, offsets, targets, flags, ruleOf, ruleIds: this.ruleIds };
  }

  /** Makes the last run one for (from, flags, rule), starting a new one unless it already is. */
  private extendRun(from: number, flags: number, rule: number): void {
    const last = this.runs - 1;
    if (last >= 0 && this.runNode[last] === from && this.runFlags[last] === flags && this.runRule[last] === rule) return;
    if (this.runs === this.runNode.length) this.growRuns();
    this.runNode[this.runs] = from;
    this.runFlags[this.runs] = flags;
    this.runRule[this.runs] = rule;
    this.runEnd[this.runs] = this.count;
    this.runs++;
  }

  private resolvePending(): void {
    if (this.pendingCount === 0) return;
    this.index.internAll(this.pending, this.pendingCount, this.to, this.count - this.pendingCount);
    this.pendingCount = 0;
  }

  /** The node id of an edge's source; a mailbox's edges arrive together, so its address is interned once for them all. */
  private source(from: string): number {
    if (from !== this.lastFrom) {
      this.lastFromId = this.index.intern(from);
      this.lastFrom = from;
    }
    return this.lastFromId;
  }

  private ruleIndex(ruleId: string): number {
    if (ruleId !== this.lastRule) {
      this.lastRule = ruleId;
      this.lastRuleIndex = this.ruleIds.push(ruleId) - 1;
    }
    return this.lastRuleIndex;
  }

  private growRuns(): void {
    const size = this.runNode.length * 2;
    this.runNode = grown(this.runNode, new Uint32Array(size));
    this.runFlags = grown(this.runFlags, new Uint8Array(size));
    this.runRule = grown(this.runRule, new Int32Array(size));
    this.runEnd = grown(this.runEnd, new Uint32Array(size));
  }
}

/** How many edges wait for their targets to be looked up together. */
const PENDING_TARGETS = 256;

function edgeFlags(conditional: boolean, source: EdgeSource): number {
  return (conditional ? EDGE_CONDITIONAL : 0) | (source === 'user' ? EDGE_USER : 0);
}

function grown<T extends Uint8Array | Uint32Array | Int32Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}

export function buildGraph(edges: Iterable<ForwardEdge>): ForwardingGraph {
  const builder = new ForwardingGraphBuilder();
  for (const edge of edges) builder.addEdge(edge.from, edge.to, edge.conditional, edge.source, edge.ruleId);
  return builder.build();
}

/** The node id of an address (any case), or undefined when the graph never saw it. */
export function nodeId(graph: ForwardingGraph, address: string): number | undefined {
  return graph.ids.get(address);
}

/** The rule id an edge (by CSR position) carries, if any. */
export function ruleIdAt(graph: ForwardingGraph, position: number): string | undefined {
  const rule = graph.ruleOf[position]!;
  return rule === NO_RULE ? undefined : graph.ruleIds[rule];
}

/** The edges out of one mailbox, as they were added. */
export function edgesFrom(graph: ForwardingGraph, address: string): ForwardEdge[] {
  const v = nodeId(graph, address);
  if (v === undefined) return [];
  const edges: ForwardEdge[] = [];
  for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
    const flags = graph.flags[e]!;
    const ruleId = ruleIdAt(graph, e);
    edges.push({
      from: graph.addresses[v]!,
      to: graph.addresses[graph.targets[e]!]!,
      conditional: (flags & EDGE_CONDITIONAL) !== 0,
      source: flags & EDGE_USER ? 'user' : 'postmaster',
      ...(ruleId === undefined ? {} : { ruleId }),
    });
  }
  return edges;
}

export function formatCycle(path: readonly string[]): string {
  return path.join(' -> ');
}


/** A node's rank once its cycle group is complete: above every visit number, so it never lowers one. */
const DONE = 0x7fffffff;

/**
 * Every cycle group in the graph, ordered by the address each path starts at. Tarjan's algorithm
 * in Pearce's single-array form, with an explicit stack, O(nodes + edges): one rank per node
 * stands in for Tarjan's index, low-link and on-stack flag, so each edge costs one random read.
 * Then, per group, a breadth-first search inside the group for the shortest loop through its
 * smallest address.
 */
export function findCycles(graph: ForwardingGraph): CycleGroup[] {
  const { nodeCount: n, offsets, targets } = graph;
  // 0: not visited; while v's group is open, the lowest visit number v is known to reach; then DONE.
  const rank = new Int32Array(n);
  // Visited nodes whose group is still open, waiting for the group's root to finish.
  const open = new Int32Array(n);
  // The call stack: node, next edge to follow, and the visit number the call began with (a node
  // that ends with its rank unchanged is its group's root).
  const callNode = new Int32Array(n);
  const callEdge = new Uint32Array(n);
  const callRank = new Int32Array(n);
  let selfLoops: Uint8Array | undefined;
  const groups: Int32Array[] = [];
  let visits = 0;
  let openCount = 0;

  for (let root = 0; root < n; root++) {
    // A node nothing leaves cannot be on a loop; most external targets are such nodes.
    if (rank[root] !== 0 || offsets[root] === offsets[root + 1]) continue;
    rank[root] = callRank[0] = ++visits;
    callNode[0] = root;
    callEdge[0] = offsets[root]!;
    let depth = 1;
    while (depth > 0) {
      const v = callNode[depth - 1]!;
      const e = callEdge[depth - 1]!;
      if (e < offsets[v + 1]!) {
        callEdge[depth - 1] = e + 1;
        const w = targets[e]!;
        const r = rank[w]!;
        if (r === 0) {
          if (offsets[w] === offsets[w + 1]) {
            rank[w] = DONE;
            continue;
          }
          rank[w] = callRank[depth] = ++visits;
          callNode[depth] = w;
          callEdge[depth] = offsets[w]!;
          depth++;
        } else if (w === v) {
          (selfLoops ??= new Uint8Array(n))[v] = 1;
        } else if (r < rank[v]!) {
          rank[v] = r;
        }
        continue;
      }
      depth--;
      const rv = rank[v]!;
      if (rv !== callRank[depth]) {
        // v reaches a node visited before it whose group is open: v waits in that group.
        open[openCount++] = v;
        const u = callNode[depth - 1]!;
        if (rv < rank[u]!) rank[u] = rv;
        continue;
      }
      // v is its group's root: the group is v and every open node visited since v.
      let first = openCount;
      while (first > 0 && rank[open[first - 1]!]! >= rv) first--;
      rank[v] = DONE;
      for (let i = first; i < openCount; i++) rank[open[i]!] = DONE;
      if (first < openCount || selfLoops?.[v] === 1) {
        const members = new Int32Array(openCount - first + 1);
        members[0] = v;
        members.set(open.subarray(first, openCount), 1);
        groups.push(members);
      }
      openCount = first;
    }
  }

  return groups.length === 0 ? [] : describeGroups(graph, groups);
}

function describeGroups(graph: ForwardingGraph, groups: Int32Array[]): CycleGroup[] {
  const n = graph.nodeCount;
  const group = new Int32Array(n).fill(-1);
  groups.forEach((members, g) => {
    for (const v of members) group[v] = g;
  });
  const search = new LoopSearch(graph);
  const result = groups.map((members, g): CycleGroup => {
    let start = members[0]!;
    for (const v of members) if (graph.addresses[v]! < graph.addresses[start]!) start = v;
    const inGroup = (w: number) => group[w] === g;
    // Prefer a loop that every message takes; fall back to one that needs a condition.
    let loop = search.shortestPath([start], start, inGroup, EDGE_CONDITIONAL);
    const conditional = loop === undefined;
    loop ??= search.shortestPath([start], start, inGroup, 0);
    const path = loop!.map((v) => graph.addresses[v]!);
    const onPath = new Set(path);
    const rest = [...members].map((v) => graph.addresses[v]!).filter((a) => !onPath.has(a)).sort(compareStrings);
    return { path, members: [...path.slice(0, -1), ...rest], conditional };
  });
  return result.sort((a, b) => compareStrings(a.path[0]!, b.path[0]!));
}

/**
 * The loop that adding `from -> targets` would close, as a closed path [from, target, ..., from],
 * or undefined when there is none. A breadth-first search from the targets for `from` in the
 * graph as it is, so nothing is rebuilt and the shortest such loop is named. Edges out of `from`
 * never matter: a path back ends the moment it reaches `from`.
 */
export function wouldCreateCycle(graph: ForwardingGraph, from: string, targets: readonly string[]): string[] | undefined {
  const key = from.toLowerCase();
  if (targets.some((t) => t.toLowerCase() === key)) return [key, key];
  const goal = nodeId(graph, key);
  if (goal === undefined) return undefined;
  const starts: number[] = [];
  for (const target of targets) {
    const id = nodeId(graph, target);
    if (id !== undefined) starts.push(id);
  }
  if (starts.length === 0) return undefined;
  const path = new LoopSearch(graph).shortestPath(starts, goal, () => true, 0);
  return path && [key, ...path.map((v) => graph.addresses[v]!)];
}

/** Breadth-first search over CSR with reusable scratch arrays. */
class LoopSearch {
  private readonly parent: Int32Array;
  private readonly queue: Int32Array;
  private readonly touched: number[] = [];

  constructor(private readonly graph: ForwardingGraph) {
    this.parent = new Int32Array(graph.nodeCount).fill(-1);
    this.queue = new Int32Array(graph.nodeCount);
  }

  /**
   * The shortest path from any of `starts` to `goal` (the goal is reached by an edge, so a start
   * equal to the goal finds a loop), walking only nodes `allowed` accepts and edges without any of
   * the `skipFlags`. Returns [start, ..., goal].
   */
  shortestPath(starts: readonly number[], goal: number, allowed: (node: number) => boolean, skipFlags: number): number[] | undefined {
    const { offsets, targets, flags } = this.graph;
    const { parent, queue } = this;
    const ROOT = -2;
    let head = 0;
    let tail = 0;
    try {
      for (const s of starts) {
        if (parent[s] !== -1) continue;
        parent[s] = ROOT;
        this.touched.push(s);
        queue[tail++] = s;
      }
      while (head < tail) {
        const u = queue[head++]!;
        for (let e = offsets[u]!; e < offsets[u + 1]!; e++) {
          if ((flags[e]! & skipFlags) !== 0) continue;
          const w = targets[e]!;
          if (w === goal) {
            const path = [goal];
            for (let x = u; x !== ROOT; x = parent[x]!) path.push(x);
            return path.reverse();
          }
          if (parent[w] !== -1 || !allowed(w)) continue;
          parent[w] = u;
          this.touched.push(w);
          queue[tail++] = w;
        }
      }
      return undefined;
    } finally {
      for (const v of this.touched) parent[v] = -1;
      this.touched.length = 0;
    }
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
