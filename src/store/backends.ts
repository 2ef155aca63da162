/**
 * The three places a store can live, each as keyv adapters plus the atomic operations keyv lacks
 * (raw-access.ts). SQLite (the embedded default) is built in; the Redis and PostgreSQL adapters are
 * loaded only when configured, so a default install does not need them.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { KeyvStoreAdapter } from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { redisAccess, sqlAccess, type RawAccess, type RedisCommands } from './raw-access.js';

export interface Backend {
  /** A new adapter for one namespace: keyv writes its namespace onto the adapter, so none is shared. */
  adapter(): KeyvStoreAdapter;
  /** The atomic operations on a namespace's adapter. */
  raw(adapter: KeyvStoreAdapter): RawAccess;
  /** What to disconnect on close besides the namespaces' adapters. */
  connections: KeyvStoreAdapter[];
  /** The namespaces' adapters share a connection that `connections` closes once. */
  sharesConnection: boolean;
}

/** How long connecting to a Redis or PostgreSQL store may take before it is an error. */
const CONNECT_TIMEOUT_MS = 10_000;

export async function sqliteBackend(url: string, file: string): Promise<Backend> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const control = new KeyvSqlite({ uri: url, busyTimeout: 10_000 });
  // WAL lets a CLI process read while the bot writes; the busy timeout covers the rest.
  await control.query('PRAGMA journal_mode = WAL');
  const access = sqlAccess((sql, params) => control.query(sql, ...params), control.opts.table ?? 'keyv', () => '?');
  return {
    adapter: () => new KeyvSqlite({ uri: url, busyTimeout: 10_000 }) as unknown as KeyvStoreAdapter,
    raw: () => access,
    connections: [control as unknown as KeyvStoreAdapter],
    sharesConnection: false,
  };
}

/** What the store uses of @keyv/redis's adapter beyond keyv's interface. */
interface RedisAdapter {
  namespace: string | undefined;
  on(event: 'error', listener: (error: unknown) => void): void;
  disconnect(): Promise<void>;
  getClient(): Promise<RedisCommands>;
  createKeyPrefix(key: string, namespace: string | undefined): string;
}

export async function redisBackend(url: string): Promise<Backend> {
  const { default: KeyvRedis } = await importOptional('@keyv/redis', 'Redis');
  // Left to its defaults, the client waits for ever for a server that is down, and the adapter
  // answers a failed read with "no such key". (The adapter's own connectionTimeout leaves a timer
  // behind that keeps a finished CLI command alive for its whole length.)
  const client = {
    url,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Backs off up to 2 s between attempts and gives up after some 10 s; the next command connects afresh.
      reconnectStrategy: (attempts: number, cause: Error) => (attempts > 8 ? cause : Math.min(2 ** attempts * 100, 2_000)),
    },
  };
  const options = { throwOnErrors: true };
  const probe = new KeyvRedis(client, options) as RedisAdapter;
  // Why it could not connect (ECONNREFUSED, a wrong password) arrives as an event; what it throws only says that it could not.
  let why: unknown;
  probe.on('error', (error) => (why ??= error));
  await reach('Redis', url, async () => {
    try {
      return await (await probe.getClient()).get('postmaster:probe');
    } catch (error) {
      throw why ?? error;
    }
  });
  await probe.disconnect();
  return {
    adapter: () => new KeyvRedis(client, options),
    raw: (adapter) => {
      const redis = adapter as unknown as RedisAdapter;
      return redisAccess(() => redis.getClient(), (key) => redis.createKeyPrefix(key, redis.namespace));
    },
    connections: [],
    sharesConnection: false,
  };
}

/** What the store uses of @keyv/postgres's adapter beyond keyv's interface. */
interface PostgresAdapter {
  opts: { schema: string; table: string };
  on(event: 'error', listener: () => void): void;
  query(sql: string, params: unknown[]): Promise<Array<Record<string, unknown>>>;
}

export async function postgresBackend(url: string): Promise<Backend> {
  const { default: KeyvPostgres } = await importOptional('@keyv/postgres', 'PostgreSQL');
  // Listing reads pages of iterationLimit rows (10 unless told): the audit log and the rules are thousands.
  const options = { uri: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, iterationLimit: 1_000 };
  const control = new KeyvPostgres(options) as PostgresAdapter;
  // A failure to create the table is emitted, not thrown; the probe below reports it.
  control.on('error', () => undefined);
  const table = `${control.opts.schema}.${control.opts.table}`;
  // The adapter creates its table before its first query runs, so this waits for it.
  await reach('PostgreSQL', url, () => control.query(`SELECT count(*) FROM ${table}`, []));
  const access = sqlAccess((sql, params) => control.query(sql, params), table, (n) => `$${n}`);
  return {
    adapter: () => new KeyvPostgres(options),
    raw: () => access,
    // @keyv/postgres keeps one connection pool per process, which the first disconnect ends.
    connections: [control as unknown as KeyvStoreAdapter],
    sharesConnection: true,
  };
}

/** Runs a first command against the store, so an unreachable one is one clear line at start-up, without the URL's password. */
async function reach(backend: string, url: string, probe: () => Promise<unknown>): Promise<void> {
  try {
    await probe();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`STORE_URL: cannot use the ${backend} store at ${hostOf(url)}: ${reason}`, { cause: error });
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the configured host';
  }
}

async function importOptional(name: string, backend: string): Promise<any> {
  try {
    return await import(name);
  } catch {
    throw new Error(`STORE_URL uses ${backend}, which needs the package ${name}: npm install ${name}`);
  }
}
