/**
 * A local stand-in for Slack's Socket Mode backend
 * (https://docs.slack.dev/apis/events-api/using-socket-mode), so tests run the real Bolt app and the
 * real @slack/socket-mode client (undici's WebSocket) over a real WebSocket on 127.0.0.1.
 *
 * Slack's side of the contract, as documented:
 * - `apps.connections.open`, called with the app-level token (xapp-), answers a one-use WebSocket
 *   URL; the recorder in slack-api.ts answers it through `serveSocketMode`;
 * - on connect the server sends `{ type: "hello", ... }`, and only then is the app connected;
 * - requests arrive as envelopes `{ envelope_id, type, payload, accepts_response_payload }` and the
 *   app acknowledges with `{ envelope_id, payload? }` (the response body, e.g. response_action);
 * - `{ type: "disconnect", reason }` asks the app to open a new connection.
 *
 * The WebSocket layer is RFC 6455 (https://www.rfc-editor.org/rfc/rfc6455), written out because
 * no WebSocket server package is installed: the Upgrade handshake with Sec-WebSocket-Accept, text
 * frames both ways, client frames masked and server frames not, 16- and 64-bit payload lengths,
 * fragmented messages (with control frames between the fragments), ping/pong and the close
 * handshake. No extension (permessage-deflate) is negotiated, so frames are never compressed.
 * Whatever breaks the protocol fails the connection with close code 1002 and is recorded in
 * `protocolErrors`, where a test can see it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SlackApi } from './slack-api.js';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export const CLOSE = { normal: 1000, protocolError: 1002, unsupportedData: 1003, invalidPayload: 1007, tooBig: 1009 } as const;

/** Bigger than any envelope or ack a test sends; a 64-bit length beyond it is refused, not buffered. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

export interface Frame {
  fin: boolean;
  /** RSV1-3: must be zero, since no extension was negotiated. */
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** One frame, unmasked unless a mask is given (servers never mask; tests use a mask to play the client). */
export function encodeFrame(opcode: number, payload: Buffer, options: { fin?: boolean; mask?: Buffer } = {}): Buffer {
  const { fin = true, mask } = options;
  const maskBit = mask ? 0x80 : 0;
  let header: Buffer;
  if (payload.length < 126) {
    header = Buffer.from([0, maskBit | payload.length]);
  } else if (payload.length <= 0xffff) {
    header = Buffer.alloc(4);
    header[1] = maskBit | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (!mask) return Buffer.concat([header, payload]);
  return Buffer.concat([header, mask, applyMask(payload, mask)]);
}

/** Masking and unmasking are the same XOR with the 4-byte key (RFC 6455 section 5.3). */
function applyMask(payload: Buffer, mask: Buffer): Buffer {
  const out = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i]! ^ mask[i % 4]!;
  return out;
}

export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly closeCode: number = CLOSE.protocolError,
  ) {
    super(message);
  }
}

/** Cuts a TCP byte stream into frames; a frame split across reads waits for its remaining bytes. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: Frame[] = [];
    for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    return frames;
  }

  private next(): Frame | undefined {
    const bytes = this.buffered;
    if (bytes.length < 2) return undefined;
    const masked = (bytes[1]! & 0x80) !== 0;
    const length = this.payloadLength(bytes);
    if (!length) return undefined;
    const maskStart = length.headerBytes;
    const payloadStart = maskStart + (masked ? 4 : 0);
    const end = payloadStart + length.bytes;
    if (bytes.length < end) return undefined;
    const raw = bytes.subarray(payloadStart, end);
    const payload = masked ? applyMask(raw, bytes.subarray(maskStart, payloadStart)) : Buffer.from(raw);
    this.buffered = bytes.subarray(end);
    return { fin: (bytes[0]! & 0x80) !== 0, rsv: (bytes[0]! & 0x70) >> 4, opcode: bytes[0]! & 0x0f, masked, payload };
  }

  /** The 7-bit length, or 126 then 16 bits, or 127 then 64 bits; undefined while they are not all here. */
  private payloadLength(bytes: Buffer): { bytes: number; headerBytes: number } | undefined {
    const short = bytes[1]! & 0x7f;
    if (short < 126) return { bytes: short, headerBytes: 2 };
    if (short === 126) return bytes.length < 4 ? undefined : { bytes: bytes.readUInt16BE(2), headerBytes: 4 };
    if (bytes.length < 10) return undefined;
    const long = bytes.readBigUInt64BE(2);
    if (long > BigInt(MAX_MESSAGE_BYTES)) throw new ProtocolError(`a ${long}-byte frame is more than this server takes`, CLOSE.tooBig);
    return { bytes: Number(long), headerBytes: 10 };
  }
}

/** One accepted WebSocket connection, from after the 101 response until the TCP socket is gone. */
export class WebSocketConnection extends EventEmitter<{ message: [text: string]; ping: [payload: Buffer]; close: [code: number | undefined] }> {
  state: 'open' | 'closing' | 'closed' = 'open';
  /** The code in the peer's close frame (undefined: none came, or it carried no code). */
  peerCloseCode: number | undefined;
  /** Who sent the first close frame. */
  closedBy: 'client' | 'server' | undefined;
  readonly protocolErrors: string[] = [];
  pingsReceived = 0;
  readonly closed: Promise<void>;
  private readonly reader = new FrameReader();
  /** The fragments of a message still missing its FIN frame. */
  private fragments: Buffer[] | undefined;
  private readonly awaitedPongs = new Map<string, () => void>();

  constructor(private readonly socket: Duplex) {
    super();
    // Not events.once: it rejects on 'error', and a client that resets the connection is just closed.
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.state = 'closed';
        this.emit('close', this.peerCloseCode);
        resolve();
      }),
    );
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
  }

  receive(chunk: Buffer): void {
    try {
      for (const frame of this.reader.push(chunk)) this.handle(frame);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.fail(error);
    }
  }

  /** Sends one text message, in `fragments` frames (the first text, the rest continuation). */
  sendText(text: string, options: { fragments?: number } = {}): void {
    if (this.state !== 'open') throw new Error(`cannot send on a ${this.state} WebSocket`);
    const data = Buffer.from(text, 'utf8');
    const count = Math.max(1, Math.min(options.fragments ?? 1, data.length));
    const size = Math.ceil(data.length / count);
    for (let i = 0; i < count; i++) {
      const part = data.subarray(i * size, (i + 1) * size);
      this.socket.write(encodeFrame(i === 0 ? OPCODE.text : OPCODE.continuation, part, { fin: i === count - 1 }));
    }
  }

  /** Pings the client; resolves when its pong with the same payload arrives. */
  ping(payload: string = randomUUID()): Promise<void> {
    return new Promise((resolve) => {
      this.awaitedPongs.set(payload, resolve);
      this.socket.write(encodeFrame(OPCODE.ping, Buffer.from(payload)));
    });
  }

  /** Drops the TCP connection without a close handshake, as a crashed server would. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Starts the close handshake; resolves once the TCP connection is gone. */
  close(code: number = CLOSE.normal): Promise<void> {
    if (this.state === 'open') {
      this.state = 'closing';
      this.closedBy = 'server';
      this.socket.write(encodeFrame(OPCODE.close, closePayload(code)));
    }
    return this.closed;
  }

  private handle(frame: Frame): void {
    if (!frame.masked) throw new ProtocolError('client frames must be masked (RFC 6455 section 5.1)');
    if (frame.rsv !== 0) throw new ProtocolError('RSV bits set, but no extension was negotiated');
    if (frame.opcode >= OPCODE.close) return this.handleControl(frame);
    if (frame.opcode === OPCODE.text) {
      if (this.fragments) throw new ProtocolError('a new message began before the fragmented one ended');
      this.fragments = [];
    } else if (frame.opcode === OPCODE.continuation) {
      if (!this.fragments) throw new ProtocolError('a continuation frame with no message to continue');
    } else if (frame.opcode === OPCODE.binary) {
      throw new ProtocolError('Socket Mode speaks JSON text; binary frames are not taken', CLOSE.unsupportedData);
    } else {
      throw new ProtocolError(`unknown opcode ${frame.opcode}`);
    }
    this.fragments.push(frame.payload);
    if (!frame.fin) return;
    const data = Buffer.concat(this.fragments);
    this.fragments = undefined;
    this.emit('message', decodeText(data));
  }

  /** Control frames may come between the fragments of a message, but are never fragmented themselves. */
  private handleControl(frame: Frame): void {
    if (!frame.fin || frame.payload.length > 125) throw new ProtocolError('control frames must be whole and at most 125 bytes');
    switch (frame.opcode) {
      case OPCODE.ping:
        this.pingsReceived += 1;
        this.emit('ping', frame.payload);
        if (this.state === 'open') this.socket.write(encodeFrame(OPCODE.pong, frame.payload));
        return;
      case OPCODE.pong: {
        const key = frame.payload.toString('utf8');
        this.awaitedPongs.get(key)?.();
        this.awaitedPongs.delete(key);
        return;
      }
      case OPCODE.close:
        return this.closeReceived(frame.payload);
      default:
        throw new ProtocolError(`unknown control opcode ${frame.opcode}`);
    }
  }

  /** The peer's close frame: answer it (unless it answers ours), then the server closes TCP first. */
  private closeReceived(payload: Buffer): void {
    this.peerCloseCode = payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
    if (this.state === 'open') {
      this.closedBy = 'client';
      this.socket.write(encodeFrame(OPCODE.close, payload.subarray(0, 2)));
    }
    this.state = 'closing';
    this.socket.end();
  }

  private fail(error: ProtocolError): void {
    this.protocolErrors.push(error.message);
    if (this.state === 'open') this.socket.write(encodeFrame(OPCODE.close, closePayload(error.closeCode)));
    this.state = 'closing';
    this.closedBy ??= 'server';
    this.socket.end();
  }
}

function decodeText(data: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new ProtocolError('a text message that is not UTF-8', CLOSE.invalidPayload);
  }
}

const closePayload = (code: number) => {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  return payload;
};

/** Why an Upgrade request is refused (status and reason), or undefined when it is a valid WebSocket handshake. */
export function handshakeProblem(req: IncomingMessage): { status: number; reason: string; headers?: Record<string, string> } | undefined {
  const tokens = (name: string) => String(req.headers[name] ?? '').toLowerCase().split(/\s*,\s*/);
  if (req.method !== 'GET') return { status: 405, reason: 'Method Not Allowed' };
  if (!tokens('upgrade').includes('websocket') || !tokens('connection').includes('upgrade')) return { status: 400, reason: 'Bad Request' };
  if (req.headers['sec-websocket-version'] !== '13') return { status: 426, reason: 'Upgrade Required', headers: { 'Sec-WebSocket-Version': '13' } };
  const key = String(req.headers['sec-websocket-key'] ?? '');
  if (Buffer.from(key, 'base64').length !== 16) return { status: 400, reason: 'Bad Request' };
  return undefined;
}

function refuseUpgrade(socket: Duplex, problem: { status: number; reason: string; headers?: Record<string, string> }): void {
  const headers = Object.entries({ ...problem.headers, Connection: 'close', 'Content-Length': '0' }).map(([name, value]) => `${name}: ${value}`);
  socket.end([`HTTP/1.1 ${problem.status} ${problem.reason}`, ...headers, '', ''].join('\r\n'));
}

// ---------------------------------------------------------------------------------------------
// Socket Mode on top

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface Envelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

/** What the app sends back for an envelope. */
export interface Ack {
  envelope_id: string;
  payload?: Record<string, any>;
}

export class SocketModeConnection extends WebSocketConnection {
  /** Acks that came on this connection, in order. */
  readonly acks: Ack[] = [];
  /** Text messages that were neither JSON nor an ack. */
  readonly unexpected: string[] = [];

  constructor(
    socket: Duplex,
    /** 1-based, in the order the app connected. */
    readonly number: number,
    readonly url: string,
  ) {
    super(socket);
  }
}

export class SocketModeServer extends EventEmitter<{ connection: [connection: SocketModeConnection]; ack: [ack: Ack, connection: SocketModeConnection] }> {
  readonly connections: SocketModeConnection[] = [];
  readonly appId = 'A1';
  origin = '';
  private server!: Server;
  /** Tickets handed out by apps.connections.open and not yet used: each URL opens one connection. */
  private readonly tickets = new Set<string>();
  private readonly ackWaiters = new Map<string, (ack: Ack) => void>();
  private envelopeSeq = 0;

  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      res.writeHead(426, { 'Sec-WebSocket-Version': '13' }).end();
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.origin = `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** What apps.connections.open answers: a new one-use URL, as Slack's wss://wss-primary.slack.com/link/?ticket=… */
  openConnectionUrl(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `${this.origin}/link/?ticket=${ticket}&app_id=${this.appId}`;
  }

  /** The newest connection, which is where Slack sends envelopes. */
  get current(): SocketModeConnection | undefined {
    return this.connections.at(-1);
  }

  /** Resolves with the n-th (1-based) connection once it exists and hello has been sent on it. */
  async connection(n: number): Promise<SocketModeConnection> {
    while (this.connections.length < n) await once(this, 'connection');
    return this.connections[n - 1]!;
  }

  /**
   * Sends an envelope on the current connection. `acked` resolves with the app's answer to this
   * envelope_id, whichever connection it comes on.
   */
  deliver(type: EnvelopeType, payload: Record<string, unknown>, options: { acceptsResponsePayload?: boolean; fragments?: number } = {}): { envelopeId: string; acked: Promise<Ack> } {
    const connection = this.current;
    if (!connection || connection.state !== 'open') throw new Error('no open Socket Mode connection to deliver on');
    const envelope: Envelope = { envelope_id: `envelope-${++this.envelopeSeq}-${randomUUID()}`, type, payload, accepts_response_payload: options.acceptsResponsePayload ?? false };
    if (type === 'events_api') Object.assign(envelope, { retry_attempt: 0, retry_reason: '' });
    const acked = new Promise<Ack>((resolve) => this.ackWaiters.set(envelope.envelope_id, resolve));
    connection.sendText(JSON.stringify(envelope), { fragments: options.fragments ?? 1 });
    return { envelopeId: envelope.envelope_id, acked };
  }

  /** Slack's way of moving the app to another server: the app should open a new connection. */
  askToReconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    this.current?.sendText(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-test' } }));
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.origin.replace(/^ws/, 'http'));
    const ticket = url.searchParams.get('ticket') ?? '';
    const problem = handshakeProblem(req) ?? (url.pathname === '/link/' && this.tickets.delete(ticket) ? undefined : { status: 401, reason: 'Unauthorized' });
    if (problem) return refuseUpgrade(socket, problem);

    socket.write(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(String(req.headers['sec-websocket-key']))}`, '', ''].join('\r\n'));
    const connection = new SocketModeConnection(socket, this.connections.length + 1, `${this.origin}${req.url}`);
    connection.on('message', (text) => this.messageFrom(connection, text));
    if (head.length) connection.receive(head);
    this.connections.push(connection);
    connection.sendText(JSON.stringify(this.hello()));
    this.emit('connection', connection);
  }

  private hello() {
    return {
      type: 'hello',
      num_connections: this.connections.filter((c) => c.state === 'open').length,
      debug_info: { host: 'applink-test', build_number: 1, approximate_connection_time: 3600 },
      connection_info: { app_id: this.appId },
    };
  }

  private messageFrom(connection: SocketModeConnection, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      connection.unexpected.push(text);
      return;
    }
    const envelopeId = (message as { envelope_id?: unknown })?.envelope_id;
    if (typeof envelopeId !== 'string') {
      connection.unexpected.push(text);
      return;
    }
    const ack = message as Ack;
    connection.acks.push(ack);
    this.emit('ack', ack, connection);
    this.ackWaiters.get(envelopeId)?.(ack);
    this.ackWaiters.delete(envelopeId);
  }
}

/** A Socket Mode backend wired to the Web API recorder: apps.connections.open with `appToken` answers its URLs. */
export async function startSocketModeServer(api: SlackApi, appToken: string): Promise<SocketModeServer> {
  const server = new SocketModeServer();
  await server.start();
  api.serveSocketMode(appToken, () => server.openConnectionUrl());
  return server;
}
