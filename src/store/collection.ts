/**
 * A keyv namespace seen as a collection of JSON documents, plus the two atomic operations the core
 * needs (insert-if-absent and read-modify-write). keyv itself has no compare-and-set, so on SQLite
 * we issue the conditional UPDATE ourselves against keyv's own table; that holds across processes.
 * Other keyv backends fall back to a per-key lock inside this process only (see docs/design.md).
 */
import type Keyv from 'keyv';

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

/** What keyv's SQLite adapter exposes: its query function and table name. */
export interface SqlAccess {
  query(sql: string, ...params: unknown[]): Promise<Array<Record<string, unknown>>>;
  table: string;
}

const MAX_CAS_ATTEMPTS = 50;

export function createCollection<T>(keyv: Keyv, namespace: string, sql: SqlAccess | undefined): Collection<T> {
  const rawKey = (id: string) => `${namespace}:${id}`;
  const encode = (value: T) => JSON.stringify({ value });
  const locks = new Map<string, Promise<unknown>>();

  const withLocalLock = async <R>(id: string, work: () => Promise<R>): Promise<R> => {
    const previous = locks.get(id) ?? Promise.resolve();
    const current = previous.then(work, work);
    locks.set(id, current.catch(() => undefined));
    try {
      return await current;
    } finally {
      if (locks.get(id) === current) locks.delete(id);
    }
  };

  const readRaw = async (id: string): Promise<string | undefined> => {
    const rows = await sql!.query(`SELECT value FROM ${sql!.table} WHERE key = ?`, rawKey(id));
    const value = rows[0]?.value;
    return typeof value === 'string' ? value : undefined;
  };

  return {
    async get(id) {
      return (await keyv.get(id)) as T | undefined;
    },
    async set(id, value) {
      await keyv.set(id, value);
    },
    async insert(id, value) {
      if (sql) {
        const rows = await sql.query(
          `INSERT INTO ${sql.table} (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING RETURNING key`,
          rawKey(id),
          encode(value),
        );
        return rows.length === 1;
      }
      return withLocalLock(id, async () => {
        if ((await keyv.get(id)) !== undefined) return false;
        await keyv.set(id, value);
        return true;
      });
    },
    async update(id, change) {
      if (sql) {
        for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
          const raw = await readRaw(id);
          if (raw === undefined) return undefined;
          const next = change((JSON.parse(raw) as { value: T }).value);
          if (next === undefined) return undefined;
          const rows = await sql.query(
            `UPDATE ${sql.table} SET value = ? WHERE key = ? AND value = ? RETURNING key`,
            encode(next),
            rawKey(id),
            raw,
          );
          if (rows.length === 1) return next;
        }
        throw new Error(`could not update ${namespace}/${id}: too much contention`);
      }
      return withLocalLock(id, async () => {
        const current = (await keyv.get(id)) as T | undefined;
        if (current === undefined) return undefined;
        const next = change(current);
        if (next !== undefined) await keyv.set(id, next);
        return next;
      });
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
