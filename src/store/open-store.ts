/**
 * Opens the store named by STORE_URL (see backends.ts) as collections, one keyv namespace each.
 */
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { postgresBackend, redisBackend, sqliteBackend, type Backend } from './backends.js';
import { createCollection, type Collection } from './collection.js';
import type { RawAccess } from './raw-access.js';

export interface Store {
  url: string;
  collection<T>(namespace: string): Collection<T>;
  close(): Promise<void>;
}

function sqlitePathOf(url: string): string | undefined {
  if (!url.startsWith('sqlite://')) return undefined;
  return url.slice('sqlite://'.length);
}

function backendFor(url: string): Promise<Backend> {
  const file = sqlitePathOf(url);
  if (file !== undefined) return sqliteBackend(url, file);
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return redisBackend(url);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return postgresBackend(url);
  throw new Error(`STORE_URL must start with sqlite://, redis:// or postgres:// (got "${url.split(':')[0]}:")`);
}

export async function openStore(url: string): Promise<Store> {
  const backend = await backendFor(url);
  const connections: KeyvStoreAdapter[] = [...backend.connections];
  const namespaces = new Map<string, { keyv: Keyv; raw: RawAccess }>();
  const namespace = (name: string) => {
    let entry = namespaces.get(name);
    if (!entry) {
      const adapter = backend.adapter();
      if (!backend.sharesConnection) connections.push(adapter);
      // A failed read or write rejects (rather than reading as "absent"); the error event repeats it.
      const keyv = new Keyv({ store: adapter, namespace: name, throwOnErrors: true });
      keyv.on('error', () => undefined);
      entry = { keyv, raw: backend.raw(adapter) };
      namespaces.set(name, entry);
    }
    return entry;
  };

  return {
    url,
    collection<T>(name: string) {
      const { keyv, raw } = namespace(name);
      return createCollection<T>(keyv, name, raw);
    },
    async close() {
      await Promise.all(connections.map((connection) => connection.disconnect?.()));
    },
  };
}
