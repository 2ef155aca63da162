/**
 * The domain's forwarding graph: every mailbox's active forwarding as the provider reports it,
 * Postmaster's rules and the owners' own scripts alike. Addresses are interned to integer ids as
 * the edges arrive (address-index.ts) and the adjacency is stored as CSR (compressed sparse rows)
 * in typed arrays, so a domain of 100k mailboxes is a few flat arrays rather than 100k objects.
 * Every traversal is iterative: a forwarding chain 100k mailboxes long must not overflow the call
 * stack.
 *
 * Conditional edges count as loop edges. Sieve's redirect resends the message unchanged, so mail
 * that met a condition once meets it again on the next pass, and conditions on different hops
 * cannot be proven disjoint; a loop that needs a condition is still a loop, only a narrower one.
 */
import { AddressIndex, type AddressLookup } from './address-index.js';
import { grown } from './typed-arrays.js';

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

/** How big a graph to make room for up front: a good guess saves regrowing the arrays. */
export interface GraphSizeHint {
  nodes?: number | undefined;
  edges?: number | undefined;
}

/**
 * Takes edges one at a time, the way a provider's readings arrive, and freezes them into a
 * ForwardingGraph. Each address is interned once, as it arrives, so the graph itself only ever
 * handles integer ids. Edges are kept in runs: consecutive edges out of one mailbox with the same
 * flags and rule, as a provider reports a mailbox's rule or script; only the target is kept per
 * edge, and the CSR is built a run at a time. Addresses wait to be looked up in batches (see
 * AddressIndex.internAll), mailboxes and targets alike, so a run names its mailbox by a source
 * number whose node id the batch fills in.
 */
export class ForwardingGraphBuilder {
  private readonly index: AddressIndex;
  /** Per edge, in the order added: the target's node id (once looked up; see pending). */
  private to: Uint32Array;
  private count = 0;
  /** Per source (a mailbox whose edges arrive together): its node id, once looked up. */
  private sourceNodes: Uint32Array;
  private sources = 0;
  /** Per run: its source, flags, rule (index into ruleIds, or NO_RULE), and where it ends (exclusive); run r starts where run r - 1 ends. */
  private runSource: Uint32Array;
  private runFlags: Uint8Array;
  private runRule: Int32Array;
  private runEnd: Uint32Array;
  private runs = 0;
  private readonly ruleIds: string[] = [];
  private lastFrom: string | undefined;
  private lastRule: string | undefined;
  private lastRuleIndex = NO_RULE;
  /** Addresses not looked up yet, in the order they arrived, and where each one's id goes: an edge (>= 0) or a source (-1 - source). */
  private readonly pending: string[] = [];
  private readonly pendingFor = new Int32Array(PENDING_ADDRESSES);
  private readonly pendingIds = new Uint32Array(PENDING_ADDRESSES);
  private pendingCount = 0;

  constructor(hint: GraphSizeHint = {}) {
    this.index = new AddressIndex(hint.nodes ?? 0);
    this.to = new Uint32Array(Math.max(64, hint.edges ?? 0));
    const runs = Math.max(64, hint.nodes ?? 0);
    this.sourceNodes = new Uint32Array(runs);
    this.runSource = new Uint32Array(runs);
    this.runFlags = new Uint8Array(runs);
    this.runRule = new Int32Array(runs);
    this.runEnd = new Uint32Array(runs);
  }

  /** The node id for an address, creating it when new. Case-insensitive. */
  node(address: string): number {
    return this.index.intern(address);
  }

  /** Adds one edge. */
  addEdge(from: string, to: string, conditional: boolean, source: EdgeSource, ruleId?: string): void {
    this.addEdges(from, [to], conditional, source, ruleId);
  }

  /**
   * Adds an edge from `from` to each target: one rule or script of one mailbox. Returns the
   * mailbox's source number, which sourceNode() turns into its node id once the batch is looked up.
   */
  addEdges(from: string, targets: readonly string[], conditional: boolean, source: EdgeSource, ruleId?: string): number {
    if (from !== this.lastFrom) {
      this.lastFrom = from;
      this.enqueue(from, -1 - this.newSource());
    }
    if (targets.length === 0) return this.sources - 1;
    this.extendRun(this.sources - 1, edgeFlags(conditional, source), ruleId === undefined ? NO_RULE : this.ruleIndex(ruleId));
    for (let i = 0; i < targets.length; i++) {
      if (this.count === this.to.length) this.to = grown(this.to, new Uint32Array(this.to.length * 2));
      this.enqueue(targets[i]!, this.count++);
    }
    this.runEnd[this.runs - 1] = this.count;
    return this.sources - 1;
  }

  /** The node id of a source number that addEdges() returned. */
  sourceNode(source: number): number {
    this.resolvePending();
    return this.sourceNodes[source]!;
  }

  /** node() for many addresses at once, in order: the same ids, looked up in batches. */
  nodes(addresses: readonly string[]): Uint32Array {
    this.resolvePending();
    const ids = new Uint32Array(addresses.length);
    this.index.internAll(addresses, addresses.length, ids, 0);
    return ids;
  }

  /** Adds an edge between interned nodes; returns its insertion index. */
  addEdgeIds(from: number, to: number, flags: number, ruleId?: string): number {
    const source = this.newSource();
    this.sourceNodes[source] = from;
    this.lastFrom = undefined;
    this.extendRun(source, flags, ruleId === undefined ? NO_RULE : this.ruleIndex(ruleId));
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
    const { sourceNodes, runSource, runFlags, runRule, runEnd, runs, to } = this;
    const offsets = new Uint32Array(n + 1);
    for (let r = 0, start = 0; r < runs; start = runEnd[r++]!) offsets[sourceNodes[runSource[r]!]! + 1]! += runEnd[r]! - start;
    for (let v = 0; v < n; v++) offsets[v + 1]! += offsets[v]!;
    // A counting sort by source, a run at a time: each row keeps insertion order (so traversals are
    // deterministic), and the jumps to a row's place are per rule or script, not per edge.
    const targets = new Uint32Array(m);
    const flags = new Uint8Array(m);
    const ruleOf = new Int32Array(m);
    const cursor = offsets.slice(0, n);
    for (let r = 0, start = 0; r < runs; start = runEnd[r++]!) {
      const v = sourceNodes[runSource[r]!]!;
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

  /** Makes the last run one for (source, flags, rule), starting a new one unless it already is. */
  private extendRun(source: number, flags: number, rule: number): void {
    const last = this.runs - 1;
    if (last >= 0 && this.runSource[last] === source && this.runFlags[last] === flags && this.runRule[last] === rule) return;
    if (this.runs === this.runSource.length) this.growRuns();
    this.runSource[this.runs] = source;
    this.runFlags[this.runs] = flags;
    this.runRule[this.runs] = rule;
    this.runEnd[this.runs] = this.count;
    this.runs++;
  }

  private newSource(): number {
    if (this.sources === this.sourceNodes.length) this.sourceNodes = grown(this.sourceNodes, new Uint32Array(this.sources * 2));
    return this.sources++;
  }

  /** Queues an address to be looked up; its id goes to `destination` (see pendingFor). */
  private enqueue(address: string, destination: number): void {
    this.pending[this.pendingCount] = address;
    this.pendingFor[this.pendingCount++] = destination;
    if (this.pendingCount === PENDING_ADDRESSES) this.resolvePending();
  }

  private resolvePending(): void {
    const count = this.pendingCount;
    if (count === 0) return;
    const { pendingIds: ids, pendingFor: destinations, to, sourceNodes } = this;
    this.index.internAll(this.pending, count, ids, 0);
    for (let i = 0; i < count; i++) {
      const destination = destinations[i]!;
      if (destination >= 0) to[destination] = ids[i]!;
      else sourceNodes[-1 - destination] = ids[i]!;
    }
    this.pendingCount = 0;
  }

  private ruleIndex(ruleId: string): number {
    if (ruleId !== this.lastRule) {
      this.lastRule = ruleId;
      this.lastRuleIndex = this.ruleIds.push(ruleId) - 1;
    }
    return this.lastRuleIndex;
  }

  private growRuns(): void {
    const size = this.runSource.length * 2;
    this.runSource = grown(this.runSource, new Uint32Array(size));
    this.runFlags = grown(this.runFlags, new Uint8Array(size));
    this.runRule = grown(this.runRule, new Int32Array(size));
    this.runEnd = grown(this.runEnd, new Uint32Array(size));
  }
}

/** How many addresses wait to be looked up together. */
const PENDING_ADDRESSES = 256;

function edgeFlags(conditional: boolean, source: EdgeSource): number {
  return (conditional ? EDGE_CONDITIONAL : 0) | (source === 'user' ? EDGE_USER : 0);
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
