/**
 * The atomic operations keyv lacks, done by each backend on keyv's own rows or keys: SQL's
 * conditional INSERT and UPDATE for SQLite and PostgreSQL, SET NX and a compare-and-set script for
 * Redis. Keys are keyv's (`namespace:id`) and values are keyv's serialized strings.
 */

export interface RawAccess {
  /** Stores the value only when the key is absent; true when it did. */
  insert(key: string, value: string): Promise<boolean>;
  read(key: string): Promise<string | undefined>;
  /** Replaces the value only while it is still `expected`; true when it did. */
  swap(key: string, expected: string, next: string): Promise<boolean>;
}

type Rows = Array<Record<string, unknown>>;

/**
 * keyv's SQL table (key, value), through the adapter's own connection. `param(n)` writes the
 * n-th placeholder: `?` for SQLite, `$n` for PostgreSQL.
 */
export function sqlAccess(query: (sql: string, params: unknown[]) => Promise<Rows>, table: string, param: (n: number) => string): RawAccess {
  const [p1, p2, p3] = [param(1), param(2), param(3)];
  return {
    async insert(key, value) {
      const rows = await query(`INSERT INTO ${table} (key, value) VALUES (${p1}, ${p2}) ON CONFLICT(key) DO NOTHING RETURNING key`, [key, value]);
      return rows.length === 1;
    },
    async read(key) {
      const rows = await query(`SELECT value FROM ${table} WHERE key = ${p1}`, [key]);
      const value = rows[0]?.value;
      return typeof value === 'string' ? value : undefined;
    },
    async swap(key, expected, next) {
      const rows = await query(`UPDATE ${table} SET value = ${p1} WHERE key = ${p2} AND value = ${p3} RETURNING key`, [next, key, expected]);
      return rows.length === 1;
    },
  };
}

/** The part of node-redis's client that Redis access uses. */
export interface RedisCommands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options: { NX: true }): Promise<string | null>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** Runs inside Redis, so no other client's write can fall between the read and the write. */
const COMPARE_AND_SET = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 else return 0 end";

/** A Redis adapter's keys: `prefix(key)` is where the adapter keeps keyv's key (it adds a namespace of its own). */
export function redisAccess(client: () => Promise<RedisCommands>, prefix: (key: string) => string): RawAccess {
  return {
    async insert(key, value) {
      return (await (await client()).set(prefix(key), value, { NX: true })) === 'OK';
    },
    async read(key) {
      return (await (await client()).get(prefix(key))) ?? undefined;
    },
    async swap(key, expected, next) {
      return Number(await (await client()).eval(COMPARE_AND_SET, { keys: [prefix(key)], arguments: [expected, next] })) === 1;
    },
  };
}
