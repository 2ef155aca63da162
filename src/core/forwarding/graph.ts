/**
 * The domain's forwarding graph: every mailbox's active forwarding as the provider reports it,
 * Postmaster's rules and the owners' own scripts alike. Addresses are interned to integer ids once
 * and the adjacency is stored as CSR (compressed sparse rows) in typed arrays, so a domain of
 * 100k mailboxes is a few flat arrays rather than 100k objects. Every traversal is iterative: a
 * forwarding chain 100k mailboxes long must not overflow the call stack.
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

export interface ForwardingGraph {
  readonly nodeCount: number;
  readonly edgeCount: number;
  /** Node id -> address (lower-cased). */
  readonly addresses: readonly string[];
  /** Address -> node id. Also holds the spellings seen in the input, so look addresses up with nodeId(). */
  readonly ids: ReadonlyMap<string, number>;
  /** CSR: the edges out of node v sit at positions offsets[v] .. offsets[v + 1] - 1. Length nodeCount + 1. */
  readonly offsets: Uint32Array;
  /** Per position: the node the edge goes to. */
  readonly targets: Uint32Array;
  /** Per position: EDGE_CONDITIONAL | EDGE_USER. */
  readonly flags: Uint8Array;
  /** Per position: the edge's index in the order it was added. */
  readonly order: Uint32Array;
  /** Insertion index -> rule id, for the edges that carry one. */
  readonly ruleIds: ReadonlyMap<number, string>;
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

/** Collects edges, then freezes them into a ForwardingGraph. Cheaper than building ForwardEdge objects first. */
export class ForwardingGraphBuilder {
  private readonly ids = new Map<string, number>();
  private readonly addresses: string[] = [];
  private from = new Uint32Array(1024);
  private to = new Uint32Array(1024);
  private flags = new Uint8Array(1024);
  private readonly ruleIds = new Map<number, string>();
  private count = 0;
  private lastFromKey: string | undefined;
  private lastFromId = 0;

  /** The node id for an address, creating it when new. Case-insensitive. */
  node(address: string): number {
    const known = this.ids.get(address);
    if (known !== undefined) return known;
    const key = address.toLowerCase();
    let id = key === address ? undefined : this.ids.get(key);
    if (id === undefined) {
      id = this.addresses.length;
      this.addresses.push(key);
      this.ids.set(key, id);
    }
    // Remember this spelling too, so the next lookup of it is one Map hit.
    if (key !== address) this.ids.set(address, id);
    return id;
  }

  addEdge(from: string, to: string, conditional: boolean, source: EdgeSource, ruleId?: string): number {
    // Providers report a mailbox's edges together; skip re-hashing the same source address.
    let f: number;
    if (from === this.lastFromKey) f = this.lastFromId;
    else {
      f = this.node(from);
      this.lastFromKey = from;
      this.lastFromId = f;
    }
    return this.addEdgeIds(f, this.node(to), (conditional ? EDGE_CONDITIONAL : 0) | (source === 'user' ? EDGE_USER : 0), ruleId);
  }

  /** Adds an edge between interned nodes; returns its insertion index. */
  addEdgeIds(from: number, to: number, flags: number, ruleId?: string): number {
    const i = this.count;
    if (i === this.from.length) this.grow();
    this.from[i] = from;
    this.to[i] = to;
    this.flags[i] = flags;
    if (ruleId !== undefined) this.ruleIds.set(i, ruleId);
    this.count = i + 1;
    return i;
  }

  get edgeCount(): number {
    return this.count;
  }

  get nodeCount(): number {
    return this.addresses.length;
  }

  build(): ForwardingGraph {
    const n = this.addresses.length;
    const m = this.count;
    const from = this.from;
    const offsets = new Uint32Array(n + 1);
    for (let i = 0; i < m; i++) offsets[from[i]! + 1]!++;
    for (let v = 0; v < n; v++) offsets[v + 1]! += offsets[v]!;
    // Counting sort by source keeps each row in insertion order, so traversals are deterministic.
    const cursor = offsets.slice(0, n);
    const targets = new Uint32Array(m);
    const flags = new Uint8Array(m);
    const order = new Uint32Array(m);
    for (let i = 0; i < m; i++) {
      const at = cursor[from[i]!]!++;
      targets[at] = this.to[i]!;
      flags[at] = this.flags[i]!;
      order[at] = i;
    }
    return { nodeCount: n, edgeCount: m, addresses: this.addresses, ids: this.ids, offsets, targets, flags, order, ruleIds: this.ruleIds };
  }

  private grow(): void {
    const size = this.from.length * 2;
    const from = new Uint32Array(size);
    from.set(this.from);
    const to = new Uint32Array(size);
    to.set(this.to);
    const flags = new Uint8Array(size);
    flags.set(this.flags);
    this.from = from;
    this.to = to;
    this.flags = flags;
  }
}

export function buildGraph(edges: Iterable<ForwardEdge>): ForwardingGraph {
  const builder = new ForwardingGraphBuilder();
  for (const edge of edges) builder.addEdge(edge.from, edge.to, edge.conditional, edge.source, edge.ruleId);
  return builder.build();
}

/** The node id of an address (any case), or undefined when the graph never saw it. */
export function nodeId(graph: ForwardingGraph, address: string): number | undefined {
  return graph.ids.get(address) ?? graph.ids.get(address.toLowerCase());
}

/** The edges out of one mailbox, as they were added. */
export function edgesFrom(graph: ForwardingGraph, address: string): ForwardEdge[] {
  const v = nodeId(graph, address);
  if (v === undefined) return [];
  const edges: ForwardEdge[] = [];
  for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
    const flags = graph.flags[e]!;
    const ruleId = graph.ruleIds.get(graph.order[e]!);
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

/**
 * Every cycle group in the graph, ordered by the address each path starts at. Tarjan's algorithm
 * with an explicit stack, O(nodes + edges); then, per group, a breadth-first search inside the
 * group for the shortest loop through its smallest address.
 */
export function findCycles(graph: ForwardingGraph): CycleGroup[] {
  const { nodeCount: n, offsets, targets } = graph;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  const callNode = new Int32Array(n);
  const callEdge = new Uint32Array(n);
  let selfLoops: Uint8Array | undefined;
  const groups: Int32Array[] = [];
  let counter = 0;
  let sp = 0;

  for (let root = 0; root < n; root++) {
    // A node nothing leaves cannot be on a loop; most external targets are such nodes.
    if (index[root] !== -1 || offsets[root] === offsets[root + 1]) continue;
    index[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    callNode[0] = root;
    callEdge[0] = offsets[root]!;
    let csp = 1;
    while (csp > 0) {
      const v = callNode[csp - 1]!;
      const e = callEdge[csp - 1]!;
      if (e < offsets[v + 1]!) {
        callEdge[csp - 1] = e + 1;
        const w = targets[e]!;
        if (w === v) {
          (selfLoops ??= new Uint8Array(n))[v] = 1;
        } else if (index[w] === -1) {
          if (offsets[w] === offsets[w + 1]) continue;
          index[w] = low[w] = counter++;
          stack[sp++] = w;
          onStack[w] = 1;
          callNode[csp] = w;
          callEdge[csp] = offsets[w]!;
          csp++;
        } else if (onStack[w] === 1 && index[w]! < low[v]!) {
          low[v] = index[w]!;
        }
        continue;
      }
      csp--;
      if (low[v] === index[v]) {
        let size = 0;
        while (stack[sp - 1 - size] !== v) size++;
        size++;
        sp -= size;
        for (let i = sp; i < sp + size; i++) onStack[stack[i]!] = 0;
        if (size > 1 || selfLoops?.[v] === 1) groups.push(stack.slice(sp, sp + size));
      }
      if (csp > 0) {
        const u = callNode[csp - 1]!;
        if (low[v]! < low[u]!) low[u] = low[v]!;
      }
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
