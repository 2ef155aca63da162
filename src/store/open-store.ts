/**
 * Opens the store named by STORE_URL. SQLite (the embedded default) is built in; other keyv
 * backends are loaded only when configured, so a default install does not need them.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { createCollection, type Collection } from './collection.js';
import { redisAccess, sqlAccess, type RawAccess, type RedisCommands } from './raw-access.js';

export interface Store {
  url: string;
  collection<T>(namespace: string): Collection<T>;
  close(): Promise<void>;
}

/** What open-store uses of @keyv/redis's adapter beyond keyv's interface. */
interface RedisAdapter {
  namespace: string | undefined;
  on(event: 'error', listener: (error: unknown) => void): void;
  disconnect(): Promise<void>;
  getClient(): Promise<RedisCommands>;
  createKeyPrefix(key: string, namespace: string | undefined): string;
}

/** What open-store uses of @keyv/postgres's adapter beyond keyv's interface. */
interface PostgresAdapter {
  opts: { schema: string; table: string };
  on(event: 'error', listener: () => void): void;
  query(sql: string, params: unknown[]): Promise<Array<Record<string, unknown>>>;
}

export function sqlitePathOf(url: string): string | undefined {
  if (!url.startsWith('sqlite://')) return undefined;
  return url.slice('sqlite://'.length);
}

/** How long connecting to a Redis or PostgreSQL store may take before it is an error. */
const CONNECT_TIMEOUT_MS = 10_000;

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

export async function openStore(url: string): Promise<Store> {
  let makeAdapter: () => KeyvStoreAdapter;
  /** The atomic operations on a namespace's adapter (see raw-access.ts). */
  let rawAccess: (adapter: KeyvStoreAdapter) => RawAccess;
  const adapters: KeyvStoreAdapter[] = [];
  /** @keyv/postgres keeps one connection pool per process, which the first disconnect ends: only the control adapter closes it. */
  let sharedPool = false;
  const file = sqlitePathOf(url);
  if (file !== undefined) {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    const control = new KeyvSqlite({ uri: url, busyTimeout: 10_000 });
    // WAL lets a CLI process read while the bot writes; the busy timeout covers the rest.
    await control.query('PRAGMA journal_mode = WAL');
    adapters.push(control as unknown as KeyvStoreAdapter);
    const access = sqlAccess((sql, params) => control.query(sql, ...params), control.opts.table ?? 'keyv', () => '?');
    rawAccess = () => access;
    makeAdapter = () => new KeyvSqlite({ uri: url, busyTimeout: 10_000 }) as unknown as KeyvStoreAdapter;
  } else if (url.startsWith('redis://') || url.startsWith('rediss://')) {
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
    makeAdapter = () => new KeyvRedis(client, options);
    rawAccess = (adapter) => {
      const redis = adapter as unknown as RedisAdapter;
      return redisAccess(() => redis.getClient(), (key) => redis.createKeyPrefix(key, redis.namespace));
    };
  } else if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { default: KeyvPostgres } = await importOptional('@keyv/postgres', 'PostgreSQL');
    // Listing reads pages of iterationLimit rows (10 unless told): the audit log and the rules are thousands.
    const options = { uri: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, iterationLimit: 1_000 };
    const control = new KeyvPostgres(options) as PostgresAdapter;
    // A failure to create the table is emitted, not thrown; the probe below reports it.
    control.on('error', () => undefined);
    // The adapter creates its table before its first query runs, so these wait for it.
    await reach('PostgreSQL', url, () => control.query(`SELECT count(*) FROM ${control.opts.schema}.${control.opts.table}`, []));
    adapters.push(control as unknown as KeyvStoreAdapter);
    const access = sqlAccess((sql, params) => control.query(sql, params), `${control.opts.schema}.${control.opts.table}`, (n) => `$${n}`);
    rawAccess = () => access;
    sharedPool = true;
    makeAdapter = () => new KeyvPostgres(options);
  } else {
    throw new Error(`STORE_URL must start with sqlite://, redis:// or postgres:// (got "${url.split(':')[0]}:")`);
  }

  // One adapter per namespace: Keyv writes its namespace onto the adapter, so a shared adapter
  // would list the wrong namespace's entries.
  const namespaces = new Map<string, { keyv: Keyv; raw: RawAccess }>();
  const keyvFor = (namespace: string) => {
    let entry = namespaces.get(namespace);
    if (!entry) {
      const adapter = makeAdapter();
      if (!sharedPool) adapters.push(adapter);
      // A failed read or write rejects (rather than reading as "absent"); the error event repeats it.
      const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true });
      keyv.on('error', () => undefined);
      entry = { keyv, raw: rawAccess(adapter) };
      namespaces.set(namespace, entry);
    }
    return entry;
  };

  return {
    url,
    collection<T>(namespace: string) {
      const { keyv, raw } = keyvFor(namespace);
      return createCollection<T>(keyv, namespace, raw);
    },
    async close() {
      await Promise.all(adapters.map((adapter) => adapter.disconnect?.()));
    },
  };
}
