/**
 * The bulk FETCH over imapflow's borrowed connection and over a direct connection of our own,
 * against a scripted IMAP server that sends what Dovecot never does in the integration tests:
 * responses split into tiny TCP writes, untagged responses among the FETCH rows, NO, BYE, garbage.
 */
import net from 'node:net';
import { ImapFlow } from 'imapflow';
import { afterEach, describe, expect, it } from 'vitest';
import { ImapProtocolError } from '../../src/providers/shared/fetch-response-reader.js';
import { DirectImapConnection } from '../../src/providers/shared/imap-direct-connection.js';
import { fetchMessages } from '../../src/providers/shared/imap-fetch.js';

interface Session {
  /** Every command line the client sent (literals inlined), credentials included. */
  received: string[];
  socket: net.Socket;
}

type FetchScript = (tag: string, session: Session) => Promise<void> | void;

interface FakeOptions {
  capabilities?: string;
  exists?: number;
  uidNext?: number;
  onFetch?: FetchScript;
  refuseLogin?: boolean;
  /** Untagged lines sent before the next NOOP completes. */
  noopUntagged?: string[];
}

/** Writes `data` in pieces of `size` bytes, each its own TCP write a tick apart. */
async function trickle(socket: net.Socket, data: Buffer | string, size = 3): Promise<void> {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  for (let at = 0; at < bytes.length; at += size) {
    socket.write(bytes.subarray(at, at + size));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function fetchRow(seq: number, body: string): string {
  return `* ${seq} FETCH (UID ${seq} INTERNALDATE "0${seq}-Mar-2024 08:00:00 +0000" BODY[] {${Buffer.byteLength(body, 'latin1')}}\r\n${body})\r\n`;
}

const BODIES = ['Subject: a\r\n\r\nfirst\r\n', 'Subject: b\r\n\r\n) * 9 EXISTS {3}\r\n', 'Subject: c\r\n\r\nthird, no final line break'];

const servers: net.Server[] = [];
const clients: ImapFlow[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function fakeServer(options: FakeOptions = {}): Promise<{ port: number; sessions: Session[] }> {
  const sessions: Session[] = [];
  const capabilities = options.capabilities ?? 'IMAP4rev1 AUTH=PLAIN';
  const server = net.createServer((socket) => {
    const session: Session = { received: [], socket };
    sessions.push(session);
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    let line = '';
    let literal = 0;
    let authTag: string | undefined;
    const handle = async (command: string) => {
      session.received.push(command);
      if (authTag !== undefined) {
        const tag = authTag;
        authTag = undefined;
        socket.write(options.refuseLogin ? `${tag} NO [AUTHENTICATIONFAILED] nope\r\n` : `${tag} OK [CAPABILITY ${capabilities}] in\r\n`);
        return;
      }
      const [tag = '', verb = '', ...rest] = command.split(' ');
      switch (verb.toUpperCase()) {
        case 'AUTHENTICATE':
          authTag = tag;
          socket.write('+ \r\n');
          return;
        case 'LOGIN':
          socket.write(options.refuseLogin ? `${tag} NO nope\r\n` : `${tag} OK in\r\n`);
          return;
        case 'CAPABILITY':
          socket.write(`* CAPABILITY ${capabilities}\r\n${tag} OK done\r\n`);
          return;
        case 'EXAMINE':
        case 'SELECT':
          socket.write(`* ${options.exists ?? 3} EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT ${options.uidNext ?? 4}] ok\r\n${tag} OK [READ-ONLY] done\r\n`);
          return;
        case 'UID':
        case 'FETCH':
          await options.onFetch?.(tag, session);
          return;
        case 'NOOP':
          socket.write(`${(options.noopUntagged ?? []).map((l) => `${l}\r\n`).join('')}${tag} OK done\r\n`);
          return;
        case 'LOGOUT':
          socket.end(`* BYE bye\r\n${tag} OK done\r\n`);
          return;
        default:
          void rest;
          socket.write(`${tag} OK done\r\n`);
      }
    };
    // Lines, with client literals ({n}) answered by a continuation and inlined.
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (literal > 0) {
          if (pending.length < literal) return;
          line += pending.subarray(0, literal).toString('utf8');
          pending = pending.subarray(literal);
          literal = 0;
          continue;
        }
        const lf = pending.indexOf('\n');
        if (lf < 0) return;
        const text = pending.subarray(0, lf).toString('latin1').replace(/\r$/, '');
        pending = pending.subarray(lf + 1);
        const marker = /\{(\d+)\}$/.exec(text);
        if (marker) {
          line += text.slice(0, marker.index);
          literal = Number(marker[1]);
          socket.write('+ go ahead\r\n');
          continue;
        }
        const command = line + text;
        line = '';
        void handle(command);
      }
    });
    socket.write(`* OK [CAPABILITY ${capabilities}] fake ready\r\n`);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, sessions };
}

async function imapflowOn(port: number): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user: 'admin', pass: 'secret', authzid: 'alice@x.test', loginMethod: 'AUTH=PLAIN' },
    logger: false,
    disableAutoIdle: true,
    disableAutoEnable: true,
  });
  client.on('error', () => undefined);
  clients.push(client);
  await client.connect();
  await client.mailboxOpen('INBOX', { readOnly: true });
  return client;
}

function collector(wait?: () => Promise<void>) {
  const seen: { body: string; date: string }[] = [];
  const sink = (source: Buffer, date: Date) => {
    seen.push({ body: source.toString('latin1'), date: date.toISOString() });
    return wait?.();
  };
  return { seen, sink };
}

const EXPECTED = BODIES.map((body, i) => ({ body, date: `2024-03-0${i + 1}T08:00:00.000Z` }));

describe('FETCH over imapflow’s borrowed connection', () => {
  it('reads trickled rows, passes interleaved EXISTS on to imapflow and hands the connection back', async () => {
    const { port } = await fakeServer({
      onFetch: async (tag, { socket }) => {
        const rows = BODIES.map((b, i) => fetchRow(i + 1, b));
        await trickle(socket, `${rows[0]}* 4 EXISTS\r\n* 1 RECENT\r\n${rows[1]}* OK [ALERT] still here\r\n${rows[2]}${tag} OK Fetch completed.\r\n`);
      },
    });
    const client = await imapflowOn(port);
    const { seen, sink } = collector();
    expect(await fetchMessages(client, '1:3', true, sink)).toBe('borrowed');
    expect(seen).toEqual(EXPECTED);
    // imapflow got the EXISTS it did not see during the FETCH, and its connection is in step.
    await client.noop();
    expect(client.mailbox && client.mailbox.exists).toBe(4);
  });

  it('waits for a sink that asks it to, in order', async () => {
    const { port } = await fakeServer({
      onFetch: (tag, { socket }) => {
        socket.write(`${BODIES.map((b, i) => fetchRow(i + 1, b)).join('')}${tag} OK done\r\n`);
      },
    });
    const client = await imapflowOn(port);
    const { seen, sink } = collector(() => new Promise((resolve) => setTimeout(resolve, 10)));
    await fetchMessages(client, '1:3', true, sink);
    expect(seen).toEqual(EXPECTED);
    await client.noop();
  });

  it('reports a tagged NO with the server text and keeps the connection usable', async () => {
    const { port } = await fakeServer({
      onFetch: (tag, { socket }) => {
        socket.write(`${fetchRow(1, BODIES[0]!)}${tag} NO [SERVERBUG] Internal error occurred\r\n`);
      },
    });
    const client = await imapflowOn(port);
    const error = await fetchMessages(client, '1:3', true, collector().sink).catch((e: unknown) => e);
    expect(error).toMatchObject({ responseStatus: 'NO', responseText: expect.stringContaining('Internal error occurred') });
    await client.noop();
  });

  it('reports a BYE and a closed connection as a connection failure', async () => {
    const { port } = await fakeServer({
      onFetch: (_tag, { socket }) => {
        socket.end(`${fetchRow(1, BODIES[0]!)}* BYE Server shutting down.\r\n`);
      },
    });
    const client = await imapflowOn(port);
    const { seen, sink } = collector();
    const error = await fetchMessages(client, '1:3', true, sink).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EConnectionClosed', message: expect.stringContaining('Server shutting down.') });
    expect(seen).toHaveLength(1);
  });

  it('fails on a response it cannot read and closes the connection', async () => {
    const { port } = await fakeServer({
      onFetch: (_tag, { socket }) => {
        socket.write('* 1 FETCH (UID 1 BODY[] GARBAGE)\r\n');
      },
    });
    const client = await imapflowOn(port);
    await expect(fetchMessages(client, '1:3', true, collector().sink)).rejects.toBeInstanceOf(ImapProtocolError);
    expect(client.usable).toBe(false);
  });
});

describe('DirectImapConnection', () => {
  const login = { host: '127.0.0.1', user: 'admin', password: 'secret', authzid: 'alice@x.test' };

  it('logs in with SASL PLAIN and the authzid, takes the snapshot and reads trickled rows', async () => {
    const { port, sessions } = await fakeServer({
      exists: 3,
      uidNext: 12,
      onFetch: async (tag, { socket }) => {
        const rows = BODIES.map((b, i) => fetchRow(i + 1, b));
        await trickle(socket, `${rows[0]}* 4 EXISTS\r\n${rows[1]}${rows[2]}${tag} OK done\r\n`, 2);
      },
    });
    const direct = await DirectImapConnection.open({ ...login, port });
    try {
      expect(await direct.examine('INBOX')).toEqual({ exists: 3, uidNext: 12 });
      const { seen, sink } = collector(() => new Promise((resolve) => setImmediate(resolve)));
      await direct.fetch('1:11', true, sink);
      expect(seen).toEqual(EXPECTED);
    } finally {
      await direct.logout();
    }
    const received = sessions[0]!.received;
    expect(received[0]).toMatch(/^D\d+ AUTHENTICATE PLAIN$/);
    expect(Buffer.from(received[1]!, 'base64').toString()).toBe('alice@x.test\0admin\0secret');
    expect(received).toContainEqual(expect.stringMatching(/^D\d+ EXAMINE "INBOX"$/));
    expect(received).toContainEqual(expect.stringMatching(/^D\d+ UID FETCH 1:11 \(UID INTERNALDATE BODY\.PEEK\[\]\)$/));
  });

  it('uses LOGIN without AUTH=PLAIN, and literals for what cannot be quoted', async () => {
    const { port, sessions } = await fakeServer({ capabilities: 'IMAP4rev1' });
    const direct = await DirectImapConnection.open({ host: '127.0.0.1', port, user: 'ad"min', password: 'sécret' });
    await direct.examine('Übersicht');
    await direct.logout();
    const received = sessions[0]!.received;
    expect(received[0]).toMatch(/^D\d+ LOGIN "ad\\"min" sécret$/);
    expect(received[1]).toMatch(/^D\d+ EXAMINE Übersicht$/);
  });

  it('sends no credentials to a server that offers STARTTLS, nor before login() is called', async () => {
    const { port, sessions } = await fakeServer({ capabilities: 'IMAP4rev1 STARTTLS AUTH=PLAIN' });
    await expect(DirectImapConnection.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ETLSRequired' });
    expect(sessions[0]!.received).toEqual([]);
  });

  it('rejects a refused login', async () => {
    const { port } = await fakeServer({ refuseLogin: true });
    await expect(DirectImapConnection.open({ ...login, port })).rejects.toMatchObject({ responseStatus: 'NO' });
  });

  it('fails the FETCH when the connection closes mid-transfer, with the BYE text', async () => {
    const { port } = await fakeServer({
      onFetch: (_tag, { socket }) => {
        socket.end(`${fetchRow(1, BODIES[0]!)}* BYE going away\r\n`);
      },
    });
    const direct = await DirectImapConnection.open({ ...login, port });
    await direct.examine('INBOX');
    await expect(direct.fetch('1:3', true, collector().sink)).rejects.toMatchObject({ code: 'EConnectionClosed', message: expect.stringContaining('going away') });
  });

  it('passes a sink failure on and closes', async () => {
    const { port } = await fakeServer({
      onFetch: (tag, { socket }) => {
        socket.write(`${BODIES.map((b, i) => fetchRow(i + 1, b)).join('')}${tag} OK done\r\n`);
      },
    });
    const direct = await DirectImapConnection.open({ ...login, port });
    await direct.examine('INBOX');
    const failure = new Error('disk full');
    await expect(direct.fetch('1:3', true, () => Promise.reject(failure))).rejects.toBe(failure);
    await expect(direct.examine('INBOX')).rejects.toBeDefined();
  });
});
