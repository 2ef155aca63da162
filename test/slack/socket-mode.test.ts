/**
 * Socket Mode end to end: the real Bolt app, started the way main starts it (settings from the
 * environment with SLACK_APP_TOKEN set, createSlackApp, start), its real @slack/socket-mode client
 * on undici's WebSocket, against our Socket Mode server (test/support/socket-mode-server.ts) and the
 * Web API recorder. No HTTP receiver: every request arrives as an envelope on the WebSocket and
 * every ack leaves on it.
 *
 * The second part checks the WebSocket server itself on the cases the real client never produces
 * (fragmented or unmasked client frames) and on 64-bit payload lengths both ways.
 */
import { mkdtemp } from 'node:fs/promises';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { capturedLogger } from '../support/captured-logger.js';
import { composePostmaster, type Postmaster } from '../../src/compose.js';
import { createSlackApp, fatalMessage, type SlackApp } from '../../src/slack/app.js';
import type { Mailbox } from '../../src/core/mailbox.js';
import { ACTION, CALLBACK } from '../../src/slack/ids.js';
import { FakeProvider } from '../support/slack-fake-provider.js';
import { APPROVALS, AUDIT, BOT_TOKEN, fakeProviderEnv, SIGNING_SECRET } from '../support/slack-harness.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';
import { fillView, SlackSender, type SentView } from '../support/slack-sender.js';
import { acceptKey, CLOSE, encodeFrame, FrameReader, OPCODE, SocketModeServer, startSocketModeServer } from '../support/socket-mode-server.js';

const APP_TOKEN = 'xapp-1-A1-1000-socketmodetesttoken';
const ADDRESSES = ['alice@example.test', 'bob@example.test', 'carol@example.test'];

/** Remembers when the mail server answered a lookup, in the same timeline as acks and Web API calls. */
class TimedProvider extends FakeProvider {
  onAnswer: (() => void) | undefined;

  override async getMailbox(address: string): Promise<Mailbox | undefined> {
    const mailbox = await super.getMailbox(address);
    this.onAnswer?.();
    return mailbox;
  }
}

interface SocketModeRig {
  api: SlackApi;
  server: SocketModeServer;
  postmaster: Postmaster;
  slack: SlackApp;
  provider: TimedProvider;
  /** What start() resolved with: a port in HTTP mode, nothing in Socket Mode. */
  started: { port: number } | undefined;
  /** Acks, Web API calls and the mail server's answers, in the order they happened. */
  timeline: string[];
  logLines: string[];
  /** A slash command as Slack puts it in a slash_commands envelope (the HTTP form fields, as JSON). */
  command(user: string, text: string): { payload: Record<string, string>; triggerId: string };
  /** Sends /offboard over the socket and waits until the modal shows the mailbox. */
  openForm(user: string, text: string): Promise<SentView>;
  close(): Promise<void>;
}

async function startInSocketMode(provider = new TimedProvider(ADDRESSES)): Promise<SocketModeRig> {
  const api = await startSlackApi(BOT_TOKEN);
  const server = await startSocketModeServer(api, APP_TOKEN);
  const { logger, lines: logLines } = capturedLogger();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-socket-mode-'));
  // As main reads them from the environment: an app token is what switches Socket Mode on.
  const config = loadConfig({
    ...fakeProviderEnv(dir),
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: api.url,
    APPROVALS_CHANNEL: APPROVALS,
    AUDIT_CHANNEL: AUDIT,
  });
  const postmaster = await composePostmaster(config, logger, { provider });
  const slack = createSlackApp({ postmaster, slack: config.slack!, logger });
  const started = await slack.start();

  const timeline: string[] = [];
  server.on('ack', (ack) => timeline.push(`ack ${ack.envelope_id}`));
  api.onCall = (call) => timeline.push(call.method);
  provider.onAnswer = () => timeline.push('mail server answered');

  // Only for the payload shapes: nothing is posted over HTTP.
  const shapes = new SlackSender('http://127.0.0.1:9/not-used', SIGNING_SECRET, (n) => api.responseUrl(n));
  const command = (user: string, text: string) => {
    const { body, triggerId } = shapes.commandBody(user, text);
    return { payload: Object.fromEntries(new URLSearchParams(body)), triggerId };
  };

  return {
    api,
    server,
    postmaster,
    slack,
    provider,
    started,
    timeline,
    logLines,
    command,
    async openForm(user, text) {
      const { payload, triggerId } = command(user, text);
      await server.deliver('slash_commands', payload, { acceptsResponsePayload: true }).acked;
      const opened = await api.waitForCall('views.open', (a) => a.trigger_id === triggerId);
      const viewId = String(opened.response!.view.id);
      await api.waitForCall('views.update', (a) => a.view_id === viewId);
      const stored = api.views.get(viewId)!;
      return { id: viewId, hash: stored.hash, view: stored.view };
    },
    async close() {
      await slack.stop();
      await slack.idle();
      await Promise.all(server.connections.map((c) => c.closed));
      await server.close();
      await api.close();
      await postmaster.close();
    },
  };
}

/** The view_submission payload Slack sends when a person submits the modal. */
function viewSubmission(user: string, view: SentView, values: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: 'T1', domain: 'test' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T1' },
    api_app_id: 'A1',
    token: 'verification-token-unused',
    trigger_id: `${Date.now()}.4.trigger`,
    view: { ...view.view, id: view.id, hash: view.hash, team_id: 'T1', app_id: 'A1', bot_id: 'BBOT', root_view_id: view.id, previous_view_id: null, state: { values: fillView(view.view, values) } },
    response_urls: [],
  };
}

/** The block_actions payload of a click on Approve in the approvals channel. */
function approveClick(user: string, requestId: string, messageTs: string): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T1' },
    api_app_id: 'A1',
    token: 'verification-token-unused',
    team: { id: 'T1', domain: 'test' },
    trigger_id: `${Date.now()}.2.trigger`,
    container: { type: 'message', message_ts: messageTs, channel_id: APPROVALS, is_ephemeral: false },
    channel: { id: APPROVALS, name: 'approvals' },
    message: { type: 'message', ts: messageTs, text: '' },
    actions: [{ type: 'button', action_id: ACTION.approve, block_id: 'b', value: requestId, text: { type: 'plain_text', text: 'Approve' }, action_ts: `${Date.now() / 1000}` }],
  };
}

describe('Socket Mode, end to end', () => {
  let rig: SocketModeRig | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
    expect(unhandled).toEqual([]);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('connects as main starts it: apps.connections.open with the app token, then hello, and no HTTP port', async () => {
    rig = await startInSocketMode();
    // start() resolves only once the client has read hello: without it this test times out.
    expect(rig.started).toBeUndefined();
    expect(rig.api.callsTo('auth.test').map((c) => [c.token, c.result])).toEqual([[BOT_TOKEN, 'ok']]);
    const opens = rig.api.callsTo('apps.connections.open');
    expect(opens.map((c) => [c.token, c.result])).toEqual([[APP_TOKEN, 'ok']]);
    const connection = rig.server.current!;
    expect(rig.server.connections).toHaveLength(1);
    expect(opens[0]!.response!.url).toBe(connection.url);
    expect(connection.state).toBe('open');

    // The heartbeat both ways: our ping gets the client's pong, the client's ping gets ours.
    await connection.ping('are you there?');
    const [clientPing] = await once(connection, 'ping');
    expect(String(clientPing)).toMatch(/^Ping from client/);
    expect(connection.protocolErrors).toEqual([]);
    expect(connection.unexpected).toEqual([]);
  });

  it('acks /offboard alice on the socket before the slow mail server answers, and opens the modal', async () => {
    const provider = new TimedProvider(ADDRESSES);
    provider.delays.getMailbox = 2000;
    rig = await startInSocketMode(provider);
    const { payload, triggerId } = rig.command('U1', 'alice');

    const { envelopeId, acked } = rig.server.deliver('slash_commands', payload, { acceptsResponsePayload: true });
    const ack = await acked;
    expect(ack.envelope_id).toBe(envelopeId);
    const updated = await rig.api.waitForCall('views.update', () => true, 1, 10_000);

    expect(rig.timeline).toEqual([`ack ${envelopeId}`, 'views.open', 'mail server answered', 'views.update']);
    const opened = rig.api.callsTo('views.open')[0]!;
    expect(opened).toMatchObject({ token: BOT_TOKEN, result: 'ok' });
    expect(opened.args.trigger_id).toBe(triggerId);
    expect(JSON.stringify(opened.args.view)).toContain('Looking up');
    expect(updated.args.view.callback_id).toBe(CALLBACK.offboard);
    expect(JSON.stringify(updated.args.view.blocks[0])).toContain('alice@example.test');
  });

  it('answers a view_submission with response_action errors in the ack payload, and nothing is stored', async () => {
    rig = await startInSocketMode();
    const view = await rig.openForm('U1', 'alice');

    const submitted = rig.server.deliver('interactive', viewSubmission('U1', view, { targets: 'bob@example.test\nnot@an@address' }), { acceptsResponsePayload: true });
    const ack = await submitted.acked;

    expect(ack.envelope_id).toBe(submitted.envelopeId);
    expect(ack.payload?.response_action).toBe('errors');
    expect(Object.keys(ack.payload?.errors ?? {})).toEqual(['targets']);
    expect(ack.payload?.errors.targets).toMatch(/is not an email address/);
    expect(await rig.postmaster.offboarding.list()).toEqual([]);
    expect(rig.api.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('answers a valid view_submission with the submitted view in the ack, and posts the request for approval', async () => {
    rig = await startInSocketMode();
    const view = await rig.openForm('U1', 'alice');

    const submitted = rig.server.deliver('interactive', viewSubmission('U1', view, { successor: 'bob@example.test', targets: 'bob@example.test', reason: 'Left' }), { acceptsResponsePayload: true });
    const ack = await submitted.acked;

    const [request] = await rig.postmaster.offboarding.list();
    expect(request).toMatchObject({ mailbox: 'alice@example.test', state: 'pending_approval', requestedBy: 'U1' });
    expect(ack.payload?.response_action).toBe('update');
    expect(JSON.stringify(ack.payload?.view)).toContain(request!.id);
    await rig.api.waitForCall('chat.postMessage', (a) => a.channel === APPROVALS);
  });

  it('acks a block_actions Approve by someone who may not approve, tells them only, and changes nothing', async () => {
    rig = await startInSocketMode();
    const request = await rig.postmaster.offboarding.request('U1', { mailbox: 'alice', reason: 'left' });

    const click = rig.server.deliver('interactive', approveClick('U1', request.id, '1700000000.000100'));
    const ack = await click.acked;

    expect(ack).toEqual({ envelope_id: click.envelopeId, payload: {} });
    const refusal = await rig.api.waitForCall('chat.postEphemeral');
    expect(refusal.args).toMatchObject({ channel: APPROVALS, user: 'U1' });
    expect(refusal.args.text).toMatch(/Not approved/);
    expect((await rig.postmaster.offboarding.get(request.id)).state).toBe('pending_approval');
  });

  it('reconnects when Slack sends disconnect (refresh_requested), and the next command still works', async () => {
    rig = await startInSocketMode();
    const first = rig.server.current!;

    rig.server.askToReconnect('refresh_requested');
    await first.closed;
    // The client closed the old connection itself, with a proper close handshake.
    expect(first).toMatchObject({ closedBy: 'client', peerCloseCode: CLOSE.normal, protocolErrors: [] });
    // @slack/socket-mode 3.1 waits its clientPingTimeout (5 s) before opening the new connection.
    const second = await rig.server.connection(2);
    expect(rig.api.callsTo('apps.connections.open').map((c) => [c.token, c.result])).toEqual([
      [APP_TOKEN, 'ok'],
      [APP_TOKEN, 'ok'],
    ]);
    expect(second.url).not.toBe(first.url);

    const { payload, triggerId } = rig.command('U1', 'alice');
    const { envelopeId, acked } = rig.server.deliver('slash_commands', payload, { acceptsResponsePayload: true });
    expect((await acked).envelope_id).toBe(envelopeId);
    expect(second.acks.map((a) => a.envelope_id)).toEqual([envelopeId]);
    await rig.api.waitForCall('views.open', (a) => a.trigger_id === triggerId);
  }, 30_000);

  it('a token refused while reconnecting surfaces as a rejection main turns into one clear line', async () => {
    rig = await startInSocketMode();
    // The app token is revoked or rotated while connected; the next apps.connections.open fails.
    const server = rig.server;
    rig.api.serveSocketMode('xapp-1-rotated', () => server.openConnectionUrl());
    server.askToReconnect('refresh_requested');
    // @slack/socket-mode 3.1 does not catch this itself: it reaches process 'unhandledRejection', where main stops with exit 1.
    await vi.waitFor(() => expect(unhandled).toHaveLength(1), { timeout: 20_000, interval: 100 });
    expect(fatalMessage(unhandled[0])).toMatch(/^Slack refused SLACK_APP_TOKEN \(invalid_auth\): .* \(while reconnecting to Slack\)$/);
    expect(fatalMessage(new Error('boom'))).toBe('unexpected error: boom');
    unhandled.length = 0;
  }, 30_000);

  it('stops cleanly: the socket is closed by a close handshake, with no unhandled rejection', async () => {
    rig = await startInSocketMode();
    const connection = rig.server.current!;

    await rig.slack.stop();
    await connection.closed;

    expect(connection).toMatchObject({ state: 'closed', closedBy: 'client', peerCloseCode: CLOSE.normal, protocolErrors: [] });
    expect(unhandled).toEqual([]);
    expect(rig.logLines.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});

describe('the test WebSocket server', () => {
  let api: SlackApi;
  let server: SocketModeServer;

  beforeAll(async () => {
    api = await startSlackApi(BOT_TOKEN);
    server = await startSocketModeServer(api, APP_TOKEN);
  });
  afterAll(async () => {
    await server.close();
    await api.close();
  });

  it('computes Sec-WebSocket-Accept as RFC 6455 section 1.3 shows', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('answers apps.connections.open only for the app token, with a URL that opens one connection', async () => {
    const open = (token: string) => fetch(`${api.url}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<any>);
    expect(await open('xapp-1-someone-else')).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await open(BOT_TOKEN)).toEqual({ ok: false, error: 'not_allowed_token_type' });
    const { ok, url } = await open(APP_TOKEN);
    expect(ok).toBe(true);

    const client = await RawClient.connect(url);
    expect(client.handshake).toContain(`Sec-WebSocket-Accept: ${acceptKey(client.key)}`);
    expect(JSON.parse(await client.nextText())).toMatchObject({ type: 'hello', connection_info: { app_id: 'A1' } });
    // A ticket is good once.
    const again = await RawClient.connect(url).catch((error: Error) => error.message);
    expect(again).toMatch(/^HTTP\/1.1 401/);
    client.socket.destroy();
  });

  it('puts a fragmented client message back together, answering a ping sent between the fragments', async () => {
    const client = await RawClient.connect(server.openConnectionUrl());
    await client.nextText(); // hello
    const connection = server.current!;
    const { envelopeId, acked } = server.deliver('events_api', { type: 'event_callback', event: { type: 'app_home_opened' } });
    const answer = Buffer.from(JSON.stringify({ envelope_id: envelopeId }));

    client.send(OPCODE.text, answer.subarray(0, 10), { fin: false });
    client.send(OPCODE.ping, Buffer.from('between fragments'));
    client.send(OPCODE.continuation, answer.subarray(10, 20), { fin: false });
    client.send(OPCODE.continuation, answer.subarray(20));

    expect(await client.nextFrame()).toMatchObject({ opcode: OPCODE.text }); // the envelope
    expect(await client.nextFrame()).toMatchObject({ opcode: OPCODE.pong, masked: false, payload: Buffer.from('between fragments') });
    await waitUntil(() => connection.acks.length + connection.unexpected.length + connection.protocolErrors.length > 0);
    expect(connection.unexpected).toEqual([]);
    expect(connection.protocolErrors).toEqual([]);
    expect(await acked).toEqual({ envelope_id: envelopeId });
    client.socket.destroy();
  });

  it('fails the connection with 1002 on an unmasked client frame', async () => {
    const client = await RawClient.connect(server.openConnectionUrl());
    await client.nextText(); // hello
    const connection = server.current!;
    client.socket.write(encodeFrame(OPCODE.text, Buffer.from('{"envelope_id":"x"}')));

    const close = await client.nextFrame();
    expect(close.opcode).toBe(OPCODE.close);
    expect(close.payload.readUInt16BE(0)).toBe(CLOSE.protocolError);
    await connection.closed;
    expect(connection.protocolErrors).toEqual(['client frames must be masked (RFC 6455 section 5.1)']);
    expect(connection.acks).toEqual([]);
  });

  it('carries messages over 64 KiB (64-bit lengths) both ways, fragmented or not, with the WebSocket Slack uses', async () => {
    const url = server.openConnectionUrl();
    const socket = new WebSocket(url);
    const received: string[] = [];
    socket.addEventListener('message', (event) => received.push(String(event.data)));
    let clientClosed = false;
    socket.addEventListener('close', () => (clientClosed = true));
    await once(socket, 'open');
    await waitUntil(() => received.length === 1 || clientClosed); // hello
    const connection = server.current!;
    const big = 'x'.repeat(70_000);

    const event = { type: 'event_callback', event: { type: 'app_home_opened', padding: big } };
    const whole = server.deliver('events_api', event); // one frame, 64-bit length
    const fragmented = server.deliver('events_api', event, { fragments: 3 }); // three frames, 16-bit lengths
    // undici closes the connection on a frame it cannot read: then the comparison below shows what arrived.
    await waitUntil(() => received.length === 3 || clientClosed);
    expect(received.slice(1).map((text) => JSON.parse(text))).toMatchObject([
      { envelope_id: whole.envelopeId, payload: event },
      { envelope_id: fragmented.envelopeId, payload: event },
    ]);

    socket.send(JSON.stringify({ envelope_id: whole.envelopeId, payload: { echoed: big } }));
    await waitUntil(() => connection.acks.length > 0 || connection.state !== 'open');
    expect(connection.acks.map((ack) => ack.payload?.echoed)).toEqual([big]);

    socket.close(1000);
    await connection.closed;
    expect(connection).toMatchObject({ closedBy: 'client', peerCloseCode: 1000, protocolErrors: [] });
  });
});

/** Resolves once `condition` holds, checking after each turn of the event loop. */
async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

/** A hand-written WebSocket client over TCP, for frames undici never sends (fragments, no mask). */
class RawClient {
  readonly key = Buffer.from('0123456789abcdef').toString('base64');
  handshake = '';
  private readonly reader = new FrameReader();
  private readonly frames: ReturnType<FrameReader['push']> = [];
  private waiting: (() => void) | undefined;

  private constructor(readonly socket: Socket) {}

  /** Opens the socket and sends the Upgrade request; rejects with the status line if it is refused. */
  static async connect(url: string): Promise<RawClient> {
    const { hostname, port, pathname, search } = new URL(url);
    const client = new RawClient(connect(Number(port), hostname));
    await once(client.socket, 'connect');
    client.socket.write(
      [`GET ${pathname}${search} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${client.key}`, 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'),
    );
    await client.readHandshake();
    return client;
  }

  send(opcode: number, payload: Buffer, options: { fin?: boolean } = {}): void {
    this.socket.write(encodeFrame(opcode, payload, { ...options, mask: Buffer.from([0x12, 0x34, 0x56, 0x78]) }));
  }

  async nextFrame(): Promise<ReturnType<FrameReader['push']>[number]> {
    while (!this.frames.length) await new Promise<void>((resolve) => (this.waiting = resolve));
    return this.frames.shift()!;
  }

  async nextText(): Promise<string> {
    const frame = await this.nextFrame();
    if (frame.opcode !== OPCODE.text) throw new Error(`expected a text frame, got opcode ${frame.opcode}`);
    return frame.payload.toString('utf8');
  }

  private async readHandshake(): Promise<void> {
    let buffered = Buffer.alloc(0);
    for (;;) {
      const [chunk] = (await once(this.socket, 'data')) as [Buffer];
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) continue;
      this.handshake = buffered.subarray(0, end).toString('latin1');
      if (!this.handshake.startsWith('HTTP/1.1 101')) throw new Error(this.handshake.split('\r\n')[0]);
      this.socket.on('data', (data: Buffer) => this.take(data));
      this.take(buffered.subarray(end + 4));
      return;
    }
  }

  private take(data: Buffer): void {
    this.frames.push(...this.reader.push(data));
    this.waiting?.();
  }
}
