/**
 * A local stand-in for Alibaba Mail's (阿里邮箱) Open API on 127.0.0.1, for tests and benchmarks.
 * It follows docs/alimail-contract.md: the provider and this server are written against the same
 * page, so a rule here that the page does not state is a bug in one of the two.
 *
 * What it holds to:
 * - OAuth2 client credentials at POST /oauth2/v2.0/token (form body with exactly grant_type,
 *   client_id, client_secret); tokens expire after `tokenLifetimeSeconds` or on expireTokens();
 * - every /v2 call needs `Authorization: bearer <token>` (401 InvalidToken / TokenExpired);
 * - a sliding one-second rate limit over every request, token endpoint included (429);
 * - department paging (offset/limit, limit 1..100) for sub-departments and users, `$root` as root;
 * - GET/PATCH/DELETE of one user by id or email, and POST .../resetPassword with the password rule.
 * Errors use the Open API body `{ detailErrorCode, message, developerMessage }`; token errors use
 * the RFC 6749 body `{ error, error_description }`.
 *
 * Each request passes, in order: rate limit, authentication, injected faults, then its handler.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { mulberry32 } from '../../bench/lib/random.js';

export interface SeedDepartment {
  id: string;
  name: string;
  parentId: string;
}

export interface SeedUser {
  id?: string;
  email: string;
  name?: string;
  status?: 'NORMAL' | 'FREEZE';
  departmentIds: string[];
  lastLoginTime?: string;
}

export interface AlimailUser {
  id: string;
  email: string;
  name: string;
  status: 'NORMAL' | 'FREEZE';
  departmentIds: string[];
  lastLoginTime: string;
}

export interface AlimailServerOptions {
  clientId: string;
  clientSecret: string;
  /** expires_in of issued tokens, seconds (default 3600). */
  tokenLifetimeSeconds?: number;
  /** Requests allowed in any sliding one-second window, all requests counted (default 40). 0 = unlimited. */
  rateLimit?: number;
  /** Whether a rate-limit 429 carries `Retry-After: 1` ('seconds', the default) or no header ('none'). */
  retryAfter?: 'seconds' | 'none';
  /** When true, GET /v2/departments/{id}/users also returns users of all sub-departments (default false: direct members only). */
  usersIncludeSubDepartments?: boolean;
  departments?: SeedDepartment[];
  users?: SeedUser[];
  /** Called on POST /v2/users/{id|email}/resetPassword with the new password (tests use it to set the same password on a real Dovecot). The server must NOT keep the password anywhere. */
  onPasswordReset?: (email: string, password: string) => void | Promise<void>;
  /** Added delay before each response, ms (default 0). */
  latencyMs?: number;
  /** Called with every access token issued (secret-leak tests look for them in logs and files). */
  onTokenIssued?: (token: string) => void;
}

export interface RecordedRequest {
  /** performance.now() ms at arrival. */
  at: number;
  method: string;
  /** Without query, each segment URL-decoded (so `%24root` is recorded as `$root`, `%40` as `@`). */
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  /** The status answered; 0 while the request is still being handled. */
  status: number;
}

export interface InjectedFault {
  status: number;
  times: number;
  /** Sent as the Retry-After header when given; no header otherwise. */
  retryAfter?: string;
  /** Sent as JSON, or as text/plain when a string; default: the Open API error body for `status`. */
  body?: unknown;
  /** only requests whose path matches (the decoded path, as in `requests`); default: every request, the token endpoint included */
  path?: RegExp;
}

export interface AlimailServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** 429s the server sent: because the sliding-window limit was exceeded, and because of inject(). */
  readonly tooManyRequests: { limit: number; injected: number };
  readonly tokensIssued: number;
  /** A copy of the stored user, by id or email. */
  user(idOrEmail: string): AlimailUser | undefined;
  /** Every token issued so far is expired from now on (next call with it gets 401 TokenExpired). */
  expireTokens(): void;
  /** The next `times` matching requests (after auth and rate limiting pass) get this status and body. */
  inject(fault: InjectedFault): void;
  /** Most requests that arrived (429s included) within any sliding 1000 ms window. */
  maxPerSecond(): number;
  close(): Promise<void>;
}

const ROOT_ID = '$root';
const WINDOW_MS = 1000;
const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 100;
/** Seeds without a lastLoginTime get a fixed one, so fixtures stay reproducible. */
const DEFAULT_LAST_LOGIN = '2025-01-01T00:00:00Z';

// ---------------------------------------------------------------------------------------------
// Replies and errors

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Thrown by any step to answer the request with `reply` right away. */
class Refusal extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

function openApiError(status: number, code: string, message: string, headers?: Record<string, string>): Refusal {
  return new Refusal({
    status,
    body: { detailErrorCode: code, message, developerMessage: `${code}: ${message}` },
    ...(headers ? { headers } : {}),
  });
}

/** RFC 6749 section 5.2: the token endpoint answers in OAuth's own error shape. */
function oauthError(status: number, error: string, description: string): Refusal {
  return new Refusal({ status, body: { error, error_description: description } });
}

/** "Service Unavailable" -> "ServiceUnavailable": a plausible detailErrorCode for an injected status. */
function codeForStatus(status: number): string {
  return (STATUS_CODES[status] ?? `Http${status}`).replace(/[^A-Za-z0-9]/g, '');
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

/** Admits at most `limit` requests in any half-open window of 1000 ms; refused ones do not count. */
class SlidingWindow {
  private readonly admitted: number[] = [];
  private head = 0;

  constructor(private readonly limit: number) {}

  admit(now: number): boolean {
    if (this.limit <= 0) return true;
    while (this.head < this.admitted.length && now - this.admitted[this.head]! >= WINDOW_MS) this.head++;
    this.compact();
    if (this.admitted.length - this.head >= this.limit) return false;
    this.admitted.push(now);
    return true;
  }

  /** Drops expired entries now and then, so a long benchmark does not grow the array forever. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.admitted.length) {
      this.admitted.splice(0, this.head);
      this.head = 0;
    }
  }
}

function maxInAnyWindow(requests: readonly RecordedRequest[]): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < requests.length; end++) {
    while (requests[end]!.at - requests[start]!.at >= WINDOW_MS) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The directory: departments (static) and users (status changes, deletions)

class Directory {
  private readonly departments = new Map<string, SeedDepartment>();
  private readonly children = new Map<string, SeedDepartment[]>();
  private readonly usersById = new Map<string, AlimailUser>();
  private readonly idByEmail = new Map<string, string>();
  // Member lists are built on first use and thrown away on delete, so paging stays O(limit).
  private directMembers: Map<string, AlimailUser[]> | undefined;
  private readonly subtreeMembers = new Map<string, AlimailUser[]>();

  constructor(departments: readonly SeedDepartment[], users: readonly SeedUser[]) {
    this.departments.set(ROOT_ID, { id: ROOT_ID, name: 'Root', parentId: '' });
    for (const department of departments) this.addDepartment(department);
    for (const department of departments) this.linkToParent(department);
    for (const department of departments) this.assertReachesRoot(department);
    for (const user of users) this.addUser(user);
  }

  hasDepartment(id: string): boolean {
    return this.departments.has(id);
  }

  subDepartments(id: string): readonly SeedDepartment[] {
    return this.children.get(id) ?? [];
  }

  /** Users of a department in a stable order (seed order, subtree pre-order), each once. */
  members(id: string, includeSubDepartments: boolean): readonly AlimailUser[] {
    if (!includeSubDepartments) return this.directIndex().get(id) ?? [];
    let members = this.subtreeMembers.get(id);
    if (!members) {
      members = this.collectSubtree(id);
      this.subtreeMembers.set(id, members);
    }
    return members;
  }

  find(idOrEmail: string): AlimailUser | undefined {
    const id = this.usersById.has(idOrEmail) ? idOrEmail : this.idByEmail.get(idOrEmail.toLowerCase());
    return id === undefined ? undefined : this.usersById.get(id);
  }

  delete(user: AlimailUser): void {
    this.usersById.delete(user.id);
    this.idByEmail.delete(user.email.toLowerCase());
    this.directMembers = undefined;
    this.subtreeMembers.clear();
  }

  private addDepartment(department: SeedDepartment): void {
    if (this.departments.has(department.id)) throw new Error(`alimail-server: duplicate department ${department.id}`);
    this.departments.set(department.id, { ...department });
  }

  private linkToParent(department: SeedDepartment): void {
    if (!this.departments.has(department.parentId)) {
      throw new Error(`alimail-server: department ${department.id} has unknown parent ${department.parentId}`);
    }
    const siblings = this.children.get(department.parentId) ?? [];
    siblings.push(this.departments.get(department.id)!);
    this.children.set(department.parentId, siblings);
  }

  /** A parent cycle would make the tree walk of a client (and of this server) loop forever. */
  private assertReachesRoot(department: SeedDepartment): void {
    let current: SeedDepartment | undefined = department;
    for (let steps = 0; current && current.id !== ROOT_ID; steps++) {
      if (steps > this.departments.size) throw new Error(`alimail-server: department ${department.id} is in a parent cycle`);
      current = this.departments.get(current.parentId);
    }
  }

  private addUser(seed: SeedUser): void {
    const id = seed.id ?? derivedUserId(seed.email);
    const emailKey = seed.email.toLowerCase();
    if (this.usersById.has(id)) throw new Error(`alimail-server: duplicate user id ${id}`);
    if (this.idByEmail.has(emailKey)) throw new Error(`alimail-server: duplicate user email ${seed.email}`);
    for (const departmentId of seed.departmentIds) {
      if (!this.departments.has(departmentId)) throw new Error(`alimail-server: user ${seed.email} in unknown department ${departmentId}`);
    }
    this.usersById.set(id, {
      id,
      email: seed.email,
      name: seed.name ?? seed.email.split('@')[0]!,
      status: seed.status ?? 'NORMAL',
      departmentIds: [...seed.departmentIds],
      lastLoginTime: seed.lastLoginTime ?? DEFAULT_LAST_LOGIN,
    });
    this.idByEmail.set(emailKey, id);
  }

  private directIndex(): Map<string, AlimailUser[]> {
    if (this.directMembers) return this.directMembers;
    const index = new Map<string, AlimailUser[]>();
    for (const user of this.usersById.values()) {
      for (const departmentId of new Set(user.departmentIds)) {
        const list = index.get(departmentId) ?? [];
        list.push(user);
        index.set(departmentId, list);
      }
    }
    this.directMembers = index;
    return index;
  }

  private collectSubtree(rootId: string): AlimailUser[] {
    const seen = new Set<AlimailUser>();
    const stack = [rootId];
    while (stack.length > 0) {
      const id = stack.pop()!;
      for (const user of this.directIndex().get(id) ?? []) seen.add(user);
      const kids = this.subDepartments(id);
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!.id); // reversed: pre-order
    }
    return [...seen];
  }
}

/** Stable across runs, so fixtures and snapshots do not change when a seed omits the id. */
function derivedUserId(email: string): string {
  return createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 20);
}

function copyUser(user: AlimailUser): AlimailUser {
  return { ...user, departmentIds: [...user.departmentIds] };
}

// ---------------------------------------------------------------------------------------------
// Request parsing helpers

interface Page {
  offset: number;
  limit: number;
}

function parsePage(query: URLSearchParams): Page {
  const offset = parseInteger(query, 'offset', 0);
  const limit = parseInteger(query, 'limit', DEFAULT_LIMIT);
  if (limit < 1 || limit > MAX_LIMIT) throw openApiError(400, 'InvalidParameter', `limit must be 1..${MAX_LIMIT}, got ${limit}`);
  return { offset, limit };
}

/** Non-negative decimal integers only: "-1", "1.5", "" and "abc" are all InvalidParameter. */
function parseInteger(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw openApiError(400, 'InvalidParameter', `${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

function pageOf<T>(items: readonly T[], page: Page): T[] {
  return items.slice(page.offset, page.offset + page.limit);
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function jsonObject(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  if (mediaType(req) !== 'application/json') throw openApiError(400, 'InvalidParameter', 'the body must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw openApiError(400, 'InvalidParameter', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw openApiError(400, 'InvalidParameter', 'the body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** The contract's (assumed) rule: 8 to 32 characters, at least three of four character classes. */
function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < 8 || length > 32) return 'the password must be 8 to 32 characters';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 3) return 'the password needs at least three of: lower case, upper case, digits, symbols';
  return undefined;
}

function decodeSegments(pathname: string): string[] {
  return pathname.split('/').slice(1).map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment; // malformed escapes stay as sent and simply match no route
    }
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const isText = typeof reply.body === 'string';
  const payload = isText ? (reply.body as string) : JSON.stringify(reply.body ?? {});
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Routing

interface Call {
  req: IncomingMessage;
  params: string[];
  query: URLSearchParams;
  body: Buffer;
}

type Handler = (call: Call) => Reply | Promise<Reply>;

interface Route {
  /** Literal segments, with ':' marking a parameter. */
  segments: string[];
  methods: Record<string, Handler>;
}

function matchRoute(routes: readonly Route[], segments: readonly string[]): { route: Route; params: string[] } | undefined {
  for (const route of routes) {
    if (route.segments.length !== segments.length) continue;
    const params: string[] = [];
    const matches = route.segments.every((part, i) => {
      if (part === ':') params.push(segments[i]!);
      return part === ':' || part === segments[i];
    });
    if (matches) return { route, params };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The server

class ContractServer implements AlimailServer {
  readonly requests: RecordedRequest[] = [];
  readonly tooManyRequests = { limit: 0, injected: 0 };
  tokensIssued = 0;
  url = '';

  private readonly http = createServer((req, res) => void this.handle(req, res));
  private readonly window: SlidingWindow;
  private readonly directory: Directory;
  /** token -> expiry (Date.now() ms); expired tokens stay so they answer TokenExpired, not InvalidToken. */
  private readonly tokens = new Map<string, number>();
  private readonly faults: InjectedFault[] = [];
  private readonly routes: Route[];

  constructor(private readonly options: AlimailServerOptions) {
    this.window = new SlidingWindow(options.rateLimit ?? 40);
    this.directory = new Directory(options.departments ?? [], options.users ?? []);
    this.routes = [
      { segments: ['oauth2', 'v2.0', 'token'], methods: { POST: (c) => this.issueToken(c) } },
      { segments: ['v2', 'departments', ':', 'subDepartments'], methods: { GET: (c) => this.listSubDepartments(c) } },
      { segments: ['v2', 'departments', ':', 'users'], methods: { GET: (c) => this.listUsers(c) } },
      {
        segments: ['v2', 'users', ':'],
        methods: { GET: (c) => this.getUser(c), PATCH: (c) => this.patchUser(c), DELETE: (c) => this.deleteUser(c) },
      },
      { segments: ['v2', 'users', ':', 'resetPassword'], methods: { POST: (c) => this.resetPassword(c) } },
    ];
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  user(idOrEmail: string): AlimailUser | undefined {
    const user = this.directory.find(idOrEmail);
    return user && copyUser(user);
  }

  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  inject(fault: InjectedFault): void {
    this.faults.push({ ...fault });
  }

  maxPerSecond(): number {
    return maxInAnyWindow(this.requests);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.http.close((error) => (error ? reject(error) : resolve()));
      // Without this, an idle keep-alive socket from fetch holds close() open for seconds.
      this.http.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = performance.now();
    // The limit is decided on arrival, before the body is read, as a gateway in front would.
    const admitted = this.window.admit(arrival);
    const raw = req.url ?? '/';
    const queryAt = raw.indexOf('?');
    const segments = decodeSegments(queryAt < 0 ? raw : raw.slice(0, queryAt));
    const query = queryAt < 0 ? '' : raw.slice(queryAt + 1);
    const record: RecordedRequest = { at: arrival, method: req.method ?? 'GET', path: `/${segments.join('/')}`, query, status: 0 };
    this.requests.push(record);

    let reply: Reply;
    try {
      const body = await readBody(req);
      reply = admitted ? await this.dispatch(req, record, segments, body) : this.rateLimited();
    } catch {
      res.destroy(); // the client went away mid-body; nobody is left to answer
      return;
    }
    record.status = reply.status;
    if (this.options.latencyMs) await sleep(this.options.latencyMs);
    send(res, reply);
  }

  private rateLimited(): Reply {
    this.tooManyRequests.limit++;
    const headers = (this.options.retryAfter ?? 'seconds') === 'seconds' ? { 'retry-after': '1' } : undefined;
    return openApiError(429, 'TooManyRequests', 'more than the allowed requests per second', headers).reply;
  }

  private async dispatch(req: IncomingMessage, record: RecordedRequest, segments: string[], body: Buffer): Promise<Reply> {
    try {
      if (segments[0] === 'v2') this.authenticate(req.headers.authorization);
      const fault = this.takeFault(record.path);
      if (fault) return this.faultReply(fault);
      const matched = matchRoute(this.routes, segments);
      if (!matched) throw openApiError(404, 'NotFound', `no such endpoint: ${record.path}`);
      const handler = matched.route.methods[record.method];
      if (!handler) {
        const allow = Object.keys(matched.route.methods).join(', ');
        throw openApiError(405, 'MethodNotAllowed', `${record.method} is not allowed here`, { allow });
      }
      return await handler({ req, params: matched.params, query: new URLSearchParams(record.query), body });
    } catch (error) {
      if (error instanceof Refusal) return error.reply;
      return openApiError(500, 'InternalError', error instanceof Error ? error.message : String(error)).reply;
    }
  }

  private authenticate(header: string | undefined): void {
    const token = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')?.[1];
    if (token === undefined) throw openApiError(401, 'InvalidToken', 'missing bearer token');
    const expiresAt = this.tokens.get(token);
    if (expiresAt === undefined) throw openApiError(401, 'InvalidToken', 'unknown access token');
    if (expiresAt <= Date.now()) throw openApiError(401, 'TokenExpired', 'the access token has expired');
  }

  private takeFault(path: string): InjectedFault | undefined {
    const index = this.faults.findIndex((fault) => fault.times > 0 && (!fault.path || fault.path.test(path)));
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    if (--fault.times <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private faultReply(fault: InjectedFault): Reply {
    if (fault.status === 429) this.tooManyRequests.injected++;
    const code = codeForStatus(fault.status);
    const body = fault.body !== undefined ? fault.body : openApiError(fault.status, code, 'injected fault').reply.body;
    return { status: fault.status, body, ...(fault.retryAfter !== undefined ? { headers: { 'retry-after': fault.retryAfter } } : {}) };
  }

  // --- handlers -------------------------------------------------------------------------------

  private issueToken({ req, body }: Call): Reply {
    if (mediaType(req) !== 'application/x-www-form-urlencoded') {
      throw oauthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(body.toString('utf8'));
    const names = [...form.keys()];
    const expected = ['client_id', 'client_secret', 'grant_type'];
    if (names.length !== expected.length || [...names].sort().some((name, i) => name !== expected[i])) {
      throw oauthError(400, 'invalid_request', `the form must hold exactly ${expected.join(', ')}; got ${names.join(', ') || 'nothing'}`);
    }
    if (form.get('grant_type') !== 'client_credentials') {
      throw oauthError(400, 'unsupported_grant_type', 'only client_credentials is supported');
    }
    if (form.get('client_id') !== this.options.clientId || form.get('client_secret') !== this.options.clientSecret) {
      throw oauthError(401, 'invalid_client', 'client authentication failed');
    }
    const lifetime = this.options.tokenLifetimeSeconds ?? 3600;
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, Date.now() + lifetime * 1000);
    this.tokensIssued++;
    this.options.onTokenIssued?.(token);
    return { status: 200, body: { token_type: 'bearer', access_token: token, expires_in: lifetime } };
  }

  private listSubDepartments({ params, query }: Call): Reply {
    const page = parsePage(query);
    const id = this.departmentId(params);
    const all = this.directory.subDepartments(id);
    return { status: 200, body: { departments: pageOf(all, page).map((d) => this.departmentView(d)), total: all.length } };
  }

  private listUsers({ params, query }: Call): Reply {
    const page = parsePage(query);
    const id = this.departmentId(params);
    const all = this.directory.members(id, this.options.usersIncludeSubDepartments ?? false);
    return { status: 200, body: { users: pageOf(all, page), total: all.length } };
  }

  private getUser({ params }: Call): Reply {
    return { status: 200, body: this.existingUser(params) };
  }

  private patchUser({ req, params, body }: Call): Reply {
    const user = this.existingUser(params);
    const { status } = jsonObject(req, body);
    if (status !== 'NORMAL' && status !== 'FREEZE') {
      throw openApiError(400, 'InvalidParameter', `status must be NORMAL or FREEZE, got ${JSON.stringify(status)}`);
    }
    user.status = status;
    return { status: 200, body: user };
  }

  private deleteUser({ params }: Call): Reply {
    this.directory.delete(this.existingUser(params));
    return { status: 200, body: {} };
  }

  private async resetPassword({ req, params, body }: Call): Promise<Reply> {
    const user = this.existingUser(params);
    const { password, forceChangePasswordNextSignIn } = jsonObject(req, body);
    if (typeof password !== 'string') throw openApiError(400, 'InvalidParameter', 'password must be a string');
    if (forceChangePasswordNextSignIn !== undefined && typeof forceChangePasswordNextSignIn !== 'boolean') {
      throw openApiError(400, 'InvalidParameter', 'forceChangePasswordNextSignIn must be a boolean');
    }
    const problem = passwordProblem(password);
    if (problem) throw openApiError(400, 'InvalidPassword', problem);
    // Handed on and forgotten: the server never stores a password.
    await this.options.onPasswordReset?.(user.email, password);
    return { status: 200, body: {} };
  }

  private departmentId(params: string[]): string {
    const id = params[0]!;
    if (!this.directory.hasDepartment(id)) throw openApiError(404, 'DepartmentNotFound', `no department ${id}`);
    return id;
  }

  private departmentView(department: SeedDepartment) {
    const members = this.directory.members(department.id, this.options.usersIncludeSubDepartments ?? false);
    return {
      id: department.id,
      name: department.name,
      parentId: department.parentId,
      hasSubDepartments: this.directory.subDepartments(department.id).length > 0,
      hasUsers: members.length > 0,
    };
  }

  private existingUser(params: string[]): AlimailUser {
    const user = this.directory.find(params[0]!);
    if (!user) throw openApiError(404, 'UserNotFound', `no user ${params[0]}`);
    return user;
  }
}

export async function startAlimailServer(options: AlimailServerOptions): Promise<AlimailServer> {
  const server = new ContractServer(options);
  await server.listen();
  return server;
}

// ---------------------------------------------------------------------------------------------
// Synthetic directories for benchmarks

const MAX_DEPTH = 4;

/** A synthetic organisation for benchmarks: `departments` departments in a tree (a few levels deep, random-ish but deterministic) under $root, `users` users spread over them, addresses user00001@<domain>. */
export function syntheticDirectory(options: { departments: number; users: number; domain: string }): {
  departments: SeedDepartment[];
  users: SeedUser[];
} {
  const random = mulberry32(options.departments * 7919 + options.users);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const departments = syntheticDepartments(options.departments, random);
  const departmentIds = departments.map((d) => d.id);
  const width = Math.max(5, String(options.users).length);
  const users: SeedUser[] = [];
  for (let n = 1; n <= options.users; n++) {
    const number = String(n).padStart(width, '0');
    // A few users sit in $root itself and a few in two departments, so clients must dedupe.
    const home = departmentIds.length === 0 || random() < 0.02 ? ROOT_ID : pick(departmentIds);
    const second = departmentIds.length > 1 && random() < 0.05 ? pick(departmentIds) : undefined;
    users.push({
      id: `u${number}`,
      email: `user${number}@${options.domain}`,
      name: `User ${number}`,
      status: 'NORMAL',
      departmentIds: second && second !== home ? [home, second] : [home],
      lastLoginTime: new Date(Date.UTC(2025, 5, 1) - Math.floor(random() * 365 * 86_400) * 1000).toISOString(),
    });
  }
  return { departments, users };
}

/** The first tenth hang under $root; each later one under an earlier department not yet too deep. */
function syntheticDepartments(count: number, random: () => number): SeedDepartment[] {
  const departments: SeedDepartment[] = [];
  const depth = new Map<string, number>([[ROOT_ID, 0]]);
  const canHaveChildren: string[] = [];
  const topLevel = Math.max(1, Math.ceil(count / 10));
  const width = Math.max(4, String(count).length);
  for (let n = 1; n <= count; n++) {
    const id = `d${String(n).padStart(width, '0')}`;
    const parentId = n <= topLevel ? ROOT_ID : canHaveChildren[Math.floor(random() * canHaveChildren.length)]!;
    departments.push({ id, name: `Department ${n}`, parentId });
    depth.set(id, depth.get(parentId)! + 1);
    if (depth.get(id)! < MAX_DEPTH) canHaveChildren.push(id);
  }
  return departments;
}
