/**
 * Work that reads state, checks it and writes it back must not interleave with more of the same:
 * each piece starts once the one before it has ended, however that ended. Within one process; the
 * store locks (store/locks.ts) queue on this before they ask the store.
 */

/** One at a time per key (a lock name, say): work on different keys runs side by side. */
export function oneAtATimePer(): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const last = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const result = (last.get(key) ?? Promise.resolve()).then(work);
    const settled = result.catch(() => undefined);
    last.set(key, settled);
    // Forget a key once its last piece has ended, so the map does not grow with every mailbox.
    void settled.then(() => {
      if (last.get(key) === settled) last.delete(key);
    });
    return result;
  };
}
