/**
 * Streams the raw messages of one folder snapshot from imapflow's connection to a sink, one at a
 * time, by the fastest path that works with the imapflow at hand. (Cleartext exports mostly use
 * connections of their own instead, see imap-lanes.ts.)
 *
 * 'borrowed': our own response reader (fetch-response-reader.ts) on imapflow's connection
 * (imap-borrowed-fetch.ts), skipping imapflow's response parser, which cost ~60 µs per message.
 *
 * 'exec': imapflow's command primitive `exec` with our own untagged FETCH handler. imapflow's
 * public fetch() runs every row through formatMessageResponse (a compiler pass per attribute key,
 * an md5 per message for its synthetic id) and an async generator with a promise per row; none of
 * that is used here. Measured on the bench mailbox (20,000 messages, loopback Dovecot): 1.3 s
 * against 1.6-2.3 s for the same rows through fetch(), which is most of the export's budget.
 * Backpressure is the same as fetch(): imapflow awaits the handler before it parses the next
 * response, so a pending write stops reading from the socket.
 *
 * `exec` is internal to imapflow (not in its typings), so it is feature-checked, the row shape is
 * validated, and any mismatch falls back to the public fetch(). The integration tests run both
 * paths and require identical files.
 */
import type { ImapFlow } from 'imapflow';
import { fetchOnBorrowedConnection } from './imap-borrowed-fetch.js';

/**
 * Returns a promise only when the caller must wait (backpressure). `source` is only valid until
 * then: it may be a view of a network buffer that is reused afterwards.
 */
export type MessageSink = (source: Buffer, internalDate: Date) => Promise<void> | undefined;

/** Fastest first; each path falls back to the next when imapflow's internals do not fit it. */
export const FETCH_PATHS = ['borrowed', 'exec', 'fetch'] as const;
export type FetchPath = (typeof FETCH_PATHS)[number];

interface Token {
  type?: string;
  value?: unknown;
  section?: unknown;
}

interface Untagged {
  attributes?: unknown[];
}

interface ExecResult {
  next?: () => void;
}

type Exec = (
  command: string,
  attributes: unknown[],
  options: { untagged: Record<string, (untagged: Untagged) => Promise<void> | undefined> },
) => Promise<ExecResult | undefined>;

class RowShapeError extends Error {}

interface Row {
  source: Buffer | undefined;
  date: Date;
}

function parseRow(untagged: Untagged): Row {
  const list = untagged.attributes?.[1];
  if (!Array.isArray(list)) throw new RowShapeError('FETCH row without an attribute list');
  let source: Buffer | undefined;
  let date: Date | undefined;
  let sawBody = false;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const key = list[i] as Token | null;
    const value = list[i + 1] as Token | null;
    const name = typeof key?.value === 'string' ? key.value.toUpperCase() : '';
    if (name === 'BODY' && Array.isArray(key?.section) && key.section.length === 0) {
      sawBody = true;
      // NIL (the message vanished) leaves source undefined; the count check reports it.
      if (Buffer.isBuffer(value?.value)) source = value.value;
      // A server may send a small body as a quoted string; imapflow decodes those as UTF-8.
      else if (typeof value?.value === 'string') source = Buffer.from(value.value);
    } else if (name === 'INTERNALDATE' && typeof value?.value === 'string') {
      date = new Date(value.value);
    }
  }
  if (!sawBody) throw new RowShapeError('FETCH row without BODY[]');
  return { source, date: date ?? new Date(0) };
}

const QUERY = [
  { type: 'ATOM', value: 'UID' },
  { type: 'ATOM', value: 'INTERNALDATE' },
  // PEEK: an export must not set \Seen (RFC 3501 section 6.4.5).
  { type: 'ATOM', value: 'BODY.PEEK', section: [] },
];

/**
 * Fetches `range` (UIDs when byUid, else sequence numbers) of the folder `client` has open and
 * hands each message to `sink` in server order, trying the paths from `options.start` on
 * ('borrowed' unless told: tests force a slower one). Returns which path ran.
 */
export async function fetchMessages(
  client: ImapFlow,
  range: string,
  byUid: boolean,
  sink: MessageSink,
  options: { start?: FetchPath } = {},
): Promise<FetchPath> {
  const start = FETCH_PATHS.indexOf(options.start ?? 'borrowed');
  if (start <= 0) {
    if ((await fetchOnBorrowedConnection(client, range, byUid, sink)) === 'done') return 'borrowed';
  }
  const exec = (client as unknown as { exec?: Exec }).exec;
  if (start <= 1 && typeof exec === 'function') {
    const outcome = await viaExec(client, exec, range, byUid, sink);
    if (outcome === 'done') return 'exec';
  }
  await viaFetch(client, range, byUid, sink);
  return 'fetch';
}

async function viaExec(client: ImapFlow, exec: Exec, range: string, byUid: boolean, sink: MessageSink): Promise<'done' | 'unsupported'> {
  let delivered = 0;
  let failure: unknown;
  let unsupported = false;
  const onRow = (untagged: Untagged): Promise<void> | undefined => {
    if (failure !== undefined || unsupported) return undefined;
    let row: Row;
    try {
      row = parseRow(untagged);
    } catch (error) {
      // Nothing written yet: drain this FETCH and redo the folder through fetch().
      if (error instanceof RowShapeError && delivered === 0) unsupported = true;
      else failure = error;
      return undefined;
    }
    delivered++;
    if (!row.source) return undefined;
    try {
      const wait = sink(row.source, row.date);
      return wait?.catch((error: unknown) => {
        failure ??= error;
        // Stop the transfer instead of draining the rest of a large folder.
        client.close();
      });
    } catch (error) {
      failure = error;
      client.close();
      return undefined;
    }
  };
  let result: ExecResult | undefined;
  try {
    result = await exec.call(client, byUid ? 'UID FETCH' : 'FETCH', [{ type: 'SEQUENCE', value: range }, QUERY], {
      untagged: { FETCH: onRow },
    });
  } catch (error) {
    throw failure ?? error;
  }
  // Releases imapflow's command slot, as its own fetch command does.
  result?.next?.();
  if (failure !== undefined) throw failure;
  return unsupported ? 'unsupported' : 'done';
}

async function viaFetch(client: ImapFlow, range: string, byUid: boolean, sink: MessageSink): Promise<void> {
  for await (const message of client.fetch(range, { uid: true, source: true, internalDate: true }, { uid: byUid })) {
    if (!message.source) continue;
    const date = message.internalDate instanceof Date ? message.internalDate : new Date(message.internalDate ?? 0);
    const wait = sink(message.source, date);
    if (wait) await wait;
  }
}
