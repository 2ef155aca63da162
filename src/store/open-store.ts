/**
 * Opens the store named by STORE_URL. SQLite (the embedded default) is built in; other keyv
 * backends are loaded only when configured, so a default install does not need them.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { createCollection, type Collection, type SqlAccess } from './collection.js';

export interface Store {
  url: string;
  collection<T>(namespace: string): Collection<T>;
  close(): Promise<void>;
}

export function sqlitePathOf(url: string): string | undefined {
  if (!url.startsWith('sqlite://')) return undefined;
  return url.slice('sqlite://'.length);
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
  let sql: SqlAccess | undefined;
  const adapters: KeyvStoreAdapter[] = [];
  const file = sqlitePathOf(url);
  if (file !== undefined) {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    const control = new KeyvSqlite({ uri: url, busyTimeout: 10_000 });
    // WAL lets a CLI process read while the bot writes; the busy timeout covers the rest.
    await control.query('PRAGMA journal_mode = WAL');
    adapters.push(control as unknown as KeyvStoreAdapter);
    sql = { query: (s, ...p) => control.query(s, ...p), table: control.opts.table ?? 'keyv' };
    makeAdapter = () => new KeyvSqlite({ uri: url, busyTimeout: 10_000 }) as unknown as KeyvStoreAdapter;
  } else if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    const { default: KeyvRedis } = await importOptional('@keyv/redis', 'Redis');
    makeAdapter = () => new KeyvRedis(url);
  } else if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { default: KeyvPostgres } = await importOptional('@keyv/postgres', 'PostgreSQL');
    makeAdapter = () => new KeyvPostgres({ uri: url });
  } else {
    throw new Error(`STORE_URL must start with sqlite://, redis:// or postgres:// (got "${url.split(':')[0]}:")`);
  }

  // One adapter per namespace: Keyv writes its namespace onto the adapter, so a shared adapter
  // would list the wrong namespace's entries.
  const namespaces = new Map<string, Keyv>();
  const keyvFor = (namespace: string) => {
    let keyv = namespaces.get(namespace);
    if (!keyv) {
      const adapter = makeAdapter();
      adapters.push(adapter);
      keyv = new Keyv({ store: adapter, namespace });
      namespaces.set(namespace, keyv);
    }
    return keyv;
  };

  return {
    url,
    collection<T>(namespace: string) {
      return createCollection<T>(keyvFor(namespace), namespace, sql);
    },
    async close() {
      await Promise.all(adapters.map((adapter) => adapter.disconnect?.()));
    },
  };
}
