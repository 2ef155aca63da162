/**
 * The client against a scripted ManageSieve server on loopback: the failure modes a real Dovecot
 * will not produce on demand (timeouts, drops, unasked BYE, split packets, TLS).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManageSieveClient, isManageSieveError, parseSieveUrl, type ManageSieveError } from '../../src/providers/dovecot/managesieve/index.js';

const PASSWORD = 'pa55-"secret"-\\-订';
const PASSWORD_B64 = Buffer.from(PASSWORD).toString('base64');
const CAPS = '"IMPLEMENTATION" "Fake"\r\n"SIEVE" "fileinto vacation copy"\r\n"VERSION" "1.0"\r\n';

interface Received {
  line: string;
  literal?: Buffer;
  encrypted: boolean;
}
type Reply = string | null | ((socket: net.Socket) => void);

interface Fake {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

const servers: Fake[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server that greets, then answers each command (line plus any {N+} literal) through `handle`. */
async function fakeServer(options: {
  greeting?: string;
  handle?: (command: Received) => Reply;
  secure?: { key: string; cert: string };
  starttls?: { key: string; cert: string };
  dribble?: boolean;
}): Promise<Fake> {
  const received: Received[] = [];
  const sockets = new Set<net.Socket>();
  const write = async (socket: net.Socket, text: string) => {
    if (!options.dribble) return void socket.write(text);
    // One byte at a time, so the client must reassemble lines and literals across packets.
    for (const byte of Buffer.from(text)) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const serve = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    const onData = async (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        const line = buffer.subarray(0, end).toString('utf8');
        const literal = /\{(\d+)\+\}$/.exec(line);
        let next = end + 2;
        let body: Buffer | undefined;
        if (literal) {
          const size = Number(literal[1]);
          if (buffer.length < next + size + 2) return;
          body = buffer.subarray(next, next + size);
          next += size + 2;
        }
        buffer = buffer.subarray(next);
        const command: Received = { line, literal: body, encrypted: socket instanceof tls.TLSSocket };
        received.push(command);
        if (line === 'STARTTLS' && options.starttls) {
          socket.removeAllListeners('data');
          socket.write('OK "Begin TLS negotiation now."\r\n');
          const secure = new tls.TLSSocket(socket, { isServer: true, ...options.starttls });
          secure.on('secure', () => secure.write(`${CAPS}"SASL" "PLAIN"\r\nOK "TLS negotiation successful."\r\n`));
          serve(secure);
          return;
        }
        const reply = options.handle ? options.handle(command) : defaultReply(command);
        if (typeof reply === 'function') reply(socket);
        else if (reply !== null) await write(socket, reply);
      }
    };
    socket.on('data', (chunk: Buffer) => void onData(chunk));
  };
  const greet = (socket: net.Socket) => {
    serve(socket);
    void write(socket, options.greeting ?? `${CAPS}"SASL" "PLAIN LOGIN"\r\nOK "Fake ready."\r\n`);
  };
  const server = options.secure ? tls.createServer(options.secure, greet) : net.createServer(greet);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake: Fake = {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(fake);
  return fake;
}

function defaultReply({ line }: Received): Reply {
  if (line.startsWith('AUTHENTICATE')) return 'OK "Logged in."\r\n';
  if (line === 'CAPABILITY') return `${CAPS}"MAXREDIRECTS" "5"\r\nOK "Capability completed."\r\n`;
  if (line === 'LOGOUT') return 'OK "Logout completed."\r\n';
  return 'OK "Done."\r\n';
}

const connect = (port: number, extra: Partial<Parameters<typeof ManageSieveClient.connect>[0]> = {}) =>
  ManageSieveClient.connect({ host: '127.0.0.1', port, user: 'admin', authzid: 'alice@example.test', password: PASSWORD, timeoutMs: 2000, ...extra });

async function failure(promise: Promise<unknown>): Promise<ManageSieveError> {
  try {
    await promise;
  } catch (error) {
    if (!isManageSieveError(error)) throw error;
    const shown = JSON.stringify({ message: error.message, hint: error.hint, serverText: error.serverText });
    expect(shown).not.toContain(PASSWORD);
    expect(shown).not.toContain(PASSWORD_B64);
    return error;
  }
  throw new Error('expected a ManageSieveError');
}

describe('ManageSieveClient against a scripted server', () => {
  it('logs in with SASL PLAIN as authzid through the admin, over split packets, and re-reads CAPABILITY', async () => {
    const server = await fakeServer({ dribble: true });
    const client = await connect(server.port);
    const auth = server.received[0]!.line;
    const [, mechanism, payload] = /^AUTHENTICATE "(\w+)" "([^"]+)"$/.exec(auth)!;
    expect(mechanism).toBe('PLAIN');
    expect(Buffer.from(payload!, 'base64').toString('utf8')).toBe(`alice@example.test\0admin\0${PASSWORD}`);
    expect(server.received[1]!.line).toBe('CAPABILITY');
    expect(client.capabilities).toMatchObject({ implementation: 'Fake', sieveExtensions: ['fileinto', 'vacation', 'copy'], maxRedirects: 5, version: '1.0' });
    await client.logout();
    expect(server.received.at(-1)!.line).toBe('LOGOUT');
  });

  it('sends PUTSCRIPT as a literal whose length is the UTF-8 byte count', async () => {
    const server = await fakeServer({});
    const client = await connect(server.port);
    const script = 'require "vacation";\nvacation "订单";\n';
    await client.putScript('订单 "rules"', script);
    const put = server.received.at(-1)!;
    expect(put.line).toBe(`PUTSCRIPT "订单 \\"rules\\"" {${Buffer.byteLength(script)}+}`);
    expect(put.literal!.toString('utf8')).toBe(script);
    await client.logout();
  });

  it('times out a read, and the connection stays failed afterwards', async () => {
    const server = await fakeServer({ handle: ({ line }) => (line.startsWith('GETSCRIPT') ? null : defaultReply({ line, encrypted: false })) });
    const client = await connect(server.port, { timeoutMs: 300 });
    const error = await failure(client.getScript('x'));
    expect(error.kind).toBe('Timeout');
    expect(error.code).toBe('Unavailable');
    expect((await failure(client.listScripts())).kind).toBe('Timeout');
  });

  it('reports a dropped connection as ConnectionClosed', async () => {
    const server = await fakeServer({ handle: ({ line }) => (line === 'LISTSCRIPTS' ? (socket) => socket.destroy() : defaultReply({ line, encrypted: false })) });
    const client = await connect(server.port);
    expect((await failure(client.listScripts())).kind).toBe('ConnectionClosed');
  });

  it('keeps the reason of a BYE the server sends unasked', async () => {
    let session: net.Socket | undefined;
    const server = await fakeServer({
      handle: (command) => (command.line === 'CAPABILITY' ? (socket) => { session = socket; socket.write(`${CAPS}OK "Capability completed."\r\n`); } : defaultReply(command)),
    });
    const client = await connect(server.port);
    session!.end('BYE "Disconnected for inactivity."\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const error = await failure(client.listScripts());
    expect(error.kind).toBe('ConnectionClosed');
    expect(error.message).toContain('Disconnected for inactivity.');
  });

  it.each([
    ['Authentication failed.', 'AuthenticationFailed', 'ProviderError'],
    ['Authorization failed', 'AuthorizationFailed', 'Refused'],
    ['Account_disabled', 'LoginDisabled', 'Refused'],
    ['Login disabled for this user', 'LoginDisabled', 'Refused'],
  ])('maps AUTHENTICATE NO %j to %s, without the password', async (text, kind, code) => {
    const server = await fakeServer({ handle: (command) => (command.line.startsWith('AUTHENTICATE') ? `NO "${text}"\r\n` : defaultReply(command)) });
    const error = await failure(connect(server.port));
    expect(error).toMatchObject({ kind, code, serverText: text });
    expect(error.message).toContain('alice@example.test through admin');
  });

  it('maps NO (TRYLATER) on AUTHENTICATE to TryLater', async () => {
    const server = await fakeServer({ handle: (command) => (command.line.startsWith('AUTHENTICATE') ? 'NO (TRYLATER) "Temporary authentication failure."\r\n' : defaultReply(command)) });
    expect(await failure(connect(server.port))).toMatchObject({ kind: 'TryLater', code: 'Unavailable' });
  });

  it('refuses a greeting BYE, a missing server and a server without PLAIN', async () => {
    const busy = await fakeServer({ greeting: 'BYE "Too many connections"\r\n' });
    expect((await failure(connect(busy.port))).kind).toBe('ConnectionClosed');
    const closed = await fakeServer({});
    await closed.close();
    expect((await failure(connect(closed.port))).kind).toBe('ConnectionFailed');
    const noPlain = await fakeServer({ greeting: `${CAPS}"SASL" "SCRAM-SHA-256"\r\nOK "ready"\r\n` });
    expect((await failure(connect(noPlain.port))).message).toMatch(/does not offer SASL PLAIN/);
  });

  it('refuses script names no server accepts before sending them', async () => {
    const server = await fakeServer({});
    const client = await connect(server.port);
    for (const name of ['', 'a/b', 'two\nlines']) expect((await failure(client.getScript(name))).kind).toBe('InvalidName');
    expect(server.received.map((r) => r.line)).not.toContain('GETSCRIPT ""');
    await client.logout();
  });

  it('parses sieve:// URLs', () => {
    expect(parseSieveUrl('sieve://127.0.0.1:4191')).toEqual({ host: '127.0.0.1', port: 4191 });
    expect(parseSieveUrl('sieve://mail.example.test')).toEqual({ host: 'mail.example.test', port: 4190 });
    expect(parseSieveUrl('sieve://[::1]:4190')).toEqual({ host: '::1', port: 4190 });
  });
});

const hasOpenssl = await promisify(execFile)('openssl', ['version']).then(() => true, () => false);

describe.skipIf(!hasOpenssl)('ManageSieveClient over TLS', () => {
  let dir: string;
  let pair: { key: string; cert: string };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'managesieve-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
    ]);
    pair = { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('speaks implicit TLS and verifies the certificate', async () => {
    const server = await fakeServer({ secure: pair });
    const client = await connect(server.port, { secure: true, tls: { ca: pair.cert } });
    expect(server.received.every((r) => r.encrypted)).toBe(true);
    await client.logout();
    const error = await failure(connect(server.port, { secure: true }));
    expect(error.kind).toBe('ConnectionFailed');
  });

  it('upgrades with STARTTLS when offered, and uses the capabilities sent over TLS', async () => {
    // PLAIN is offered only after TLS, as servers with disable_plaintext_auth do.
    const server = await fakeServer({ starttls: pair, greeting: `${CAPS}"STARTTLS"\r\nOK "ready"\r\n` });
    const client = await connect(server.port, { tls: { ca: pair.cert } });
    expect(server.received.map((r) => [r.line.split(' ')[0], r.encrypted])).toEqual([
      ['STARTTLS', false],
      ['AUTHENTICATE', true],
      ['CAPABILITY', true],
    ]);
    await client.logout();
  });
});
