/**
 * Alibaba Mail listing benchmark (issue 5): list 10,000 users across 200 departments from the
 * contract server, which allows 40 requests/s (Alibaba's documented limit per domain) and answers
 * 429 above it. Prints, from one run:
 *   - with the client limiter at 40/s: the request rate reached, as a share of the 40/s allowed
 *     (goal >= 90%), and the 429s the server sent;
 *   - at the default setting (ALIMAIL_RATE_LIMIT=30): the 429s Postmaster caused (goal: none).
 *
 *   npm run bench:aliyun -- [--users 10000] [--departments 200] [--latency 5]
 *
 * The peer is the server's own limit: the figure is how close the department walk keeps the
 * limiter busy. --latency adds a per-response delay (ms) so the walk must keep requests in flight.
 */
import { performance } from 'node:perf_hooks';
import { AliyunProvider } from '../src/providers/aliyun/provider.js';
import { startAlimailServer, syntheticDirectory } from '../test/support/alimail-server.js';
import { flag } from './lib/cli.js';

const SERVER_LIMIT = 40;
const DEFAULT_SETTING = 30;
const GOAL_SHARE = 0.9;

interface Run {
  limiter: number;
  users: number;
  requests: number;
  seconds: number;
  rate: number;
  limit429: number;
  maxPerSecond: number;
}

async function listOnce(directory: ReturnType<typeof syntheticDirectory>, limiter: number, latencyMs: number): Promise<Run> {
  const credentials = { clientId: 'bench', clientSecret: 'bench-secret' };
  const server = await startAlimailServer({ ...credentials, ...directory, rateLimit: SERVER_LIMIT, latencyMs });
  const provider = new AliyunProvider({ ...credentials, baseUrl: server.url, requestsPerSecond: limiter, imapUrl: 'imaps://127.0.0.1:1' });
  try {
    const started = performance.now();
    const mailboxes = await provider.listMailboxes();
    const seconds = (performance.now() - started) / 1000;
    const requests = server.requests.length;
    return { limiter, users: mailboxes.length, requests, seconds, rate: requests / seconds, limit429: server.tooManyRequests.limit, maxPerSecond: server.maxPerSecond() };
  } finally {
    await provider.close();
    await server.close();
  }
}

function describe(run: Run): string {
  return `limiter ${run.limiter}/s: ${run.users} users, ${run.requests} requests in ${run.seconds.toFixed(2)} s = ${run.rate.toFixed(1)} req/s (${((run.rate / SERVER_LIMIT) * 100).toFixed(1)}% of ${SERVER_LIMIT}/s); busiest second ${run.maxPerSecond}; 429 from the server's limit: ${run.limit429}`;
}

async function main(): Promise<void> {
  const users = flag('users', 10_000);
  const departments = flag('departments', 200);
  const latency = process.argv.includes('--latency') ? flag('latency', 5) : 5;
  const directory = syntheticDirectory({ departments, users, domain: 'bench.example' });
  console.log(`Alibaba Mail listing: ${users} users in ${departments} departments; server allows ${SERVER_LIMIT} req/s, answers after ${latency} ms`);

  const atLimit = await listOnce(directory, SERVER_LIMIT, latency);
  console.log(describe(atLimit));
  const atDefault = await listOnce(directory, DEFAULT_SETTING, latency);
  console.log(describe(atDefault));

  const share = atLimit.rate / SERVER_LIMIT;
  const complete = atLimit.users === users && atDefault.users === users;
  console.log(`RATE ${(share * 100).toFixed(1)}% of the allowed ${SERVER_LIMIT}/s (goal >= ${GOAL_SHARE * 100}%): ${share >= GOAL_SHARE ? 'met' : 'MISSED'}`);
  console.log(`429 CAUSED at the default ${DEFAULT_SETTING}/s: ${atDefault.limit429} (goal 0): ${atDefault.limit429 === 0 ? 'met' : 'MISSED'}`);
  console.log(`COMPLETE: ${complete ? 'every user listed in both runs' : 'USERS MISSING'}`);
  if (!complete) process.exitCode = 1;
}

await main();
