/**
 * One ManageSieve socket: connects (plain TCP or implicit TLS), upgrades with STARTTLS, and turns
 * the byte stream into responses. ManageSieve has no command tags (RFC 5804 §1.3), so responses are
 * matched to commands by order; `exec` runs commands one at a time to keep that order.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ManageSieveError } from './errors.js';
import { parseLine, statusOf, toResponse, type ManageSieveResponse, type Token } from './wire.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  /** Implicit TLS from the first byte. */
  secure?: boolean;
  /** Extra options for tls.connect (ca, servername, rejectUnauthorized...). */
  tls?: tls.ConnectionOptions;
  timeoutMs: number;
}

interface Waiter {
  resolve: (response: ManageSieveResponse) => void;
  reject: (error: Error) => void;
}

export class Connection {
  private socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private lines: Token[][] = [];
  private responses: ManageSieveResponse[] = [];
  private waiter: Waiter | undefined;
  private failure: ManageSieveError | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    socket: net.Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  /** Connects and resolves once the socket is usable; the greeting is read with `read()`. */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const where = `${options.host}:${options.port}`;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const socket = options.secure
        ? tls.connect({ host: options.host, port: options.port, servername: serverName(options.host), ...options.tls })
        : net.connect({ host: options.host, port: options.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ManageSieveError('Timeout', `ManageSieve server ${where} did not accept a connection within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      socket.once(options.secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (cause) => {
        clearTimeout(timer);
        reject(new ManageSieveError('ConnectionFailed', `cannot connect to ManageSieve server ${where}: ${cause.message}`, { cause }));
      });
    });
    return new Connection(socket, options);
  }

  get encrypted(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Reads the next response: the greeting, or what the server sends unasked after STARTTLS. */
  read(): Promise<ManageSieveResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const ready = this.responses.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new ManageSieveError('Timeout', `ManageSieve server ${this.where} sent no complete response within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      this.waiter = {
        resolve: (response) => { clearTimeout(timer); resolve(response); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      };
    });
  }

  /** Sends one command and resolves with its response; commands run strictly one after another. */
  exec(command: Buffer): Promise<ManageSieveResponse> {
    const run = this.queue.then(() => {
      if (this.failure) throw this.failure;
      this.socket.write(command);
      return this.read();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * RFC 5804 §2.2: after "OK" to STARTTLS the TLS handshake starts on the same socket; the server
   * then re-sends its capabilities unasked, which the caller reads with `read()`.
   */
  async upgrade(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({ socket: plain, servername: serverName(this.options.host), ...this.options.tls });
      const timer = setTimeout(() => reject(new ManageSieveError('Timeout', `STARTTLS handshake with ${this.where} timed out`)), this.options.timeoutMs);
      socket.once('secureConnect', () => { clearTimeout(timer); socket.removeAllListeners('error'); resolve(socket); });
      socket.once('error', (cause) => {
        clearTimeout(timer);
        reject(new ManageSieveError('ConnectionFailed', `STARTTLS with ${this.where} failed: ${cause.message}`, { cause }));
      });
    }).catch((error: ManageSieveError) => {
      this.fail(error);
      throw error;
    });
    this.socket = secure;
    this.buffer = Buffer.alloc(0);
    this.attach(secure);
  }

  /** Closes the socket without a goodbye; LOGOUT is the polite way. */
  close(): void {
    this.fail(new ManageSieveError('ConnectionClosed', `ManageSieve connection to ${this.where} was closed by the client`));
  }

  private get where(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (cause) => {
      this.fail(new ManageSieveError('ConnectionClosed', `ManageSieve connection to ${this.where} failed: ${cause.message}`, { cause }));
    });
    socket.on('close', () => {
      this.fail(new ManageSieveError('ConnectionClosed', `ManageSieve server ${this.where} closed the connection`));
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      let offset = 0;
      for (let line = parseLine(this.buffer, offset); line; line = parseLine(this.buffer, offset)) {
        offset = line.next;
        if (statusOf(line.tokens)) {
          this.deliver(toResponse(line.tokens, this.lines));
          this.lines = [];
        } else {
          this.lines.push(line.tokens);
        }
      }
      this.buffer = this.buffer.subarray(offset);
    } catch (error) {
      this.fail(error as ManageSieveError);
    }
  }

  private deliver(response: ManageSieveResponse): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter.resolve(response);
    // An unasked BYE (idle timeout, shutdown) ends the session; keep the server's reason.
    else if (response.status === 'BYE') this.fail(new ManageSieveError('ConnectionClosed', `ManageSieve server ${this.where} ended the session: ${response.text ?? 'BYE'}`, { serverText: response.text }));
    else this.responses.push(response);
  }

  private fail(error: ManageSieveError): void {
    if (this.failure) return;
    this.failure = error;
    this.socket.destroy();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }
}

/** SNI must not carry an IP address (RFC 6066 §3). */
function serverName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}
