/**
 * A second, cleartext IMAP connection of our own next to imapflow's, used only to EXAMINE each
 * folder and run its bulk FETCH with our response reader (fetch-response-reader.ts).
 *
 * Why not always imapflow's connection (imap-borrowed-fetch.ts): Node gives every read of a socket
 * it creates a new buffer. At 100 MB/s those buffers turn into garbage faster than V8 collects them
 * (it forces a young collection only once 32 MB of them pile up), which showed as ~10 MB more peak
 * RSS. A socket we create can read into one reused buffer (the `onread` option of net.connect), so
 * the download allocates nothing per read.
 *
 * Only for connections imapflow runs in cleartext (a trusted network, like the loopback Dovecot of
 * the tests and benchmarks): TLS would need this module to match imapflow's certificate checks and
 * STARTTLS handling, which is not worth a second implementation; TLS exports borrow imapflow's
 * connection instead. imapflow still does the login the export reports on and LIST; this
 * connection's EXAMINE takes the folder's snapshot. It logs in as imapflow does (SASL PLAIN
 * carrying the authzid, else AUTHENTICATE PLAIN or LOGIN), only after imapflow's login worked, and
 * refuses to continue if the server offers STARTTLS, as imapflow would have upgraded then. Any
 * failure to set it up only means the export uses imapflow's connection; no error is reported
 * for that.
 */
import net from 'node:net';
import { FetchResponseReader, type FetchStep } from './fetch-response-reader.js';
import type { MessageSink } from './imap-fetch.js';

/** Reads of up to this size; large enough that loopback reads rarely split a message. */
const READ_BUFFER_SIZE = 256 * 1024;
const CONNECT_TIMEOUT_MS = 30_000;
/** Same inactivity limit imapflow uses. */
const SOCKET_TIMEOUT_MS = 5 * 60_000;
const LOGOUT_WAIT_MS = 2_000;

export interface DirectLogin {
  host: string;
  port: number;
  user: string;
  password: string;
  authzid?: string;
}

export interface FolderSnapshot {
  exists: number;
  uidNext: number;
}

interface Completion {
  status: string;
  text: string;
}

interface Pending {
  onMessage?: (body: Buffer, internalDate: Date) => Promise<void> | undefined;
  onUntagged?: (line: string) => void;
  onContinuation?: (text: string) => void;
  resolve: (completion: Completion) => void;
  reject: (error: unknown) => void;
}

/** Shapes imap-export.ts reports: `code` for the connection, `responseText` for the server's answer. */
function connectionError(message: string, code: string, bye?: string): Error {
  return Object.assign(new Error(bye ? `${message}: ${bye}` : message), { code, responseText: bye });
}

function refusal(command: string, completion: Completion): Error {
  const text = `${completion.status} ${completion.text}`.trim();
  return Object.assign(new Error(`${command} failed: ${text}`), { responseStatus: completion.status, responseText: text });
}

/** An IMAP quoted string, or undefined when the value needs a literal (CR, LF, NUL or 8-bit). */
function quoted(value: string): string | undefined {
  return /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value) ? `"${value.replace(/[\\"]/g, '\\$&')}"` : undefined;
}

/** Capability atoms from `* OK [CAPABILITY ...]` or `* CAPABILITY ...`, upper-cased. */
function capabilitiesIn(line: string): string[] | undefined {
  const match = /^\* (?:OK \[CAPABILITY ([^\]]*)\]|CAPABILITY (.*))/i.exec(line);
  const list = match?.[1] ?? match?.[2];
  return list === undefined ? undefined : list.trim().toUpperCase().split(/\s+/);
}

export class DirectImapConnection {
  private readonly socket: net.Socket;
  private readonly buffer = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
  private readonly reader = new FetchResponseReader('');
  private pending: Pending | undefined;
  private tagCounter = 0;
  private failure: Error | undefined;
  private bye: string | undefined;
  private capabilities = new Set<string>();

  private constructor(server: Pick<DirectLogin, 'host' | 'port'>) {
    this.socket = net.connect({
      host: server.host,
      port: server.port,
      onread: { buffer: this.buffer, callback: (length: number) => this.parse(0, length) },
    });
    this.socket.setTimeout(CONNECT_TIMEOUT_MS);
    this.socket.on('timeout', () => this.fail(connectionError('the IMAP connection timed out', 'ETIMEDOUT')));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(connectionError('the IMAP connection closed', 'EConnectionClosed', this.bye)));
  }

  /** Connects and logs in; rejects (and closes) when anything is not as expected. */
  static async open(login: DirectLogin): Promise<DirectImapConnection> {
    const connection = await DirectImapConnection.connect(login);
    await connection.login(login);
    return connection;
  }

  /**
   * Connects and reads the greeting and capabilities, sending no credentials: an export starts
   * this while imapflow logs in, and calls login() only once imapflow's login has succeeded.
   * Rejects (and closes) when the server offers STARTTLS: imapflow upgrades whenever it is
   * offered, and staying in cleartext here would send the password where imapflow did not.
   */
  static async connect(server: Pick<DirectLogin, 'host' | 'port'>): Promise<DirectImapConnection> {
    const connection = new DirectImapConnection(server);
    try {
      const greeting = await connection.expectResponse();
      if (!/^\* OK\b/i.test(greeting)) throw connectionError('unexpected IMAP greeting', 'EProtocol', greeting.slice(0, 200));
      connection.capabilities = new Set(capabilitiesIn(greeting) ?? (await connection.capabilityCommand()));
      if (connection.capabilities.has('STARTTLS')) throw connectionError('the server offers STARTTLS', 'ETLSRequired');
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** Logs in as imapflow does: SASL PLAIN (with the authzid) when possible, else LOGIN. Closes on failure. */
  async login(login: Omit<DirectLogin, 'host' | 'port'>): Promise<void> {
    try {
      await this.authenticate(login);
      this.socket.setTimeout(SOCKET_TIMEOUT_MS);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  private async authenticate(login: Omit<DirectLogin, 'host' | 'port'>): Promise<void> {
    if (login.authzid !== undefined || this.capabilities.has('AUTH=PLAIN')) {
      const payload = Buffer.from(`${login.authzid ?? ''}\0${login.user}\0${login.password}`, 'utf8').toString('base64');
      await this.ok('AUTHENTICATE', 'AUTHENTICATE PLAIN', {
        // The credentials go out as the answer to the continuation, as imapflow sends them.
        onContinuation: () => this.socket.write(`${payload}\r\n`),
      });
    } else if (!this.capabilities.has('LOGINDISABLED')) {
      await this.ok('LOGIN', 'LOGIN', {}, [login.user, login.password]);
    } else {
      throw connectionError('no usable login method', 'EAuthMethod');
    }
  }

  private async capabilityCommand(): Promise<string[]> {
    let found: string[] = [];
    await this.ok('CAPABILITY', 'CAPABILITY', {
      onUntagged: (line) => {
        found = capabilitiesIn(line) ?? found;
      },
    });
    return found;
  }

  /**
   * EXAMINE by the name exactly as LIST returned it (imapflow's `pathAsListed`): read-only, so
   * \Seen is untouched. Returns the folder's EXISTS and UIDNEXT (0 when the server sent none).
   */
  async examine(nameAsListed: string): Promise<FolderSnapshot> {
    let exists: number | undefined;
    let uidNext = 0;
    await this.ok(
      'EXAMINE',
      'EXAMINE',
      {
        onUntagged: (line) => {
          const count = /^\* (\d+) EXISTS$/i.exec(line);
          if (count) exists = Number(count[1]);
          const next = /^\* OK \[UIDNEXT (\d+)\]/i.exec(line);
          if (next) uidNext = Number(next[1]);
        },
      },
      [nameAsListed],
    );
    if (exists === undefined) throw connectionError('EXAMINE answered without EXISTS', 'EProtocol');
    return { exists, uidNext };
  }

  /**
   * `UID FETCH range (UID INTERNALDATE BODY.PEEK[])` (or FETCH by sequence numbers) on the folder
   * last examined; each message goes to `sink` in server order. While the sink's promise is
   * pending nothing is read, so the message's memory stays valid and TCP slows the server down.
   */
  async fetch(range: string, byUid: boolean, sink: MessageSink): Promise<void> {
    await this.ok('FETCH', `${byUid ? 'UID FETCH' : 'FETCH'} ${range} (UID INTERNALDATE BODY.PEEK[])`, { onMessage: sink });
  }

  /** A polite LOGOUT, but the export does not wait long for a server that does not answer it. */
  async logout(): Promise<void> {
    if (this.failure) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.command('LOGOUT').catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, LOGOUT_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    this.close();
  }

  /** Closes the socket; a command in progress fails. */
  close(): void {
    this.fail(connectionError('the IMAP connection was closed', 'EConnectionClosed'));
  }

  /** Resolves with the next response line of the greeting (untagged) before any command is sent. */
  private expectResponse(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.pending = {
        onUntagged: (line) => {
          this.pending = undefined;
          resolve(line);
        },
        resolve: () => undefined,
        reject,
      };
    });
  }

  private async ok(name: string, command: string, handlers: Omit<Pending, 'resolve' | 'reject'> = {}, args: string[] = []): Promise<void> {
    const completion = await this.command(command, handlers, args);
    if (completion.status !== 'OK') throw refusal(name, completion);
  }

  /**
   * Sends one command. Arguments go as quoted strings, or as synchronizing literals when they
   * cannot be quoted: the text up to each literal's `{n}` goes first, the literal and what
   * follows when the server sends its continuation.
   */
  private command(command: string, handlers: Omit<Pending, 'resolve' | 'reject'> = {}, args: string[] = []): Promise<Completion> {
    if (this.failure) return Promise.reject(this.failure);
    const tag = `D${++this.tagCounter}`;
    this.reader.tag = tag;
    const sends: Buffer[] = [];
    let piece: Buffer[] = [Buffer.from(`${tag} ${command}`, 'latin1')];
    for (const arg of args) {
      const asQuoted = quoted(arg);
      if (asQuoted !== undefined) {
        piece.push(Buffer.from(` ${asQuoted}`, 'latin1'));
        continue;
      }
      const bytes = Buffer.from(arg, 'utf8');
      piece.push(Buffer.from(` {${bytes.length}}\r\n`, 'latin1'));
      sends.push(Buffer.concat(piece));
      piece = [bytes];
    }
    piece.push(Buffer.from('\r\n', 'latin1'));
    sends.push(Buffer.concat(piece));
    let next = 1;
    return new Promise<Completion>((resolve, reject) => {
      this.pending = {
        ...handlers,
        onContinuation: (text) => {
          if (next < sends.length) this.socket.write(sends[next++]!);
          else if (handlers.onContinuation) handlers.onContinuation(text);
          else this.fail(connectionError('unexpected continuation request', 'EProtocol'));
        },
        resolve,
        reject,
      };
      this.socket.write(sends[0]!);
    });
  }

  /** Parses buffer[at, end); returns false to stop reading (waiting for the sink, or failed). */
  private parse(at: number, end: number): boolean {
    if (this.failure) return false;
    const chunk = this.buffer.subarray(0, end);
    try {
      while (at < end) {
        const step = this.reader.read(chunk, at);
        at = this.reader.offset;
        if (!step) break;
        const wait = this.dispatch(step);
        if (wait) {
          const resumeAt = at;
          wait.then(
            () => {
              if (this.parse(resumeAt, end)) this.socket.resume();
            },
            (error: unknown) => this.fail(error),
          );
          return false;
        }
      }
      // The next read reuses the buffer.
      this.reader.releaseChunk(chunk);
      return true;
    } catch (error) {
      this.fail(error);
      return false;
    }
  }

  private dispatch(step: FetchStep): Promise<void> | undefined {
    const pending = this.pending;
    switch (step.kind) {
      case 'message':
        // FETCH responses outside our FETCH (none are expected) carry nothing we asked for.
        return pending?.onMessage?.(step.body, step.internalDate === undefined ? new Date(0) : new Date(step.internalDate));
      case 'untagged':
        pending?.onUntagged?.(step.line);
        return undefined;
      case 'continuation':
        if (!pending?.onContinuation) throw connectionError('unexpected continuation request', 'EProtocol');
        pending.onContinuation(step.text);
        return undefined;
      case 'bye':
        this.bye = step.text;
        return undefined;
      case 'tagged':
        this.pending = undefined;
        pending?.resolve({ status: step.status, text: step.text });
        return undefined;
    }
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.socket.destroy();
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.failure);
  }
}
