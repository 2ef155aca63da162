/**
 * Loops in the forwarding graph: every cycle group at once for the audit (findCycles), and the one
 * loop a new rule would close for the guardrail (wouldCreateCycle).
 */
import { EDGE_CONDITIONAL, nodeId, type ForwardingGraph } from './graph.js';

/** A cycle group: a strongly connected component with more than one mailbox, or a mailbox forwarding to itself. */
export interface CycleGroup {
  /** One concrete loop, closed: ['a@x', 'b@x', 'a@x']. Starts at the group's smallest address. */
  path: string[];
  /** Every mailbox in the group: the path's mailboxes in path order, then the rest sorted. */
  members: string[];
  /** The path needs a conditional edge: the group has no unconditional loop through its start. */
  conditional: boolean;
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
