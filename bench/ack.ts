/**
 * Ack benchmark for `/offboard`: 200 concurrent signed slash commands at the HTTP receiver, with a
 * mail server that answers after 2 s. Prints p50 and p99 ack latency (request sent -> HTTP
 * response) of Postmaster's Slack app next to a bare Bolt app that only acks, measured in the same
 * run, and the p99 ratio (goal: at most 1.2x). Absolute times vary by machine; the ratio is the figure.
 *
 *   npm run bench:ack [-- --requests 200 --rounds 3]
 *
 * Each app and the Slack Web API stand-in run in their own process, so neither the load generator
 * nor the API the app calls after its ack share the measured app's event loop. Rounds alternate
 * bare/Postmaster after one warm-up burst each; a burst starts only when the previous burst's
 * slow lookups have finished. Everything listens on 127.0.0.1 and the whole run stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { flag } from './lib/cli.js';

const SELF = fileURLToPath(import.meta.url);
const TOKEN = 'xoxb-bench-token';
const SECRET = 'bench-signing-secret';
const PROVIDER_DELAY_MS = 2000;
const OVERALL_LIMIT_MS = 5 * 60_000;


function option(name: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? '' : (process.argv[at + 1] ?? '');
}

/** Prints one JSON line the parent reads: how to reach this child. */
const announce = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

/** A child answers each "cpu" line on stdin with the CPU time it used so far (ms). */
function answerCpu(): void {
  createInterface({ input: process.stdin }).on('line', () => {
    const { user, system } = process.cpuUsage();
    announce({ cpuMs: (user + system) / 1000 });
  });
}

// ---------------------------------------------------------------------------------------------
// Child roles

async function runApi(): Promise<void> {
  const { startSlackApi } = await import('../test/support/slack-api.js');
  const api = await startSlackApi(TOKEN);
  announce({ url: api.url });
  setInterval(() => announce({ calls: api.calls.length, updates: api.callsTo('views.update').length }), 200).unref();
  process.stdin.resume();
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
  answerCpu();
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
  answerCpu();
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
  next(): Promise<any>;
  latest?: any;
}

function startChild(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(value: any) => void> = [];
  const handle: Child = {
    process: child,
    next: () => new Promise((resolve) => waiting.push(resolve)),
  };
  lines.on('line', (line) => {
    const value = JSON.parse(line);
    handle.latest = value;
    waiting.shift()?.(value);
  });
  return handle;
}

function signedCommand(n: number): { body: string; headers: Record<string, string> } {
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
    trigger_id: `${n}.bench.trigger`,
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

/** Fires `count` signed commands at once; resolves with each one's ack latency in ms. */
async function burst(port: number, count: number, agent: Agent): Promise<number[]> {
  // Signed up front, so signing is not part of any measured latency.
  const prepared = Array.from({ length: count }, (_, i) => signedCommand(i));
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const loadStart = os.loadavg()[0]!;
  const requests = flag('requests', 200);
  const rounds = flag('rounds', 5);
  const deadline = setTimeout(() => {
    console.error('bench:ack took too long; stopping');
    process.exit(1);
  }, OVERALL_LIMIT_MS);

  const api = startChild(['--role', 'api']);
  const { url } = await api.next();
  const bare = startChild(['--role', 'bare', '--api', url]);
  const ours = startChild(['--role', 'ours', '--api', url]);
  const [{ port: barePort }, { port: oursPort }] = await Promise.all([bare.next(), ours.next()]);
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

  /** Waits until the API stand-in saw every views.update of the previous Postmaster burst. */
  const settle = async (updates: number) => {
    const until = Date.now() + 30_000;
    while ((api.latest?.updates ?? 0) < updates && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
  };

  const cpu = async (child: Child): Promise<number> => {
    const answer = child.next();
    child.process.stdin!.write('cpu\n');
    return (await answer).cpuMs;
  };

  const samples = { bare: [] as number[], ours: [] as number[] };
  const cpuMs = { bare: 0, ours: 0 };
  const ratios: number[] = [];
  let expectedUpdates = 0;
  for (let round = 0; round <= rounds; round++) {
    const bareCpu = await cpu(bare);
    const bareLatencies = await burst(barePort, requests, agent);
    await settle(expectedUpdates);
    const bareCpuUsed = (await cpu(bare)) - bareCpu;

    const ourCpu = await cpu(ours);
    const ourLatencies = await burst(oursPort, requests, agent);
    expectedUpdates += requests;
    await settle(expectedUpdates);
    const ourCpuUsed = (await cpu(ours)) - ourCpu;
    if (round === 0) continue; // warm-up
    samples.bare.push(...bareLatencies);
    samples.ours.push(...ourLatencies);
    cpuMs.bare += bareCpuUsed;
    cpuMs.ours += ourCpuUsed;
    const p99 = (values: number[]) => percentile([...values].sort((a, b) => a - b), 99);
    ratios.push(p99(ourLatencies) / p99(bareLatencies));
  }

  const row = (name: string, values: number[], cpuTotal: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { name, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)!, cpu: cpuTotal / values.length };
  };
  const b = row('bare Bolt (ack only)', samples.bare, cpuMs.bare);
  const o = row('Postmaster /offboard', samples.ours, cpuMs.ours);
  const ratio = o.p99 / b.p99;
  const medianRatio = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!;
  const fmt = (ms: number) => `${ms.toFixed(1).padStart(7)} ms`;
  console.log(`\n/offboard ack latency: ${requests} concurrent signed requests x ${rounds} rounds (+1 warm-up), mail server answers after ${PROVIDER_DELAY_MS} ms`);
  console.log(`${'app'.padEnd(24)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}${'CPU/request'.padStart(14)}`);
  for (const r of [b, o]) console.log(`${r.name.padEnd(24)}${fmt(r.p50)}${fmt(r.p99)}${fmt(r.max)}${fmt(r.cpu).padStart(14)}`);
  console.log(`p99 ratio (Postmaster / bare), all rounds: ${ratio.toFixed(2)}x; per round: ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${medianRatio.toFixed(2)}x); goal <= 1.20x: ${ratio <= 1.2 ? 'OK' : 'OVER'}`);
  console.log(`(Postmaster's CPU/request includes its follow-up work: views.open, the lookup and views.update.)`);
  console.log(`machine load average (1 min) at the start / end: ${loadStart.toFixed(2)} / ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} CPUs (other work on the machine widens the spread)`);
  console.log(`every ack arrived before the mail server answered: ${o.max < PROVIDER_DELAY_MS ? 'yes' : 'NO'} (slowest ${o.max.toFixed(0)} ms < ${PROVIDER_DELAY_MS} ms)`);

  for (const child of [bare, ours, api]) child.process.stdin!.end();
  await Promise.all([bare, ours, api].map((c) => new Promise((r) => c.process.once('exit', r))));
  clearTimeout(deadline);
}

const role = option('role');
if (role === 'api') await runApi();
else if (role === 'bare') await runBare(option('api'));
else if (role === 'ours') await runOurs(option('api'));
else await main();
