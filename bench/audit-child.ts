/**
 * One size of the audit benchmark, in a process of its own so that its peak RSS is its own. Run
 * by bench/audit.ts with `--scale N`; prints one JSON line (ChildResult) on stdout.
 */
import { graphSizeHint, type AuditSnapshot, type ForwardingEntry } from '../src/core/findings/audit.js';
import { buildReport, findingsCsv } from '../src/core/findings/report.js';
import { findCycles } from '../src/core/forwarding/cycles.js';
import { ForwardingGraphBuilder } from '../src/core/forwarding/graph.js';
import { syntheticDomain } from './audit-domain.js';

/**
 * One phase's time. The machine may be shared, so the figures use CPU time (process.cpuUsage:
 * the work done, not the time spent waiting for a core), the least of the rounds; the median
 * wall-clock time is there for reference.
 */
export interface Timing {
  cpuMs: number;
  wallMs: number;
}

export interface ChildResult {
  scale: number;
  mailboxes: number;
  edges: number;
  planted: number;
  found: number;
  cycleGroups: number;
  findings: number;
  csvBytes: number;
  /** One plain pass that reads every edge once: both addresses, character by character, and the flags. */
  floor: Timing;
  /** The floor as it was first measured: every edge's fields, but of each address only its length. */
  lengthOnlyFloor: Timing;
  /** A pass that reads every edge and looks both ends up in a ready address -> id Map. */
  lookupFloor: Timing;
  /** Graph analysis, by phase: addresses to ids (with the edge arrays), CSR, cycles; and in all. */
  intern: Timing;
  csr: Timing;
  cycles: Timing;
  analysis: Timing;
  /** The whole weekly audit: graph, findings, summary, diff with last week, CSV. */
  audit: Timing;
  rounds: number;
  /** process.resourceUsage().maxRSS after generating the domain and running one whole audit. */
  peakRssMB: number;
  /** The same before the domain was generated: what node itself takes. */
  startRssMB: number;
}

export const MAILBOXES_1X = 100_000;
export const EDGES_1X = 300_000;
export const LOOPS_1X = 50;

/**
 * The input every pass below reads, and the graph analysis receives: what the provider's readings
 * say, one entry per rule or script of a mailbox, each with its target addresses.
 */
type Readings = readonly ForwardingEntry[];

/**
 * The floor: one plain pass that reads every edge once and does nothing else. An edge is its two
 * addresses and its flags, and reading an address means reading its characters: no analysis can
 * tell two addresses apart with less. A mailbox's address is read once per entry, as the entry
 * gives it once for all its targets. The checksum keeps the JIT from dropping the reads.
 */
export function floorPass(readings: Readings): number {
  let sum = 0;
  for (let i = 0; i < readings.length; i++) {
    const entry = readings[i]!;
    if (!entry.readable) continue;
    sum = sumChars(entry.mailbox, sum);
    const targets = entry.targets;
    for (let t = 0; t < targets.length; t++) sum = sumChars(targets[t]!, sum);
    sum = (sum + (entry.conditional ? 1 : 0) + (entry.source === 'user' ? 2 : 0) + (entry.ruleId === undefined ? 0 : 4)) | 0;
  }
  return sum;
}

function sumChars(text: string, sum: number): number {
  for (let i = 0; i < text.length; i++) sum = (sum + text.charCodeAt(i)) | 0;
  return sum;
}

/** The floor as first defined: every field of every edge, but of an address only its length, which does not read it. */
export function lengthOnlyPass(readings: Readings): number {
  let sum = 0;
  for (let i = 0; i < readings.length; i++) {
    const entry = readings[i]!;
    if (!entry.readable) continue;
    const targets = entry.targets;
    for (let t = 0; t < targets.length; t++) sum += entry.mailbox.length + targets[t]!.length + (entry.conditional ? 1 : 0) + (entry.source === 'user' ? 2 : 0);
  }
  return sum;
}

/** The floor plus mapping both ends of every edge to ids through a Map built beforehand (a mailbox once per entry, as the floor reads it): the cost of hashing alone. */
export function lookupPass(readings: Readings, ids: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (let i = 0; i < readings.length; i++) {
    const entry = readings[i]!;
    if (!entry.readable) continue;
    sum += ids.get(entry.mailbox)! + (entry.conditional ? 1 : 0) + (entry.source === 'user' ? 2 : 0);
    const targets = entry.targets;
    for (let t = 0; t < targets.length; t++) sum += ids.get(targets[t]!)!;
  }
  return sum;
}

/** Addresses to ids and edges to arrays, as the audit does it: the readings fed to the builder as they would arrive. */
function internReadings(snapshot: AuditSnapshot): ForwardingGraphBuilder {
  const builder = new ForwardingGraphBuilder(graphSizeHint(snapshot));
  for (const entry of snapshot.forwarding) if (entry.readable) builder.addEdges(entry.mailbox, entry.targets, entry.conditional, entry.source, entry.ruleId);
  return builder;
}

function rssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

interface Sample {
  cpu: number;
  wall: number;
}

function summary(samples: Sample[]): Timing {
  const walls = samples.map((x) => x.wall).sort((x, y) => x - y);
  return { cpuMs: Math.min(...samples.map((x) => x.cpu)), wallMs: walls[Math.floor(walls.length / 2)]! };
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const pause = new Int32Array(new SharedArrayBuffer(4));
/** Ample for the sweep after a full collection of the 4x heap on this 2-CPU machine. */
const SETTLE_MS = 150;

/**
 * A full collection, then a pause while V8's background threads finish sweeping what it freed.
 * process.cpuUsage() counts every thread, so without the pause the next phase would be billed for
 * cleaning up after the one before it: tens of ms, more than a short phase takes.
 */
function settle(): void {
  gc();
  Atomics.wait(pause, 0, 0, SETTLE_MS);
}

function time<T>(work: () => T): Sample & { value: T } {
  settle();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = work();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { cpu: (used.user + used.system) / 1000, wall, value };
}

/** Planted loops whose members are exactly one loop finding's targets. */
function countFound(planted: string[][], loops: string[][]): number {
  const groups = new Set(loops.map((members) => [...members].sort().join(' ')));
  return planted.filter((loop) => groups.has([...loop].sort().join(' '))).length;
}

function main(): void {
  const at = process.argv.indexOf('--scale');
  const scale = at < 0 ? 1 : Number(process.argv[at + 1]);
  const roundsAt = process.argv.indexOf('--rounds');
  const rounds = roundsAt < 0 ? 3 : Number(process.argv[roundsAt + 1]);
  const startRssMB = rssMB();

  const domain = syntheticDomain({ mailboxes: MAILBOXES_1X * scale, edges: EDGES_1X * scale, loops: LOOPS_1X * scale, seed: 42 });

  // One whole audit first, cold, as the weekly job runs it: that is the peak RSS reported.
  let data = domain.materialize();
  const first = buildReport(data.snapshot);
  const csv = findingsCsv(first.findings);
  const peakRssMB = rssMB();
  const loops = first.findings.filter((f) => f.kind === 'loop');
  const found = countFound(domain.planted, loops.map((f) => f.targets));
  // Last week: the same findings minus every tenth, so the diff has something to say.
  const previous = first.findings.filter((_, i) => i % 10 !== 0);

  const phases = { floor: [] as Sample[], lengthOnly: [] as Sample[], lookup: [] as Sample[], intern: [] as Sample[], csr: [] as Sample[], cycles: [] as Sample[], analysis: [] as Sample[], audit: [] as Sample[] };
  let sink = 0;
  let edgeCount = 0;
  for (let round = -1; round < rounds; round++) {
    // Every pass gets freshly made readings, as the analysis does.
    let readings = domain.materialize().snapshot.forwarding;
    const f = time(() => floorPass(readings));
    readings = domain.materialize().snapshot.forwarding;
    const o = time(() => lengthOnlyPass(readings));
    const forAnalysis = domain.materialize().snapshot;
    const i = time(() => internReadings(forAnalysis));
    const b = time(() => i.value.build());
    const c = time(() => findCycles(b.value));
    edgeCount = b.value.edgeCount;
    sink += f.value + o.value + c.value.length;
    // The lookup floor needs strings no Map has hashed yet, like the analysis had.
    const ids = new Map(b.value.addresses.map((address, id) => [address, id]));
    readings = domain.materialize().snapshot.forwarding;
    const l = time(() => lookupPass(readings, ids));
    sink += l.value;
    data = domain.materialize();
    const snapshot = data.snapshot;
    const a = time(() => {
      const report = buildReport(snapshot, previous);
      return findingsCsv(report.findings).length + (report.change?.new.length ?? 0);
    });
    sink += a.value;
    // Round -1 warms the JIT up and is not counted.
    if (round < 0) continue;
    phases.floor.push(f);
    phases.lengthOnly.push(o);
    phases.lookup.push(l);
    phases.intern.push(i);
    phases.csr.push(b);
    phases.cycles.push(c);
    phases.analysis.push({ cpu: i.cpu + b.cpu + c.cpu, wall: i.wall + b.wall + c.wall });
    phases.audit.push(a);
  }

  const result: ChildResult = {
    scale,
    mailboxes: MAILBOXES_1X * scale,
    edges: edgeCount,
    planted: domain.planted.length,
    found,
    cycleGroups: loops.length,
    findings: first.findings.length,
    csvBytes: Buffer.byteLength(csv),
    floor: summary(phases.floor),
    lengthOnlyFloor: summary(phases.lengthOnly),
    lookupFloor: summary(phases.lookup),
    intern: summary(phases.intern),
    csr: summary(phases.csr),
    cycles: summary(phases.cycles),
    analysis: summary(phases.analysis),
    audit: summary(phases.audit),
    rounds,
    peakRssMB,
    startRssMB,
  };
  if (sink === -1) console.error('unreachable');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
