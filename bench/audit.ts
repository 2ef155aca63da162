/**
 * Forwarding audit benchmark (issue 4): a synthetic domain of 100,000 mailboxes and 300,000
 * forwarding edges with planted loops, then the same at 4x. Prints, from one run:
 *   - graph analysis time as a multiple of a plain pass that reads every edge once, every character
 *     of both addresses (the floor; goal <= 3x): telling addresses apart needs their characters;
 *   - analysis time at 4x as a multiple of 1x (goal <= 4.5x);
 *   - peak RSS at 1x (goal < 300 MB);
 *   - FOUND n/n: every planted loop found (the one assertion: exit 1 otherwise);
 *   - the full audit against a provider double limited to 40 requests/s over 2,000 mailboxes, as a
 *     share of the allowed rate (goal >= 90%; bench/audit-rate.ts).
 *
 *   npm run bench:audit -- [--rounds 3] [--tsx] [--provider-mailboxes 2000]
 *
 * Each size runs in a child process so its peak RSS is its own. The child is the TypeScript
 * bundled to plain JS by esbuild (tsx's own dependency), which is how compiled code runs; --tsx
 * runs it under the tsx loader instead, whose compiler adds some 40 MB of RSS that is not the audit's.
 * Each phase runs --rounds times after one warm-up, each time on freshly made address strings (V8
 * keeps a string's hash once computed, so re-running on the same strings flatters anything that
 * hashes them). The figures use CPU time, the least of the rounds, because the machine may be
 * shared: wall-clock time there measures the neighbours. Median wall-clock times are printed too.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildResult, Timing } from './audit-child.js';
import { flag, prepareChild, type ChildCommand } from './lib/cli.js';
import { auditAgainstRateLimitedDouble } from './audit-rate.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHILD_LIMIT_MS = 10 * 60_000;




function runChild(child: ChildCommand, scale: number, rounds: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', ...child.args, '--scale', String(scale), '--rounds', String(rounds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_LIMIT_MS);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`the ${scale}x run exited with ${code}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildResult);
      } catch {
        reject(new Error(`the ${scale}x run printed no result: ${stdout.slice(-500)}`));
      }
    });
  });
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const timing = (t: Timing) => `${ms(t.cpuMs).padStart(10)} CPU  (${ms(t.wallMs)} wall)`;
const times = (value: number) => `${value.toFixed(2)}x`;
const count = (value: number) => value.toLocaleString('en-US');
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');

async function main(): Promise<void> {
  const rounds = flag('rounds', 3);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-bench-audit-'));
  try {
    const child = await prepareChild(path.join(HERE, 'audit-child.ts'), path.join(dir, 'child'), process.argv.includes('--tsx'));
    console.log(`Forwarding audit benchmark: ${child.label}, Node ${process.version}, ${os.cpus().length} CPU(s), load ${os.loadavg()[0]!.toFixed(1)}, ${rounds} rounds`);
    const one = await runChild(child, 1, rounds);
    const four = await runChild(child, 4, rounds);

    for (const r of [one, four]) {
      console.log('');
      console.log(`${r.scale}x: ${count(r.mailboxes)} mailboxes, ${count(r.edges)} edges, ${r.planted} planted loops`);
      console.log(`  floor: read every edge once          ${timing(r.floor)}`);
      console.log(`  floor + look both ends up in a Map   ${timing(r.lookupFloor)}`);
      console.log(`  graph analysis                       ${timing(r.analysis)}`);
      console.log(`    intern addresses                   ${timing(r.intern)}`);
      console.log(`    CSR                                ${timing(r.csr)}`);
      console.log(`    cycles (Tarjan + loop paths)       ${timing(r.cycles)}`);
      console.log(`  whole audit: graph, findings,        ${timing(r.audit)}`);
      console.log(`    diff, CSV (${count(r.findings)} findings, ${(r.csvBytes / 1e6).toFixed(1)} MB)`);
      console.log(`  peak RSS after one whole audit       ${r.peakRssMB.toFixed(0)} MB (node alone: ${r.startRssMB.toFixed(0)} MB)`);
      console.log(`  FOUND ${r.found}/${r.planted} planted loops (${r.cycleGroups} loops reported in all)`);
    }

    const ratio = one.analysis.cpuMs / one.floor.cpuMs;
    const scaling = four.analysis.cpuMs / one.analysis.cpuMs;
    console.log('');
    console.log(`Figures (CPU time, least of ${rounds} rounds)`);
    console.log(`  graph analysis / floor at 1x          ${times(ratio)}  goal <= 3x: ${verdict(ratio <= 3)}`);
    console.log(`    CSR + cycles alone / floor          ${times((one.csr.cpuMs + one.cycles.cpuMs) / one.floor.cpuMs)}`);
    console.log(`    graph analysis / length-only floor  ${times(one.analysis.cpuMs / one.lengthOnlyFloor.cpuMs)}  (a pass that reads each address's length, not its characters)`);
    console.log(`    graph analysis / (floor + lookups)  ${times(one.analysis.cpuMs / one.lookupFloor.cpuMs)}`);
    console.log(`  graph analysis 4x / 1x                ${times(scaling)}  goal <= 4.5x: ${verdict(scaling <= 4.5)}`);
    console.log(`    floor 4x / 1x                       ${times(four.floor.cpuMs / one.floor.cpuMs)}  (the same reads at 4x: what this machine's caches make of 4x the data)`);
    console.log(`  whole audit 4x / 1x                   ${times(four.audit.cpuMs / one.audit.cpuMs)}`);
    console.log(`  peak RSS at 1x                        ${one.peakRssMB.toFixed(0)} MB  goal < 300 MB: ${verdict(one.peakRssMB < 300)}`);
    console.log(`  FOUND ${one.found}/${one.planted} at 1x, ${four.found}/${four.planted} at 4x`);

    const limited = await auditAgainstRateLimitedDouble({ mailboxes: flag('provider-mailboxes', 2_000), limit: 40, concurrency: 8 });
    console.log('');
    console.log(`Full audit against a provider double limited to 40 requests/s (${count(limited.mailboxes)} mailboxes, AUDIT_CONCURRENCY 8)`);
    console.log(`  ${count(limited.requests)} requests in ${limited.seconds.toFixed(1)} s = ${limited.rate.toFixed(1)} req/s; ${limited.limit429} answered 429 by the limit; ${count(limited.findings)} findings`);
    console.log(`  share of the allowed rate             ${(limited.share * 100).toFixed(1)}%  goal >= 90%: ${verdict(limited.share >= 0.9)}`);

    const allFound = [one, four].every((r) => r.found === r.planted && r.cycleGroups === r.planted);
    if (!allFound) {
      console.error('FAILED: a planted loop was not found, or a loop was found that was not planted');
      process.exitCode = 1;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
