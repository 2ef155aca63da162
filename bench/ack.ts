/**
 * Ack benchmark for `/offboard`: bursts of 200 concurrent signed slash commands at the HTTP
 * receiver, with a mail server that answers after 2 s. Prints p50 and p99 ack latency (request
 * sent -> HTTP response) of Postmaster's Slack app next to a bare Bolt app that only acks, measured
 * in the same run, and the p99 ratio (goal: at most 1.2x). Absolute times vary by machine and with
 * whatever else it runs; the ratio is the figure.
 *
 *   npm run bench:ack [-- --requests 200 --rounds 10 --warmup 2 --control]
 *
 * Fairness, since a 2-CPU machine shared with other work is noisy:
 * - Each app and the Slack Web API stand-in run in their own process, so neither the load
 *   generator nor the API the app calls after its ack share the measured app's event loop.
 * - One client (this process), one agent, the same concurrency and, within a round, the very same
 *   signed request bodies for every app.
 * - Rounds interleave the apps and alternate their order (bare first, then Postmaster first), so
 *   drift in the machine's load hits both; warm-up rounds are not counted. No app's burst overlaps
 *   Postmaster's follow-up work (views.open, the 2 s lookup, views.update): when Postmaster goes
 *   first, the bare app goes once its modals are open and it only waits for the mail server, and
 *   is measured again after the follow-up if that came back during the burst.
 * - A round's p99 is nearly its slowest request, so one stall of the machine skews it. The verdict
 *   is the median of the per-round ratios; the ratio of the pooled p99s is printed beside it.
 * - Beside the latencies, each app's CPU time and GC pauses from a burst's start to its last ack:
 *   less noisy than wall time, and what the acks wait on when the CPUs are busy.
 * - `--control` adds a second bare app measured the same way: its ratio to the first shows how far
 *   two identical apps drift apart on this machine right now (the noise floor).
 * Everything listens on 127.0.0.1 and the whole run stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { flag, hasFlag } from './lib/cli.js';
import { ascending, median, percentile } from './lib/stats.js';

const SELF = fileURLToPath(import.meta.url);
const TOKEN = 'xoxb-bench-token';
const SECRET = 'bench-signing-secret';
const PROVIDER_DELAY_MS = 2000;
const OVERALL_LIMIT_MS = 10 * 60_000;
const GOAL_RATIO = 1.2;
/** A child that used less CPU than this in this long is idle (answering the question costs a little). */
const IDLE_WINDOW_MS = 100;
const IDLE_CPU_MS = 3;

function option(name: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? '' : (process.argv[at + 1] ?? '');
}

/** Prints one JSON line the parent reads. */
const announce = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

/** A child answers each line on stdin with one JSON line; the parent asks one thing at a time. */
function answer(reply: (line: string) => unknown): void {
  createInterface({ input: process.stdin }).on('line', (line) => announce(reply(line)));
}

/** CPU time and garbage-collection pauses so far (ms), for the parent to take differences of. */
function processCosts(): () => { cpuMs: number; gcMs: number } {
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ['gc'] });
  return () => {
    const { user, system } = process.cpuUsage();
    return { cpuMs: (user + system) / 1000, gcMs };
  };
}

// ---------------------------------------------------------------------------------------------
// Child roles

async function runApi(): Promise<void> {
  const { startSlackApi } = await import('../test/support/slack-api.js');
  const api = await startSlackApi(TOKEN);
  announce({ url: api.url });
  // "<epoch ms>": views.open and views.update so far, and when the first call at or after that time came.
  answer((line) => {
    const since = Number(line);
    const first = api.calls.find((call) => call.at >= since);
    return { opens: api.callsTo('views.open').length, updates: api.callsTo('views.update').length, firstCallAt: first?.at ?? null };
  });
  process.stdin.on('end', () => process.exit(0));
}

async function runBare(apiUrl: string): Promise<void> {
  const { App, LogLevel } = await import('@slack/bolt');
  const app = new App({
    token: TOKEN,
    signingSecret: SECRET,
    tokenVerificationEnabled: false,
    botId: 'BBOT',
    botUserId: 'UBOT',
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 } },
  });
  app.command('/offboard', async ({ ack }) => {
    await ack();
  });
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as import('node:http').Server;
  announce({ port: (server.address() as import('node:net').AddressInfo).port });
  answer(processCosts());
  process.stdin.on('end', () => process.exit(0));
}

async function runOurs(apiUrl: string): Promise<void> {
  const { loadConfig } = await import('../src/config.js');
  const { createLogger } = await import('../src/logger.js');
  const { composePostmaster } = await import('../src/compose.js');
  const { createSlackApp } = await import('../src/slack/app.js');
  const { FakeProvider } = await import('../test/support/slack-fake-provider.js');
  const { fakeProviderEnv } = await import('../test/support/slack-harness.js');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-bench-ack-'));
  const provider = new FakeProvider(['alice@example.test']);
  provider.delays.getMailbox = PROVIDER_DELAY_MS;
  const logger = createLogger({ level: 'error' });
  const postmaster = await composePostmaster(loadConfig(fakeProviderEnv(dir)), logger, { provider });
  const slack = createSlackApp({
    postmaster,
    slack: { SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: apiUrl, PORT: 0, APPROVALS_CHANNEL: 'CAPPROVALS', AUDIT_CHANNEL: 'CAUDIT' },
    logger,
    host: '127.0.0.1',
    port: 0,
    botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
    clientOptions: { retryConfig: { retries: 0 } },
  });
  const started = await slack.start();
  announce({ port: started!.port });
  answer(processCosts());
  process.stdin.on('end', async () => {
    await slack.stop();
    await postmaster.close();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// Parent: the load generator

interface Child {
  process: ChildProcess;
  ask(line: string): Promise<any>;
}

/** Starts a role; resolves with the child and the first line it announced (where to reach it). */
async function startChild(args: string[]): Promise<{ child: Child; hello: any }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: Array<(value: any) => void> = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  const next = () => new Promise<any>((resolve) => waiting.push(resolve));
  const hello = await next();
  return {
    hello,
    child: {
      process: proc,
      ask(line) {
        const reply = next();
        proc.stdin!.write(`${line}\n`);
        return reply;
      },
    },
  };
}

interface Prepared {
  body: string;
  headers: Record<string, string>;
}

function signedCommand(triggerN: number): Prepared {
  const body = new URLSearchParams({
    token: 'unused',
    team_id: 'T1',
    team_domain: 'bench',
    channel_id: 'CGENERAL',
    channel_name: 'general',
    user_id: 'U1',
    user_name: 'u1',
    command: '/offboard',
    text: 'alice',
    api_app_id: 'A1',
    response_url: 'http://127.0.0.1:9/unused',
    trigger_id: `${triggerN}.bench.trigger`,
  }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signature,
    },
  };
}

/** Fires every prepared request at once; resolves with each one's ack latency in ms. */
async function burst(port: number, prepared: Prepared[], agent: Agent): Promise<number[]> {
  return Promise.all(
    prepared.map(
      ({ body, headers }) =>
        new Promise<number>((resolve, reject) => {
          const started = performance.now();
          const req = request({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST', headers, agent }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode}`))));
          });
          req.on('error', reject);
          req.end(body);
        }),
    ),
  );
}

type AppName = 'bare' | 'ours' | 'twin';
const LABEL: Record<AppName, string> = { bare: 'bare Bolt (ack only)', ours: 'Postmaster /offboard', twin: 'bare Bolt, 2nd (control)' };

interface Measured {
  latencies: number[];
  /** CPU the app used from the burst's start until its last ack: the cost of the ack path alone. */
  ackCpuMs: number;
  /** Garbage-collection pauses from the burst's start until its last ack. */
  ackGcMs: number;
  /** CPU the app used for the burst including its follow-up work. */
  cpuMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const loadStart = os.loadavg()[0]!;
  const requests = flag('requests', 200);
  const rounds = flag('rounds', 10);
  const warmup = flag('warmup', 2);
  const control = hasFlag('control');
  const deadline = setTimeout(() => {
    console.error('bench:ack took too long; stopping');
    process.exit(1);
  }, OVERALL_LIMIT_MS);

  const { child: api, hello: apiHello } = await startChild(['--role', 'api']);
  const names: AppName[] = control ? ['bare', 'twin', 'ours'] : ['bare', 'ours'];
  const started = await Promise.all(names.map((name) => startChild(['--role', name === 'ours' ? 'ours' : 'bare', '--api', apiHello.url])));
  const apps = new Map(names.map((name, i) => [name, { child: started[i]!.child, port: started[i]!.hello.port as number }]));
  const ours = apps.get('ours')!.child;
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const costsOf = (child: Child): Promise<{ cpuMs: number; gcMs: number }> => child.ask('cpu');
  const cpuOf = async (child: Child): Promise<number> => (await costsOf(child)).cpuMs;
  const apiSince = (epochMs: number): Promise<{ opens: number; updates: number; firstCallAt: number | null }> => api.ask(String(epochMs));

  /** Waits until the child spends (almost) no CPU: whatever work it still had is done. */
  const idle = async (child: Child) => {
    const until = Date.now() + 15_000;
    let before = await cpuOf(child);
    while (Date.now() < until) {
      await sleep(IDLE_WINDOW_MS);
      const after = await cpuOf(child);
      if (after - before < IDLE_CPU_MS) return;
      before = after;
    }
    console.error('bench:ack: a child did not become idle within 15 s; measuring anyway');
  };
  let opensSent = 0;
  let updatesSent = 0;
  /** Waits until the API stand-in counted what Postmaster's bursts so far must lead to. */
  const apiSaw = async (what: 'opens' | 'updates', count: number) => {
    const until = Date.now() + 30_000;
    while ((await apiSince(0))[what] < count && Date.now() < until) await sleep(50);
  };
  /** Postmaster's follow-up work has finished: every modal filled in, and nothing left running. */
  const settle = async () => {
    await apiSaw('updates', updatesSent);
    await idle(ours);
  };

  const fire = async (name: AppName, prepared: Prepared[]) => {
    const { child, port } = apps.get(name)!;
    const before = await costsOf(child);
    const sentAt = Date.now();
    const latencies = await burst(port, prepared, agent);
    const lastAckAt = Date.now();
    const after = await costsOf(child);
    return { child, latencies, sentAt, lastAckAt, cpuBefore: before.cpuMs, ackCpuMs: after.cpuMs - before.cpuMs, ackGcMs: after.gcMs - before.gcMs };
  };

  const measured = new Map<AppName, Measured[]>(names.map((name) => [name, []]));
  let overlapped = 0;
  let remeasured = 0;
  for (let round = 0; round < warmup + rounds; round++) {
    const counted = round >= warmup;
    // The same signed bodies for every app in this round; signing is not part of any latency.
    const prepared = Array.from({ length: requests }, (_, i) => signedCommand(round * requests + i));
    // Postmaster first in every other round. Between its modals opening and its lookups returning
    // (2 s) it only waits, so the bare apps go then, as close to it in time as when they go first.
    const bareOnes = names.filter((name) => name !== 'ours');
    const order: AppName[] = round % 2 ? ['ours', ...[...bareOnes].reverse()] : [...bareOnes, 'ours'];
    let followUpPending = false;
    let oursRun: { latencies: number[]; ackCpuMs: number; ackGcMs: number; cpuBefore: number } | undefined;
    for (const name of order) {
      if (name === 'ours') {
        const run = await fire('ours', prepared);
        opensSent += requests;
        updatesSent += requests;
        // Follow-up work that reached the API before the last ack competed with that ack.
        const { firstCallAt } = await apiSince(run.sentAt);
        if (counted && firstCallAt !== null && firstCallAt < run.lastAckAt) overlapped++;
        await apiSaw('opens', opensSent);
        await idle(ours);
        followUpPending = true;
        oursRun = run;
        continue;
      }
      const oursBefore = followUpPending ? await cpuOf(ours) : 0;
      let run = await fire(name, prepared);
      // Measured again, after the follow-up, if Postmaster's lookups came back during the burst.
      if (followUpPending && (await cpuOf(ours)) - oursBefore > IDLE_CPU_MS * 2) {
        if (counted) remeasured++;
        await settle();
        followUpPending = false;
        run = await fire(name, prepared);
      }
      if (counted) measured.get(name)!.push({ latencies: run.latencies, ackCpuMs: run.ackCpuMs, ackGcMs: run.ackGcMs, cpuMs: run.ackCpuMs });
    }
    await settle();
    if (counted && oursRun) measured.get('ours')!.push({ latencies: oursRun.latencies, ackCpuMs: oursRun.ackCpuMs, ackGcMs: oursRun.ackGcMs, cpuMs: (await cpuOf(ours)) - oursRun.cpuBefore });
  }

  const pooled = (name: AppName) => {
    const runs = measured.get(name)!;
    const sorted = ascending(runs.flatMap((r) => r.latencies));
    const perRequest = (pick: (r: Measured) => number) => runs.reduce((sum, r) => sum + pick(r), 0) / sorted.length;
    return {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1)!,
      ackCpu: perRequest((r) => r.ackCpuMs),
      ackGc: median(runs.map((r) => r.ackGcMs)),
      cpu: perRequest((r) => r.cpuMs),
    };
  };
  const perRound = (name: AppName, p: number) => measured.get(name)!.map((r) => percentile(ascending(r.latencies), p));
  const ratios = (name: AppName, p: number) => perRound(name, p).map((v, i) => v / perRound('bare', p)[i]!);

  const ms = (value: number, width = 10) => `${value.toFixed(1)} ms`.padStart(width);
  const fx = (r: number, width = 7) => `${r.toFixed(2)}x`.padStart(width);
  console.log(`\n/offboard ack latency: ${requests} concurrent signed requests, ${rounds} rounds (+${warmup} warm-up), apps interleaved in alternating order; mail server answers after ${PROVIDER_DELAY_MS} ms`);
  console.log(`${'app (pooled over rounds)'.padEnd(26)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}${'CPU/req to ack'.padStart(16)}${'GC/burst to ack'.padStart(17)}${'CPU/req in all'.padStart(16)}`);
  for (const name of names) {
    const r = pooled(name);
    console.log(`${LABEL[name].padEnd(26)}${ms(r.p50)}${ms(r.p99)}${ms(r.max)}${ms(r.ackCpu, 16)}${ms(r.ackGc, 17)}${ms(r.cpu, 16)}`);
  }
  console.log(`(to ack: from a burst's start to its last ack, what the acks wait on when CPU is short; GC is the median pause`);
  console.log(` per burst. In all: with Postmaster's follow-up work after the acks: views.open, the lookup and views.update.)`);

  const oursRatios = ratios('ours', 99);
  const twinRatios = control ? ratios('twin', 99) : [];
  const gcOf = (name: AppName, i: number) => measured.get(name)![i]!.ackGcMs;
  console.log(`\nround${'p99 bare'.padStart(11)}${'p99 ours'.padStart(11)}${'ratio'.padStart(7)}${control ? `${'p99 2nd bare'.padStart(14)}${'ratio'.padStart(7)}` : ''}${'GC bare / ours'.padStart(22)}`);
  perRound('bare', 99).forEach((bare, i) => {
    const twin = control ? `${ms(perRound('twin', 99)[i]!, 14)}${fx(twinRatios[i]!)}` : '';
    console.log(`${String(i + 1).padStart(5)}${ms(bare, 11)}${ms(perRound('ours', 99)[i]!, 11)}${fx(oursRatios[i]!)}${twin}${ms(gcOf('bare', i), 12)} /${ms(gcOf('ours', i), 8)}`);
  });

  const headline = median(oursRatios);
  const pooledRatio = pooled('ours').p99 / pooled('bare').p99;
  console.log(`\np99 ratio, Postmaster / bare: median of rounds ${fx(headline, 0)} (range ${fx(Math.min(...oursRatios), 0)}-${fx(Math.max(...oursRatios), 0)}), pooled ${fx(pooledRatio, 0)}; goal <= ${GOAL_RATIO.toFixed(2)}x (median): ${headline <= GOAL_RATIO ? 'OK' : 'OVER'}`);
  console.log(`p50 ratio, Postmaster / bare: median of rounds ${fx(median(ratios('ours', 50)), 0)}`);
  if (control) console.log(`control, 2nd bare / bare p99: median ${fx(median(twinRatios), 0)} (range ${fx(Math.min(...twinRatios), 0)}-${fx(Math.max(...twinRatios), 0)}): how far two identical apps drift apart on this machine now`);
  console.log(`rounds where Postmaster's follow-up work reached the API before its last ack: ${overlapped} of ${rounds}`);
  console.log(`bare bursts measured again because Postmaster's lookups came back during them: ${remeasured}`);
  const slowest = pooled('ours').max;
  console.log(`every ack arrived before the mail server answered: ${slowest < PROVIDER_DELAY_MS ? 'yes' : 'NO'} (slowest ${slowest.toFixed(0)} ms < ${PROVIDER_DELAY_MS} ms)`);
  console.log(`machine load average (1 min) at the start / end: ${loadStart.toFixed(2)} / ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} CPUs (other work on the machine widens the spread)`);

  const children = [api, ...[...apps.values()].map((a) => a.child)];
  for (const child of children) child.process.stdin!.end();
  await Promise.all(children.map((c) => new Promise((r) => c.process.once('exit', r))));
  clearTimeout(deadline);
}

const role = option('role');
if (role === 'api') await runApi();
else if (role === 'bare') await runBare(option('api'));
else if (role === 'ours') await runOurs(option('api'));
else await main();
