/**
 * A local stand-in for Slack's Web API (https://docs.slack.dev/reference/methods) on 127.0.0.1:
 * it records every call the app makes and answers with the documented response shapes, so tests
 * drive the real Bolt app and its real WebClient end to end. The app reaches it through
 * `clientOptions.slackApiUrl` (SLACK_API_URL).
 *
 * What it holds to, as Slack does:
 * - a bearer token must match, otherwise `{ ok: false, error: 'invalid_auth' }`;
 * - apps.connections.open (Socket Mode) takes only the app-level token given to `serveSocketMode`
 *   and answers that server's WebSocket URL; the bot token gets `not_allowed_token_type` there, and
 *   the app token gets it everywhere else;
 * - form-urlencoded bodies with nested objects as JSON inside a field (what @slack/web-api sends);
 * - views.update needs a known view_id, and a hash, when given, must be the view's current one
 *   (`hash_conflict`); chat.update needs a message that exists (`message_not_found`);
 * - more than 50 blocks in a message or 100 in a view, or a modal title over 24 characters, is
 *   refused (`invalid_blocks` / `invalid_arguments`);
 * - a 429 with Retry-After can be injected for a method.
 * It also serves response_url endpoints (`/response/<n>`) and records what is posted there, and
 * the files.uploadV2 flow as @slack/web-api runs it: files.getUploadURLExternal (filename, length)
 * answers an upload_url on this server (`/upload/<file id>`), the client POSTs the bytes there as
 * multipart form data (field `body`), then files.completeUploadExternal (files: [{ id, title }],
 * channel_id) shares them. `uploads` holds each file with its bytes and where it was shared.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  args: Record<string, any>;
  at: number;
  /** What we answered: ok, or the error code (or 'ratelimited'). */
  result: string;
  /** The bearer token the call came with. */
  token?: string;
  response?: Record<string, any>;
}

export interface ResponseUrlPost {
  id: string;
  body: Record<string, any>;
  at: number;
}

export interface UploadedFile {
  id: string;
  filename: string;
  /** What files.getUploadURLExternal was told the length would be. */
  length: number;
  /** The bytes POSTed to the upload_url, as UTF-8; undefined until they arrive. */
  content?: string;
  title?: string;
  /** Set by files.completeUploadExternal. */
  channel?: string;
  threadTs?: string;
  completed: boolean;
}

export interface SlackUser {
  id: string;
  name: string;
  email?: string;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: any[];
  thread_ts?: string;
  updates: number;
}

const JSON_FIELDS = new Set(['blocks', 'view', 'attachments', 'metadata', 'files']);

export class SlackApi {
  readonly calls: RecordedCall[] = [];
  readonly responsePosts: ResponseUrlPost[] = [];
  readonly messages = new Map<string, StoredMessage>();
  readonly views = new Map<string, { view: any; hash: string; user?: string }>();
  readonly users = new Map<string, SlackUser>();
  readonly uploads = new Map<string, UploadedFile>();
  private readonly rateLimits = new Map<string, { retryAfter: number; times: number }>();
  private readonly failures = new Map<string, { error: string; times: number }>();
  private readonly waiters = new Set<() => void>();
  private server!: Server;
  private socketMode: { appToken: string; openUrl: () => string } | undefined;
  private seq = 0;
  private tsCounter = 1_700_000_000_000_100;
  origin = '';
  /** Told of every call as it is recorded, so a test can put calls in order with other events. */
  onCall: ((call: RecordedCall) => void) | undefined;

  constructor(readonly token: string) {}

  /** Base URL for the WebClient's slackApiUrl. */
  get url(): string {
    return `${this.origin}/api/`;
  }

  responseUrl(id: string | number): string {
    return `${this.origin}/response/${id}`;
  }

  addUser(user: SlackUser): void {
    this.users.set(user.id, user);
  }

  /** apps.connections.open with `appToken` answers `{ ok: true, url: openUrl() }` (see socket-mode-server.ts). */
  serveSocketMode(appToken: string, openUrl: () => string): void {
    this.socketMode = { appToken, openUrl };
  }

  /** The next `times` calls to `method` get HTTP 429 with Retry-After. */
  rateLimit(method: string, retryAfterSeconds: number, times = 1): void {
    this.rateLimits.set(method, { retryAfter: retryAfterSeconds, times });
  }

  /** The next `times` calls to `method` answer `{ ok: false, error }`. */
  fail(method: string, error: string, times = 1): void {
    this.failures.set(method, { error, times });
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Waits until `predicate` holds over the recorded calls; returns the calls that match `filter` then. */
  async waitFor<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; calls so far: ${this.calls.map((c) => `${c.method}:${c.result}`).join(', ')}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, 50);
        this.waiters.add(done);
      });
    }
  }

  /** Waits for the n-th (1-based) successful call to `method` that matches `match`. */
  async waitForCall(method: string, match: (args: Record<string, any>) => boolean = () => true, n = 1, timeoutMs = 15_000): Promise<RecordedCall> {
    return this.waitFor(() => this.calls.filter((c) => c.method === method && c.result === 'ok' && match(c.args))[n - 1], `${method} #${n}`, timeoutMs);
  }

  /** Messages (as they are now, updates applied) in a channel, optionally in one thread. */
  messagesIn(channel: string, threadTs?: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && (threadTs === undefined ? !m.thread_ts : m.thread_ts === threadTs));
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', this.origin).pathname;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };

    if (path.startsWith('/response/')) {
      this.responsePosts.push({ id: path.slice('/response/'.length), body: JSON.parse(raw || '{}'), at: Date.now() });
      send(200, { ok: true });
      this.notify();
      return;
    }
    if (path.startsWith('/upload/')) {
      const upload = this.uploads.get(path.slice('/upload/'.length));
      if (!upload) return send(404, { ok: false, error: 'unknown_upload' });
      const form = await new Request(this.origin, { method: 'POST', headers: { 'content-type': String(req.headers['content-type'] ?? '') }, body: Buffer.concat(chunks) }).formData();
      const file = form.get('body');
      upload.content = typeof file === 'string' ? file : file ? await file.text() : raw;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${Buffer.byteLength(upload.content)}`);
      this.notify();
      return;
    }
    if (!path.startsWith('/api/')) return send(404, { ok: false, error: 'unknown_path' });

    const method = path.slice('/api/'.length);
    const args = parseBody(raw, String(req.headers['content-type'] ?? ''));
    const auth = req.headers.authorization ?? (args.token ? `Bearer ${args.token}` : undefined);
    const token = auth?.replace(/^Bearer /, '');
    const record = (result: string, response?: Record<string, any>) => {
      const call: RecordedCall = { method, args, at: Date.now(), result, response, token };
      this.calls.push(call);
      this.onCall?.(call);
      this.notify();
    };

    const refused = this.tokenProblem(method, token);
    if (refused) {
      record(refused);
      return send(200, { ok: false, error: refused });
    }
    const limit = this.rateLimits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      record('ratelimited');
      return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfter) });
    }
    const failure = this.failures.get(method);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      record(failure.error);
      return send(200, { ok: false, error: failure.error });
    }

    const answer = this.answer(method, args);
    record(answer.ok ? 'ok' : String(answer.error), answer);
    send(200, answer);
  }

  /** Slack's answer to a token that is unknown, or of the wrong kind for the method. */
  private tokenProblem(method: string, token: string | undefined): string | undefined {
    const isAppToken = this.socketMode !== undefined && token === this.socketMode.appToken;
    const isBotToken = token === this.token;
    if (method === 'apps.connections.open') return isAppToken ? undefined : isBotToken ? 'not_allowed_token_type' : 'invalid_auth';
    return isBotToken ? undefined : isAppToken ? 'not_allowed_token_type' : 'invalid_auth';
  }

  private nextTs(): string {
    this.tsCounter += 1;
    const s = String(this.tsCounter);
    return `${s.slice(0, 10)}.${s.slice(10)}`;
  }

  private viewProblem(view: any): string | undefined {
    if (!view || typeof view !== 'object') return 'invalid_arguments';
    if ((view.blocks ?? []).length > 100) return 'invalid_arguments';
    if (view.type === 'modal' && (!view.title?.text || view.title.text.length > 24)) return 'invalid_arguments';
    return undefined;
  }

  private answer(method: string, args: Record<string, any>): Record<string, any> {
    switch (method) {
      case 'apps.connections.open':
        return { ok: true, url: this.socketMode!.openUrl() };
      case 'auth.test':
        return { ok: true, url: 'https://test.slack.com/', team: 'Test', user: 'postmaster', team_id: 'T1', user_id: 'UBOT', bot_id: 'BBOT' };
      case 'views.open':
      case 'views.push': {
        if (!args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        const problem = this.viewProblem(args.view);
        if (problem) return { ok: false, error: problem };
        const id = `V${++this.seq}`;
        const hash = `${Date.now()}.${this.seq}`;
        this.views.set(id, { view: args.view, hash });
        return { ok: true, view: { ...args.view, id, hash, team_id: 'T1', state: { values: {} } } };
      }
      case 'views.update': {
        const stored = this.views.get(String(args.view_id));
        if (!stored) return { ok: false, error: 'not_found' };
        if (args.hash !== undefined && args.hash !== stored.hash) return { ok: false, error: 'hash_conflict' };
        const problem = this.viewProblem(args.view);
        if (problem) return { ok: false, error: problem };
        stored.view = args.view;
        stored.hash = `${Date.now()}.${++this.seq}`;
        return { ok: true, view: { ...args.view, id: args.view_id, hash: stored.hash, state: { values: {} } } };
      }
      case 'views.publish': {
        const problem = this.viewProblem(args.view);
        if (problem) return { ok: false, error: problem };
        const id = `VH${args.user_id}`;
        this.views.set(id, { view: args.view, hash: `${Date.now()}`, user: args.user_id });
        return { ok: true, view: { ...args.view, id } };
      }
      case 'chat.postMessage': {
        if (!args.channel) return { ok: false, error: 'channel_not_found' };
        if ((args.blocks ?? []).length > 50) return { ok: false, error: 'invalid_blocks' };
        if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
        const ts = this.nextTs();
        const message: StoredMessage = { channel: args.channel, ts, text: args.text ?? '', blocks: args.blocks ?? [], updates: 0 };
        if (args.thread_ts) message.thread_ts = args.thread_ts;
        this.messages.set(`${args.channel}:${ts}`, message);
        return { ok: true, channel: args.channel, ts, message: { type: 'message', text: message.text, ts } };
      }
      case 'chat.update': {
        const message = this.messages.get(`${args.channel}:${args.ts}`);
        if (!message) return { ok: false, error: 'message_not_found' };
        if ((args.blocks ?? []).length > 50) return { ok: false, error: 'invalid_blocks' };
        message.text = args.text ?? message.text;
        if (args.blocks) message.blocks = args.blocks;
        message.updates += 1;
        return { ok: true, channel: args.channel, ts: args.ts, text: message.text };
      }
      case 'chat.postEphemeral':
        if (!args.channel || !args.user) return { ok: false, error: 'channel_not_found' };
        if ((args.blocks ?? []).length > 50) return { ok: false, error: 'invalid_blocks' };
        return { ok: true, message_ts: this.nextTs() };
      case 'users.info': {
        const user = this.users.get(String(args.user));
        if (!user) return { ok: false, error: 'user_not_found' };
        return { ok: true, user: { id: user.id, name: user.name, profile: user.email ? { email: user.email, real_name: user.name } : { real_name: user.name } } };
      }
      case 'files.getUploadURLExternal': {
        if (!args.filename) return { ok: false, error: 'invalid_arguments' };
        const length = Number(args.length);
        if (!Number.isInteger(length) || length < 1) return { ok: false, error: 'invalid_arguments' };
        const id = `F${++this.seq}`;
        this.uploads.set(id, { id, filename: String(args.filename), length, completed: false });
        return { ok: true, upload_url: `${this.origin}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const files = Array.isArray(args.files) ? (args.files as Array<{ id: string; title?: string }>) : [];
        if (files.length === 0) return { ok: false, error: 'invalid_arguments' };
        const done = [];
        for (const file of files) {
          const upload = this.uploads.get(file.id);
          if (!upload || upload.content === undefined) return { ok: false, error: 'file_not_found' };
          upload.title = file.title;
          if (args.channel_id) upload.channel = String(args.channel_id);
          if (args.thread_ts) upload.threadTs = String(args.thread_ts);
          upload.completed = true;
          done.push({ id: upload.id, name: upload.filename, title: upload.title ?? upload.filename, size: Buffer.byteLength(upload.content) });
        }
        return { ok: true, files: done };
      }
      case 'conversations.open':
        return { ok: true, channel: { id: `D${String(args.users).split(',')[0]}` } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function parseBody(raw: string, contentType: string): Record<string, any> {
  if (contentType.includes('application/json')) return raw ? JSON.parse(raw) : {};
  const out: Record<string, any> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    out[key] = JSON_FIELDS.has(key) ? JSON.parse(value) : value;
  }
  return out;
}

export async function startSlackApi(token: string): Promise<SlackApi> {
  const api = new SlackApi(token);
  await api.start();
  return api;
}
