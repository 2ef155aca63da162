import { afterEach, describe, expect, it } from 'vitest';
import {
  startAlimailServer,
  syntheticDirectory,
  type AlimailServer,
  type AlimailServerOptions,
} from '../support/alimail-server.js';

const CLIENT = { clientId: 'app-1', clientSecret: 's3cret' };
const FORM = 'application/x-www-form-urlencoded';

const departments = [
  { id: 'eng', name: 'Engineering', parentId: '$root' },
  { id: 'ops', name: 'Operations', parentId: '$root' },
  { id: 'sre', name: 'SRE', parentId: 'eng' },
];
const users = [
  { id: 'u1', email: 'ann@example.test', departmentIds: ['eng'] },
  { id: 'u2', email: 'bob@example.test', departmentIds: ['sre'] },
  { id: 'u3', email: 'cid@example.test', departmentIds: ['sre', 'eng'], status: 'FREEZE' as const },
  { id: 'u4', email: 'dee@example.test', departmentIds: ['ops'] },
];

const running: AlimailServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function start(options: Partial<AlimailServerOptions> = {}): Promise<AlimailServer> {
  const server = await startAlimailServer({ ...CLIENT, departments, users, rateLimit: 0, ...options });
  running.push(server);
  return server;
}

function tokenRequest(server: AlimailServer, form: Record<string, string>, contentType = FORM) {
  const body = contentType === FORM ? new URLSearchParams(form).toString() : JSON.stringify(form);
  return fetch(`${server.url}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': contentType }, body });
}

async function token(server: AlimailServer): Promise<string> {
  const res = await tokenRequest(server, { grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function call(server: AlimailServer, path: string, init: RequestInit & { token?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `bearer ${init.token}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { ...headers, ...(init.headers as Record<string, string>) },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe('token endpoint', () => {
  it('issues bearer tokens for the right client credentials', async () => {
    const server = await start({ tokenLifetimeSeconds: 120 });
    const res = await tokenRequest(server, { grant_type: 'client_credentials', client_id: 'app-1', client_secret: 's3cret' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token_type: 'bearer', access_token: expect.any(String), expires_in: 120 });
    expect(server.tokensIssued).toBe(1);
  });

  it('refuses other bodies in the RFC 6749 shape', async () => {
    const server = await start();
    const good = { grant_type: 'client_credentials', client_id: 'app-1', client_secret: 's3cret' };
    const cases: [Response, number, string][] = [
      [await tokenRequest(server, good, 'application/json'), 400, 'invalid_request'],
      [await tokenRequest(server, { ...good, scope: 'all' }), 400, 'invalid_request'],
      [await tokenRequest(server, { grant_type: 'client_credentials', client_id: 'app-1' }), 400, 'invalid_request'],
      [await tokenRequest(server, { ...good, grant_type: 'password' }), 400, 'unsupported_grant_type'],
      [await tokenRequest(server, { ...good, client_secret: 'nope' }), 401, 'invalid_client'],
    ];
    for (const [res, status, error] of cases) {
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ error });
    }
    expect(server.tokensIssued).toBe(0);
  });
});

describe('authentication', () => {
  it('needs a known, unexpired bearer token on /v2', async () => {
    const server = await start();
    const missing = await call(server, '/v2/users/u1');
    expect(missing).toMatchObject({ status: 401, body: { detailErrorCode: 'InvalidToken', message: expect.any(String), developerMessage: expect.any(String) } });
    expect((await call(server, '/v2/users/u1', { token: 'forged' })).body.detailErrorCode).toBe('InvalidToken');

    const valid = await token(server);
    expect((await call(server, '/v2/users/u1', { headers: { authorization: `BEARER ${valid}` } })).status).toBe(200);
    server.expireTokens();
    expect(await call(server, '/v2/users/u1', { token: valid })).toMatchObject({ status: 401, body: { detailErrorCode: 'TokenExpired' } });
    expect((await call(server, '/v2/users/u1', { token: await token(server) })).status).toBe(200);
  });

  it('expires tokens after their lifetime', async () => {
    const server = await start({ tokenLifetimeSeconds: 0 });
    expect((await call(server, '/v2/users/u1', { token: await token(server) })).body.detailErrorCode).toBe('TokenExpired');
  });
});

describe('departments', () => {
  it('pages direct sub-departments, $root arriving encoded', async () => {
    const server = await start();
    const t = await token(server);
    const first = await call(server, '/v2/departments/%24root/subDepartments?offset=0&limit=1', { token: t });
    expect(first.body).toEqual({ departments: [{ id: 'eng', name: 'Engineering', parentId: '$root', hasSubDepartments: true, hasUsers: true }], total: 2 });
    const second = await call(server, '/v2/departments/$root/subDepartments?offset=1&limit=1', { token: t });
    expect(second.body.departments.map((d: any) => d.id)).toEqual(['ops']);
    expect(server.requests[1]!.path).toBe('/v2/departments/$root/subDepartments');
  });

  it('lists direct members, or the whole subtree when configured', async () => {
    const direct = await start();
    const t1 = await token(direct);
    const eng = await call(direct, '/v2/departments/eng/users', { token: t1 });
    expect(eng.body.users.map((u: any) => u.id)).toEqual(['u1', 'u3']);
    expect(eng.body.users[0]).toEqual({ id: 'u1', email: 'ann@example.test', name: 'ann', status: 'NORMAL', departmentIds: ['eng'], lastLoginTime: expect.any(String) });

    const subtree = await start({ usersIncludeSubDepartments: true });
    const t2 = await token(subtree);
    const all = await call(subtree, '/v2/departments/$root/users?limit=2&offset=2', { token: t2 });
    expect(all.body).toMatchObject({ total: 4, users: [{ id: 'u2' }, { id: 'u4' }] }); // pre-order: eng (u1, u3), sre (u2), ops (u4)
  });

  it('validates paging and the department', async () => {
    const server = await start();
    const t = await token(server);
    for (const query of ['limit=101', 'limit=0', 'offset=-1', 'offset=1.5', 'limit=']) {
      expect(await call(server, `/v2/departments/eng/users?${query}`, { token: t })).toMatchObject({ status: 400, body: { detailErrorCode: 'InvalidParameter' } });
    }
    expect((await call(server, '/v2/departments/eng/users?limit=100', { token: t })).status).toBe(200);
    expect(await call(server, '/v2/departments/nope/subDepartments', { token: t })).toMatchObject({ status: 404, body: { detailErrorCode: 'DepartmentNotFound' } });
  });
});

describe('one user', () => {
  it('gets, freezes and deletes by id or email', async () => {
    const server = await start();
    const t = await token(server);
    expect((await call(server, '/v2/users/bob%40example.test', { token: t })).body.id).toBe('u2');
    expect(await call(server, '/v2/users/u9', { token: t })).toMatchObject({ status: 404, body: { detailErrorCode: 'UserNotFound' } });

    const frozen = await call(server, '/v2/users/bob@example.test', { method: 'PATCH', token: t, json: { status: 'FREEZE' } });
    expect(frozen).toMatchObject({ status: 200, body: { id: 'u2', status: 'FREEZE' } });
    expect(server.user('u2')!.status).toBe('FREEZE');
    expect((await call(server, '/v2/users/u2', { method: 'PATCH', token: t, json: { status: 'LOCKED' } })).status).toBe(400);
    const notJson = await call(server, '/v2/users/u2', { method: 'PATCH', token: t, body: 'status=NORMAL', headers: { 'content-type': FORM } });
    expect(notJson.body.detailErrorCode).toBe('InvalidParameter');

    expect(await call(server, '/v2/users/u2', { method: 'DELETE', token: t })).toEqual(expect.objectContaining({ status: 200, body: {} }));
    expect((await call(server, '/v2/users/u2', { method: 'DELETE', token: t })).status).toBe(404);
    expect((await call(server, '/v2/departments/sre/users', { token: t })).body).toMatchObject({ total: 1, users: [{ id: 'u3' }] });
    expect(server.user('bob@example.test')).toBeUndefined();
  });

  it('resets passwords that meet the rule, frozen users included', async () => {
    const resets: [string, string][] = [];
    const server = await start({ onPasswordReset: (email, password) => void resets.push([email, password]) });
    const t = await token(server);
    for (const weak of ['Sh0rt!', 'alllowercase123', 'A'.repeat(20) + 'a'.repeat(13) + '1']) {
      expect((await call(server, '/v2/users/u1/resetPassword', { method: 'POST', token: t, json: { password: weak } })).body.detailErrorCode).toBe('InvalidPassword');
    }
    const ok = await call(server, '/v2/users/u3/resetPassword', { method: 'POST', token: t, json: { password: 'Correct-horse-9', forceChangePasswordNextSignIn: false } });
    expect(ok).toMatchObject({ status: 200, body: {} });
    expect(resets).toEqual([['cid@example.test', 'Correct-horse-9']]);
  });
});

describe('routing', () => {
  it('answers 404 for unknown routes and 405 for wrong methods', async () => {
    const server = await start();
    const t = await token(server);
    expect(await call(server, '/v2/mailboxes', { token: t })).toMatchObject({ status: 404, body: { detailErrorCode: 'NotFound' } });
    expect((await call(server, '/v2/users/u1/resetPassword', { token: t })).status).toBe(405);
    expect((await call(server, '/oauth2/v2.0/token')).status).toBe(405);
  });
});

describe('rate limit and faults', () => {
  it('refuses requests over the sliding-window limit with Retry-After', async () => {
    const server = await start({ rateLimit: 5 });
    const results = await Promise.all(Array.from({ length: 8 }, () => call(server, '/v2/users/u1')));
    expect(results.filter((r) => r.status === 401)).toHaveLength(5); // admitted, then refused by auth
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(3);
    expect(limited[0]!.headers.get('retry-after')).toBe('1');
    expect(limited[0]!.body.detailErrorCode).toBe('TooManyRequests');
    expect(server.tooManyRequests).toEqual({ limit: 3, injected: 0 });
    expect(server.requests.map((r) => r.status).sort()).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(server.maxPerSecond()).toBe(8);
  });

  it('counts the token endpoint and can leave Retry-After out', async () => {
    const server = await start({ rateLimit: 1, retryAfter: 'none' });
    await token(server);
    const res = await tokenRequest(server, {});
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('injects faults after auth, on matching paths, a given number of times', async () => {
    const server = await start();
    const t = await token(server);
    server.inject({ status: 429, times: 1, retryAfter: '2', path: /^\/v2\/users\// });
    server.inject({ status: 503, times: 1, path: /subDepartments$/ });
    expect((await call(server, '/v2/users/u1')).status).toBe(401); // auth comes first, fault stays armed
    const injected = await call(server, '/v2/users/u1', { token: t });
    expect(injected).toMatchObject({ status: 429, body: { detailErrorCode: 'TooManyRequests' } });
    expect(injected.headers.get('retry-after')).toBe('2');
    expect((await call(server, '/v2/users/u1', { token: t })).status).toBe(200);
    expect((await call(server, '/v2/departments/eng/subDepartments', { token: t })).status).toBe(503);
    expect(server.tooManyRequests).toEqual({ limit: 0, injected: 1 });
  });
});

describe('synthetic directory and lifecycle', () => {
  it('builds a deterministic tree whose walk finds every user', async () => {
    const options = { departments: 30, users: 500, domain: 'bench.test' };
    const directory = syntheticDirectory(options);
    expect(syntheticDirectory(options)).toEqual(directory);
    expect(directory.users[0]!.email).toBe('user00001@bench.test');
    expect(new Set(directory.departments.map((d) => d.parentId)).size).toBeGreaterThan(3);

    const server = await start(directory);
    const t = await token(server);
    const found = new Set<string>();
    const queue = ['$root'];
    while (queue.length > 0) {
      const id = encodeURIComponent(queue.shift()!);
      for (let offset = 0; ; offset += 100) {
        const page = (await call(server, `/v2/departments/${id}/users?offset=${offset}&limit=100`, { token: t })).body;
        for (const user of page.users) found.add(user.id);
        if (offset + 100 >= page.total) break;
      }
      const subs = (await call(server, `/v2/departments/${id}/subDepartments`, { token: t })).body;
      queue.push(...subs.departments.map((d: any) => d.id));
    }
    expect(found.size).toBe(500);
  });

  it('closes promptly with keep-alive connections open', async () => {
    const server = await startAlimailServer({ ...CLIENT, latencyMs: 5 });
    await token(server);
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
