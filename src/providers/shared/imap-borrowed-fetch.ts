/**
 * The export's bulk FETCH, read by our own reader (fetch-response-reader.ts) on imapflow's
 * connection.
 *
 * Used over TLS (cleartext exports use connections of their own, imap-direct-connection.ts).
 * imapflow keeps what it does well: connecting, STARTTLS or TLS, capabilities, SASL PLAIN with an
 * authzid, LIST and EXAMINE. For the one command that moves the mail it lends us its connection,
 * because its response parser costs about 60 µs per message (an object per token, attribute
 * objects per row), which was most of an export's time; the reader here hands message bytes on
 * without decoding them.
 *
 * Borrowing: imapflow pipes its socket (or, after COMPRESS=DEFLATE, its inflate stream) into its
 * ImapStream parser and writes through `writeSocket`. Between commands we unpipe that source,
 * make sure imapflow's parser holds no unread bytes, write our command under a tag imapflow never
 * uses (its tags are hex numbers), and read until our tagged response. Bytes that followed it are
 * handed to imapflow's parser and the source is piped back, so the connection is imapflow's again
 * exactly where it would have been. imapflow does not see the FETCH responses; the other untagged
 * responses that came with them (EXISTS, EXPUNGE, OK [...]) are passed on to it at hand-back, so its
 * view of the mailbox stays current.
 * imapflow only writes on its own after 5 minutes of silence (a NOOP), which a running export
 * never leaves; it sends nothing else unasked with auto-IDLE off (imap-export.ts turns it off).
 *
 * All of this relies on imapflow internals, so every one is feature-checked first; if a check
 * fails nothing has been sent and the caller takes the next path (imap-fetch.ts).
 */
import { Readable, Writable } from 'node:stream';
import type { ImapFlow } from 'imapflow';
import { FetchResponseReader } from './fetch-response-reader.js';
import type { MessageSink } from './imap-fetch.js';

/** Not a hex number, so it can never equal one of imapflow's tags. */
const TAG_PREFIX = 'PMX';
/** How many event-loop turns to wait for imapflow's parser to finish the chunk it is on. */
const DRAIN_TURNS = 20;

let tagCounter = 0;

interface LendingClient {
  usable?: unknown;
  currentRequest?: unknown;
  requestQueue?: unknown;
  socket?: unknown;
  writeSocket?: unknown;
  streamer?: unknown;
  _inflate?: unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/** The parts of imapflow's ImapStream that tell whether it still holds input. */
interface ParserBuffers {
  readableLength: number;
  writableLength: number;
  lineBuffer: unknown[];
  inputBuffer: unknown[];
  literalBuffer: unknown[];
  inputQueue: unknown[];
  processingInput: unknown;
}

interface Wire {
  /** What feeds imapflow's parser: the socket, or the inflate stream under compression. */
  source: Readable;
  parser: Writable & ParserBuffers;
  out: Writable;
}

function isParser(value: unknown): value is Writable & ParserBuffers {
  if (!(value instanceof Writable)) return false;
  const p = value as unknown as Record<string, unknown>;
  return ['lineBuffer', 'inputBuffer', 'literalBuffer', 'inputQueue'].every((k) => Array.isArray(p[k])) && 'processingInput' in p;
}

function wireOf(client: ImapFlow): Wire | undefined {
  const c = client as unknown as LendingClient;
  if (c.usable !== true || c.currentRequest || !Array.isArray(c.requestQueue) || c.requestQueue.length > 0) return undefined;
  const source = c._inflate ? c._inflate : c.socket;
  if (!(source instanceof Readable) || source.destroyed) return undefined;
  if (!(c.writeSocket instanceof Writable) || c.writeSocket.destroyed) return undefined;
  if (!isParser(c.streamer) || c.streamer.destroyed) return undefined;
  return { source, parser: c.streamer, out: c.writeSocket };
}

function parserIsEmpty(p: ParserBuffers): boolean {
  return (
    !p.processingInput &&
    p.readableLength === 0 &&
    p.writableLength === 0 &&
    p.lineBuffer.length === 0 &&
    p.inputBuffer.length === 0 &&
    p.literalBuffer.length === 0 &&
    p.inputQueue.length === 0
  );
}

async function parserDrained(p: ParserBuffers): Promise<boolean> {
  for (let turn = 0; turn < DRAIN_TURNS; turn++) {
    if (parserIsEmpty(p)) return true;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return parserIsEmpty(p);
}

/** Error shapes imap-export.ts already reports: `code` for the connection, `response*` for the server's answer. */
function connectionClosed(bye: string | undefined): Error {
  const message = bye ? `the server closed the connection during FETCH: ${bye}` : 'the connection closed during FETCH';
  return Object.assign(new Error(message), { code: 'EConnectionClosed', responseText: bye });
}

function commandRefused(status: string, text: string): Error {
  return Object.assign(new Error(`FETCH failed: ${status} ${text}`), { responseStatus: status, responseText: `${status} ${text}` });
}

/**
 * Runs `UID FETCH range (UID INTERNALDATE BODY.PEEK[])` (or FETCH by sequence numbers) on
 * `client`'s connection and hands each message to `sink` in server order, waiting whenever the
 * sink returns a promise (the socket is paused meanwhile, so TCP slows the server down).
 * 'unsupported' means nothing was sent: imapflow's internals are not as expected.
 * On a tagged NO/BAD the connection is handed back and the error thrown; on any other failure
 * (connection lost, unreadable response, sink error) the connection is closed.
 */
export async function fetchOnBorrowedConnection(
  client: ImapFlow,
  range: string,
  byUid: boolean,
  sink: MessageSink,
): Promise<'done' | 'unsupported'> {
  const wire = wireOf(client);
  if (!wire) return 'unsupported';
  const { source, parser } = wire;
  let unpiped = false;
  const onUnpipe = (from: unknown) => {
    if (from === source) unpiped = true;
  };
  parser.on('unpipe', onUnpipe);
  source.unpipe(parser);
  parser.off('unpipe', onUnpipe);
  // No 'unpipe' event: the source was not piped into the parser, the layout is not what we know.
  if (!unpiped) return 'unsupported';
  if (!(await parserDrained(parser)) || wireOf(client)?.source !== source) {
    if (!source.destroyed && !parser.destroyed) source.pipe(parser);
    return 'unsupported';
  }
  await transfer(client, wire, range, byUid, sink);
  return 'done';
}

function transfer(client: ImapFlow, wire: Wire, range: string, byUid: boolean, sink: MessageSink): Promise<void> {
  const { source, parser, out } = wire;
  const lender = client as unknown as LendingClient;
  const tag = `${TAG_PREFIX}${++tagCounter}`;
  const reader = new FetchResponseReader(tag);
  let bye: string | undefined;
  /** Untagged responses that are imapflow's business (mailbox state), passed on at hand-back. */
  const forImapflow: string[] = [];
  let settled = false;

  return new Promise<void>((resolve, reject) => {
    const detach = () => {
      settled = true;
      source.off('data', onData);
      source.off('end', onClosed);
      source.off('close', onClosed);
      source.off('error', fail);
      lender.off('close', onClosed);
      source.pause();
    };
    /** Our tagged response arrived: give imapflow the connection back, with what followed it. */
    const handBack = (rest: Buffer) => {
      detach();
      if (forImapflow.length > 0) parser.write(Buffer.from(`${forImapflow.join('\r\n')}\r\n`, 'latin1'));
      if (rest.length > 0) parser.write(rest);
      source.pipe(parser);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      detach();
      // The server is mid-response (or gone): the connection cannot be handed back in step.
      client.close();
      reject(error);
    };
    function onClosed(): void {
      fail(connectionClosed(bye));
    }

    /** Reads `chunk` from `start`; false when it stopped to wait for the sink (the socket is paused). */
    const consume = (chunk: Buffer, start: number): boolean => {
      let at = start;
      while (!settled) {
        const step = reader.read(chunk, at);
        at = reader.offset;
        if (!step) return true;
        if (step.kind === 'message') {
          const wait = sink(step.body, step.internalDate === undefined ? new Date(0) : new Date(step.internalDate));
          if (wait) {
            source.pause();
            wait.then(
              () => {
                try {
                  if (!settled && consume(chunk, at) && !settled) source.resume();
                } catch (error) {
                  fail(error);
                }
              },
              (error: unknown) => fail(error),
            );
            return false;
          }
        } else if (step.kind === 'bye') {
          bye = step.text;
        } else if (step.kind === 'untagged') {
          forImapflow.push(step.line);
        } else if (step.kind === 'tagged') {
          handBack(chunk.subarray(at));
          if (step.status === 'OK') resolve();
          else reject(commandRefused(step.status, step.text));
        }
      }
      return false;
    };
    function onData(chunk: Buffer): void {
      try {
        consume(chunk, 0);
      } catch (error) {
        fail(error);
      }
    }

    source.on('data', onData);
    source.once('end', onClosed);
    source.once('close', onClosed);
    source.once('error', fail);
    lender.on('close', onClosed);
    try {
      out.write(Buffer.from(`${tag} ${byUid ? 'UID FETCH' : 'FETCH'} ${range} (UID INTERNALDATE BODY.PEEK[])\r\n`, 'latin1'));
    } catch (error) {
      fail(error);
      return;
    }
    source.resume();
  });
}
