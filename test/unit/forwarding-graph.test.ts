import { describe, expect, it } from 'vitest';
import { AddressIndex } from '../../src/core/forwarding/address-index.js';
import { findCycles, formatCycle, wouldCreateCycle } from '../../src/core/forwarding/cycles.js';
import { buildGraph, edgesFrom, EDGE_USER, ForwardingGraphBuilder, nodeId, type ForwardEdge } from '../../src/core/forwarding/graph.js';

const edge = (from: string, to: string, extra: Partial<ForwardEdge> = {}): ForwardEdge => ({ from, to, conditional: false, source: 'user', ...extra });
/** Edges along a path: chain('a', 'b', 'c') is a -> b -> c. */
const chain = (...nodes: string[]): ForwardEdge[] => nodes.slice(1).map((to, i) => edge(nodes[i]!, to));

describe('forwarding graph', () => {
  it('interns addresses case-insensitively and keeps each edge as reported', () => {
    const graph = buildGraph([edge('Alice@x.test', 'bob@x.test', { source: 'postmaster', ruleId: 'fw-1', conditional: true }), edge('alice@x.test', 'Carol@x.test')]);
    expect(graph.nodeCount).toBe(3);
    expect(graph.edgeCount).toBe(2);
    expect(nodeId(graph, 'ALICE@X.TEST')).toBe(nodeId(graph, 'alice@x.test'));
    expect(edgesFrom(graph, 'alice@x.test')).toEqual([
      { from: 'alice@x.test', to: 'bob@x.test', conditional: true, source: 'postmaster', ruleId: 'fw-1' },
      { from: 'alice@x.test', to: 'carol@x.test', conditional: false, source: 'user' },
    ]);
    expect(edgesFrom(graph, 'nobody@x.test')).toEqual([]);
  });

  it('finds no cycle in a forest or a diamond', () => {
    expect(findCycles(buildGraph([...chain('a', 'b', 'c'), ...chain('a', 'd', 'c'), edge('c', 'out@else.test')]))).toEqual([]);
    expect(findCycles(buildGraph([]))).toEqual([]);
  });

  it('finds a mailbox forwarding to itself (length 1)', () => {
    expect(findCycles(buildGraph([edge('a', 'a'), edge('a', 'b')]))).toEqual([{ path: ['a', 'a'], members: ['a'], conditional: false }]);
  });

  it('finds A -> B -> A (length 2) and names it from its smallest address', () => {
    const [cycle] = findCycles(buildGraph(chain('b', 'a', 'b')));
    expect(cycle).toEqual({ path: ['a', 'b', 'a'], members: ['a', 'b'], conditional: false });
    expect(formatCycle(cycle!.path)).toBe('a -> b -> a');
  });

  it('finds a loop of 3 with the way in and out ignored', () => {
    const cycles = findCycles(buildGraph([edge('in', 'c'), ...chain('c', 'a', 'b', 'c'), edge('b', 'out')]));
    expect(cycles).toEqual([{ path: ['a', 'b', 'c', 'a'], members: ['a', 'b', 'c'], conditional: false }]);
  });

  it('finds a long loop, iteratively: 200,000 mailboxes would overflow a recursive search', () => {
    const n = 200_000;
    const edges: ForwardEdge[] = [];
    for (let i = 0; i < n; i++) edges.push(edge(`m${i}`, `m${(i + 1) % n}`));
    const cycles = findCycles(buildGraph(edges));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]!.path).toHaveLength(n + 1);
    expect(cycles[0]!.path[0]).toBe('m0');
    expect(cycles[0]!.path.at(-1)).toBe('m0');
    expect(new Set(cycles[0]!.members).size).toBe(n);
  });

  it('finds several disjoint loops, each once, ordered by their first address', () => {
    const graph = buildGraph([...chain('x', 'y', 'x'), ...chain('p', 'q', 'r', 'p'), edge('s', 's'), ...chain('y', 'p'), edge('solo', 'x')]);
    expect(findCycles(graph).map((c) => formatCycle(c.path))).toEqual(['p -> q -> r -> p', 's -> s', 'x -> y -> x']);
  });

  it('gives one group for loops that share mailboxes, naming one loop and every member', () => {
    // a <-> b and b <-> c: one strongly connected group {a, b, c}.
    const [cycle, ...rest] = findCycles(buildGraph([...chain('a', 'b', 'a'), ...chain('b', 'c', 'b')]));
    expect(rest).toEqual([]);
    expect(cycle!.path).toEqual(['a', 'b', 'a']);
    expect(cycle!.members).toEqual(['a', 'b', 'c']);
  });

  it('counts conditional edges as loop edges, and says when a loop needs one', () => {
    const conditional = findCycles(buildGraph([edge('a', 'b', { conditional: true }), edge('b', 'a')]));
    expect(conditional).toEqual([{ path: ['a', 'b', 'a'], members: ['a', 'b'], conditional: true }]);
    // An unconditional way round is preferred for the path, even when longer.
    const both = findCycles(buildGraph([edge('a', 'b', { conditional: true }), edge('b', 'a'), ...chain('a', 'c', 'd', 'a')]));
    expect(both[0]).toMatchObject({ path: ['a', 'c', 'd', 'a'], conditional: false });
  });
});

describe('AddressIndex', () => {
  it('gives each address one id, whatever its case, in the order addresses first appear', () => {
    const index = new AddressIndex();
    expect(['a@x.test', 'B@x.test', 'A@X.TEST', 'b@x.test', 'c@x.test'].map((a) => index.intern(a))).toEqual([0, 1, 0, 1, 2]);
    expect(index.addresses).toEqual(['a@x.test', 'b@x.test', 'c@x.test']);
    expect(index.get('C@x.TEST')).toBe(2);
    expect(index.get('d@x.test')).toBeUndefined();
  });

  it('lower-cases beyond ASCII as toLowerCase does, and tells apart addresses that differ anywhere', () => {
    const index = new AddressIndex();
    const kelvin = index.intern('\u212Aate@x.test'); // KELVIN SIGN: lower-cases to an ASCII k
    expect(index.intern('kate@x.test')).toBe(kelvin);
    const umlaut = index.intern('JÖRG@x.test');
    expect(index.intern('jörg@x.test')).toBe(umlaut);
    expect(index.addresses[umlaut]).toBe('jörg@x.test');
    const similar = ['a', 'ab', 'abc', 'abcd', 'abcde', 'abce', 'abcd@', 'x'.repeat(300), 'x'.repeat(301), 'ä', 'äb', ''];
    const ids = similar.map((a) => index.intern(a));
    expect(new Set(ids).size).toBe(similar.length);
    expect(similar.map((a) => index.get(a.toUpperCase()))).toEqual(ids);
  });

  it('keeps every id as the table grows, one address at a time or in batches', () => {
    const one = new AddressIndex();
    const many = new AddressIndex(10);
    const addresses = Array.from({ length: 5_000 }, (_, i) => `user${(i * 7) % 3_000}@x.test`);
    const ids = new Uint32Array(addresses.length);
    many.internAll(addresses, addresses.length, ids, 0);
    expect([...ids]).toEqual(addresses.map((a) => one.intern(a)));
    expect(many.addresses).toEqual(one.addresses);
    expect(many.get('USER2999@x.test')).toBe(one.get('user2999@x.test'));
  });

  it('finds long, mixed-case and non-ASCII addresses again after the table grows for their length', () => {
    // 80-character addresses take several record units each, so the table outgrows its units before its slots.
    const long = (i: number) => `${'department.of.long.names.'.repeat(2)}${i}-${'x'.repeat(i % 13)}@sub.example.test`;
    const mixed = (i: number) => (i % 3 === 0 ? long(i).toUpperCase() : i % 3 === 1 ? `jörg${i}@x.test` : long(i));
    const addresses = Array.from({ length: 3_000 }, (_, i) => mixed((i * 7) % 2_000));
    const one = new AddressIndex();
    const many = new AddressIndex();
    const ids = new Uint32Array(addresses.length);
    many.internAll(addresses, addresses.length, ids, 0);
    expect([...ids]).toEqual(addresses.map((a) => one.intern(a)));
    expect(many.size).toBe(2_000);
    expect(many.addresses.every((a) => a === a.toLowerCase())).toBe(true);
    expect(addresses.map((a) => many.get(a.toLowerCase()))).toEqual([...ids]);
    expect(many.get(long(2_001))).toBeUndefined();
    expect(many.get(`${long(3)}x`)).toBeUndefined();
  });
});

describe('ForwardingGraphBuilder', () => {
  it('keeps each row in the order its edges were added, however they arrive', () => {
    const builder = new ForwardingGraphBuilder({ nodes: 1, edges: 1 });
    const a = builder.node('a');
    builder.addEdges('b', ['c', 'a'], false, 'user');
    builder.addEdges('a', ['c'], true, 'postmaster', 'fw-1');
    builder.addEdgeIds(a, builder.node('b'), EDGE_USER);
    builder.addEdge('b', 'd', false, 'postmaster');
    builder.addEdges('a', [], false, 'user');
    const graph = builder.build();
    expect(graph.edgeCount).toBe(5);
    expect(edgesFrom(graph, 'a')).toEqual([
      { from: 'a', to: 'c', conditional: true, source: 'postmaster', ruleId: 'fw-1' },
      { from: 'a', to: 'b', conditional: false, source: 'user' },
    ]);
    expect(edgesFrom(graph, 'b').map((e) => e.to)).toEqual(['c', 'a', 'd']);
  });

  it("tells each reading's mailbox node, a mailbox whose reading has no targets included", () => {
    const builder = new ForwardingGraphBuilder();
    const known = builder.nodes(['Zed@x.test', 'amy@x.test']);
    const sources = [
      builder.addEdges('amy@x.test', ['bob@x.test'], false, 'user'),
      builder.addEdges('amy@x.test', ['cat@x.test'], true, 'postmaster', 'fw-1'),
      builder.addEdges('quiet@x.test', [], false, 'user'),
      ...Array.from({ length: 600 }, (_, i) => builder.addEdges(`m${i}@x.test`, [`m${i + 1}@x.test`], false, 'user')),
    ];
    const graph = builder.build();
    expect([...known]).toEqual([nodeId(graph, 'zed@x.test'), nodeId(graph, 'amy@x.test')]);
    const mailboxes = ['amy@x.test', 'amy@x.test', 'quiet@x.test', ...Array.from({ length: 600 }, (_, i) => `m${i}@x.test`)];
    expect(sources.map((s) => builder.sourceNode(s))).toEqual(mailboxes.map((m) => nodeId(graph, m)));
    expect(edgesFrom(graph, 'quiet@x.test')).toEqual([]);
    expect(edgesFrom(graph, 'm599@x.test').map((e) => e.to)).toEqual(['m600@x.test']);
  });
});

describe('wouldCreateCycle', () => {
  const graph = buildGraph([...chain('b', 'c', 'a'), edge('d', 'e', { conditional: true }), edge('e', 'a'), edge('z', 'a')]);

  it('names the loop that the new edges would close, shortest first', () => {
    expect(wouldCreateCycle(graph, 'a', ['c'])).toEqual(['a', 'c', 'a']);
    expect(wouldCreateCycle(graph, 'a', ['b'])).toEqual(['a', 'b', 'c', 'a']);
    expect(wouldCreateCycle(graph, 'a', ['x', 'b', 'c'])).toEqual(['a', 'c', 'a']);
  });

  it('treats a target equal to the mailbox as a loop of one', () => {
    expect(wouldCreateCycle(graph, 'a', ['A'])).toEqual(['a', 'a']);
  });

  it('counts a conditional edge on the way back', () => {
    expect(wouldCreateCycle(graph, 'a', ['d'])).toEqual(['a', 'd', 'e', 'a']);
  });

  it('is undefined when nothing leads back, or the addresses are unknown', () => {
    expect(wouldCreateCycle(graph, 'b', ['z'])).toBeUndefined();
    expect(wouldCreateCycle(graph, 'a', ['new@else.test'])).toBeUndefined();
    expect(wouldCreateCycle(graph, 'fresh', ['a'])).toBeUndefined();
  });

  it('searches iteratively and leaves the graph usable for the next question', () => {
    const n = 150_000;
    const edges: ForwardEdge[] = [];
    for (let i = 0; i < n; i++) edges.push(edge(`m${i}`, `m${i + 1}`));
    const long = buildGraph(edges);
    expect(wouldCreateCycle(long, `m${n}`, ['m0'])).toHaveLength(n + 2);
    expect(wouldCreateCycle(long, `m${n}`, ['m5'])).toHaveLength(n - 3);
    expect(wouldCreateCycle(long, 'm0', ['m5'])).toBeUndefined();
  });
});
