/**
 * A keyv namespace seen as a collection of JSON documents, plus the two atomic operations the core
 * needs (insert-if-absent and read-modify-write). keyv itself has no compare-and-set, so each
 * backend supplies its own through RawAccess (store/raw-access.ts), on the very rows or keys keyv
 * reads and writes: they hold across every process that shares the store.
 */
import type Keyv from 'keyv';
import type { RawAccess } from './raw-access.js';

export interface Collection<T> {
  get(id: string): Promise<T | undefined>;
  set(id: string, value: T): Promise<void>;
  /** Stores the value only when the id is free; false when it was taken. */
  insert(id: string, value: T): Promise<boolean>;
  /** See RequestRepository.update: `change` may run more than once, so it must be pure. */
  update(id: string, change: (current: T) => T | undefined): Promise<T | undefined>;
  values(): Promise<T[]>;
  delete(id: string): Promise<void>;
}

const MAX_CAS_ATTEMPTS = 50;

export function createCollection<T>(keyv: Keyv, namespace: string, raw: RawAccess): Collection<T> {
  // The key and the value exactly as keyv writes them, so keyv reads what the atomic operations wrote.
  const rawKey = (id: string) => `${namespace}:${id}`;
  const encode = (value: T) => JSON.stringify({ value });

  return {
    async get(id) {
      return (await keyv.get(id)) as T | undefined;
    },
    async set(id, value) {
      await keyv.set(id, value);
    },
    insert(id, value) {
      return raw.insert(rawKey(id), encode(value));
    },
    async update(id, change) {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const current = await raw.read(rawKey(id));
        if (current === undefined) return undefined;
        const next = change((JSON.parse(current) as { value: T }).value);
        if (next === undefined) return undefined;
        if (await raw.swap(rawKey(id), current, encode(next))) return next;
      }
      throw new Error(`could not update ${namespace}/${id}: too much contention`);
    },
    async values() {
      const out: T[] = [];
      if (!keyv.iterator) throw new Error('this store backend cannot list its entries');
      for await (const [, value] of keyv.iterator(undefined)) out.push(value as T);
      return out;
    },
    async delete(id) {
      await keyv.delete(id);
    },
  };
}
