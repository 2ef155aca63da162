/**
 * The Alibaba Mail provider against a local server that follows the Open API contract
 * (docs/alimail-contract.md): token handling, paging through the department tree, freeze, unfreeze
 * and delete, error bodies, 429 with and without Retry-After, and the client-side rate limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AliyunProvider } from '../../src/providers/aliyun/provider.js';
import { retryAfterMs } from '../../src/providers/aliyun/client.js';
import { isPostmasterError, type PostmasterError } from '../../src/core/errors.js';
import { startAlimailServer, syntheticDirectory, type AlimailServer, type AlimailServerOptions } from '../support/alimail-server.js';

const CREDENTIALS = { clientId: 'app-id', clientSecret: 'app-secret-do-not-log' };
const PEOPLE = {
  departments: [
    { id: 'sales', name: 'Sales', parentId: '$root' },
    { id: 'sales-east', name: 'Sales East', parentId: 'sales' },
  ],
  users: [
    { id: 'u1', email: 'alice@example.test', name: 'Alice', departmentIds: ['sales'] },
    { id: 'u2', email: 'bob@example.test', name: 'Bob', departmentIds: ['sales-east'] },
    { id: 'u3', email: 'carol@example.test', name: 'Carol', departmentIds: ['$root'], status: 'FREEZE' as const },
  ],
};

let server: AlimailServer | undefined;
let provider: AliyunProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await server?.close();
  server = provider = undefined;
});

async function setUp(options: Partial<AlimailServerOptions> = {}, requestsPerSecond = 40) {
  server = await startAlimailServer({ ...CREDENTIALS, ...PEOPLE, ...options });
  provider = new AliyunProvider({ ...CREDENTIALS, baseUrl: server.url, requestsPerSecond, imapUrl: 'imaps://127.0.0.1:1' });
  return { server, provider };
}

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a failure'), (error: PostmasterError) => error);
const statuses = (s: AlimailServer, path: RegExp) => s.requests.filter((r) => path.test(r.path)).map((r) => r.status);

describe('Alibaba Mail provider: tokens', () => {
  it('fetches one token for many calls, with the form fields the token endpoint accepts', async () => {
    const { server, provider } = await setUp();
    await Promise.all([provider.getMailbox('alice@example.test'), provider.getMailbox('bob@example.test'), provider.listMailboxes()]);
    expect(server.tokensIssued).toBe(1);
    // The contract server refuses anything but the three form fields: a 200 here means the form was right.
    expect(statuses(server, /^\/oauth2/)).toEqual([200]);
  });

  it('refreshes the token before it expires, so no call ever meets an expired one', async () => {
    const { server, provider } = await setUp({ tokenLifetimeSeconds: 1 });
    await provider.getMailbox('alice@example.test');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await provider.getMailbox('alice@example.test');
    expect(server.tokensIssued).toBe(2);
    expect(server.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('on a 401 for an expired token, fetches a new token once and retries once', async () => {
    const { server, provider } = await setUp();
    await provider.getMailbox('alice@example.test');
    server.expireTokens();
    expect(await provider.getMailbox('bob@example.test')).toMatchObject({ address: 'bob@example.test' });
    expect(statuses(server, /^\/v2\/users\/bob/)).toEqual([401, 200]);
    expect(server.tokensIssued).toBe(2);
  });

  it('gives up after one retry when the fresh token is refused too, naming the credentials', async () => {
    const { server, provider } = await setUp();
    server.inject({ status: 401, times: 2, path: /^\/v2\/users\//, body: { detailErrorCode: 'InvalidToken', message: 'token is invalid' } });
    const error = await failure(provider.getMailbox('alice@example.test'));
    expect(error.message).toMatch(/HTTP 401 InvalidToken: token is invalid/);
    expect(error.hint).toMatch(/ALIMAIL_CLIENT_ID and ALIMAIL_CLIENT_SECRET/);
    expect(statuses(server, /^\/v2\/users\//)).toEqual([401, 401]);
  });

  it('says the credentials are wrong when the token endpoint refuses them, without retrying', async () => {
    server = await startAlimailServer({ ...CREDENTIALS, ...PEOPLE });
    provider = new AliyunProvider({ ...CREDENTIALS, clientSecret: 'wrong', baseUrl: server.url, requestsPerSecond: 40, imapUrl: 'imaps://127.0.0.1:1' });
    const error = await failure(provider.listMailboxes());
    expect(error.message).toMatch(/token.*HTTP 401 invalid_client/);
    expect(statuses(server, /^\/oauth2/)).toEqual([401]);
  });
});

describe('Alibaba Mail provider: mailboxes', () => {
  it('lists every user by walking the department tree, page by page, each once', async () => {
    const directory = syntheticDirectory({ departments: 4, users: 730, domain: 'example.test' });
    const { server, provider } = await setUp(directory, 200);
    const mailboxes = await provider.listMailboxes();
    expect(mailboxes).toHaveLength(730);
    expect(new Set(mailboxes.map((m) => m.address)).size).toBe(730);
    const listings = server.requests.filter((r) => /\/(users|subDepartments)$/.test(r.path));
    expect(listings.every((r) => new URLSearchParams(r.query).get('limit') === '100')).toBe(true);
    // Some department has more than one page of users, so paging really happened.
    expect(listings.some((r) => Number(new URLSearchParams(r.query).get('offset')) >= 100)).toBe(true);
  });

  it('dedupes users when a department listing includes its sub-departments', async () => {
    const directory = syntheticDirectory({ departments: 4, users: 730, domain: 'example.test' });
    const { provider } = await setUp({ ...directory, usersIncludeSubDepartments: true }, 200);
    const mailboxes = await provider.listMailboxes();
    expect(mailboxes).toHaveLength(730);
    expect(new Set(mailboxes.map((m) => m.address)).size).toBe(730);
  });

  it('shows NORMAL and FREEZE as they are, next to Postmaster\'s active/disabled', async () => {
    const { provider } = await setUp();
    expect(await provider.listMailboxes()).toEqual([
      { address: 'alice@example.test', status: 'active', providerStatus: 'NORMAL', displayName: 'Alice' },
      { address: 'bob@example.test', status: 'active', providerStatus: 'NORMAL', displayName: 'Bob' },
      { address: 'carol@example.test', status: 'disabled', providerStatus: 'FREEZE', displayName: 'Carol' },
    ]);
    expect(await provider.getMailbox('nobody@example.test')).toBeUndefined();
  });

  it('freezes, unfreezes and deletes; deleting a deleted user succeeds', async () => {
    const { server, provider } = await setUp();
    await provider.disable('alice@example.test');
    expect(server.user('alice@example.test')?.status).toBe('FREEZE');
    expect(await provider.getMailbox('alice@example.test')).toMatchObject({ status: 'disabled', providerStatus: 'FREEZE' });
    await provider.enable('alice@example.test');
    expect(server.user('alice@example.test')?.status).toBe('NORMAL');
    await provider.delete('alice@example.test');
    expect(server.user('alice@example.test')).toBeUndefined();
    await provider.delete('alice@example.test');
    expect(statuses(server, /^\/v2\/users\/alice@example.test$/).slice(-2)).toEqual([200, 404]);
    const error = await failure(provider.disable('alice@example.test'));
    expect(isPostmasterError(error, 'NotFound')).toBe(true);
  });

  it('turns an error body into one clear message, with the console page to fix permissions', async () => {
    const { server, provider } = await setUp();
    server.inject({ status: 403, times: 1, path: /^\/v2\/users\//, body: { detailErrorCode: 'NoPermission', message: 'app has no write permission on users', developerMessage: 'scope user:write missing' } });
    const error = await failure(provider.disable('alice@example.test'));
    expect(error.code).toBe('ProviderError');
    expect(error.message).toBe('Alibaba Mail answered PATCH /v2/users/alice@example.test with HTTP 403 NoPermission: app has no write permission on users; scope user:write missing');
    expect(error.hint).toMatch(/高级应用 → API 开放平台/);
    expect(server.user('alice@example.test')?.status).toBe('NORMAL');
  });

  it('says which capabilities need a person, in the console\'s words, in Chinese and English', async () => {
    const { provider } = await setUp();
    expect([...provider.capabilities].sort()).toEqual(['delete', 'disable', 'enable', 'export', 'getMailbox', 'listMailboxes']);
    const forward = provider.manualInstructions('setForwarding', { mailbox: 'alice@example.test', forward: { targets: ['bob@example.test'], keepCopy: true, expiresAt: '2027-03-01' } });
    expect(forward).toMatch(/邮箱管理 → 选择目标邮箱 alice@example.test → 邮件转发/);
    expect(forward).toMatch(/Mail forwarding → add bob@example.test; keep a copy/);
    expect(forward).toMatch(/2027-03-01/);
    const reply = provider.manualInstructions('setAutoReply', { mailbox: 'alice@example.test', autoReply: { subject: 'Alice has left', body: 'Please write to Bob.', endDate: '2027-03-01' } });
    expect(reply).toMatch(/自动回复/);
    expect(reply).toContain('Please write to Bob.');
    expect((await provider.readForwarding('alice@example.test')).readable).toBe(false);
  });
});

describe('Alibaba Mail provider: rate limits', () => {
  it('waits as long as Retry-After says before trying again', async () => {
    const { server, provider } = await setUp();
    server.inject({ status: 429, times: 1, retryAfter: '1', path: /^\/v2\/users\// });
    expect(await provider.getMailbox('alice@example.test')).toBeDefined();
    const [throttled, retried] = server.requests.filter((r) => r.path.startsWith('/v2/users/'));
    expect([throttled!.status, retried!.status]).toEqual([429, 200]);
    expect(retried!.at - throttled!.at).toBeGreaterThanOrEqual(990);
  });

  it('backs off exponentially, with jitter, when a 429 has no Retry-After', async () => {
    const { server, provider } = await setUp();
    server.inject({ status: 429, times: 3, path: /^\/v2\/users\// });
    expect(await provider.getMailbox('alice@example.test')).toBeDefined();
    const calls = server.requests.filter((r) => r.path.startsWith('/v2/users/'));
    expect(calls.map((r) => r.status)).toEqual([429, 429, 429, 200]);
    const gaps = calls.slice(1).map((r, i) => r.at - calls[i]!.at);
    // Steps of 250, 500 and 1000 ms, each jittered to 50-100%: the third wait always exceeds the first.
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[2]).toBeGreaterThan(gaps[0]!);
  });

  it('keeps a burst of 500 calls within the limit, and completes it despite injected 429s', async () => {
    const directory = syntheticDirectory({ departments: 5, users: 500, domain: 'example.test' });
    const { server, provider } = await setUp({ ...directory, rateLimit: 100 }, 100);
    server.inject({ status: 429, times: 15, retryAfter: '1', path: /^\/v2\/users\// });
    server.inject({ status: 429, times: 15, path: /^\/v2\/users\// });
    const found = await Promise.all(directory.users.map((u) => provider.getMailbox(u.email)));
    expect(found.filter(Boolean)).toHaveLength(500);
    expect(server.maxPerSecond()).toBeLessThanOrEqual(100);
    expect(server.tooManyRequests).toEqual({ limit: 0, injected: 30 });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Mon, 23 Nov 2026 10:00:05 GMT', Date.parse('2026-11-23T10:00:00Z'))).toBe(5000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
