/**
 * One Bolt listener per kind of request, handing each request to our listener for its id. Bolt runs
 * the matching middleware of every registered listener for every request before any of them acks,
 * so with one registration per id a `/offboard` went through fifteen of them, each copying the
 * listener arguments: about 8 µs apiece on a 2-CPU machine, more than a bare app's whole dispatch
 * (see bench/ack.ts). Registered by kind, a request goes through one per kind instead.
 */

export type Listener<Args> = (args: Args) => Promise<void>;

export interface Routes<Args> {
  /** Matches exactly the ids routed, so Bolt leaves every other id unhandled as before. */
  pattern: RegExp;
  dispatch(id: string, args: Args): Promise<void>;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function routes<Args>(byId: Record<string, Listener<Args>>): Routes<Args> {
  const table = new Map(Object.entries(byId));
  return {
    pattern: new RegExp(`^(?:${[...table.keys()].map(escapeRegExp).join('|')})$`),
    async dispatch(id, args) {
      await table.get(id)?.(args);
    },
  };
}
