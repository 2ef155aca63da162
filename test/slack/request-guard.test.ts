/**
 * Requests that do not come from Slack: forged, unsigned, stale, and from the future. Each gets 401
 * over HTTP, reaches no listener, changes nothing, and is written to the audit log without the
 * signature or the secret.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider } from '../support/slack-fake-provider.js';
import { SIGNING_SECRET, startSlackHarness, type SlackHarness } from '../support/slack-harness.js';
import { sign } from '../support/slack-sender.js';
import { refusalReason } from '../../src/slack/request-guard.js';

describe('the request guard', () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    ['a forged signature', { secret: 'not-the-secret' }, 'signature mismatch'],
    ['no signature at all', { signature: null }, 'unsigned'],
    ['a malformed signature', { signature: 'v1=abc' }, 'malformed signature'],
    ['a stale timestamp (6 minutes old)', { timestamp: now() - 360 }, 'stale timestamp'],
    ['a timestamp 1 hour in the future', { timestamp: now() + 3600 }, 'in the future'],
    ['a timestamp 6 minutes in the future', { timestamp: now() + 360 }, 'in the future'],
  ] as const)('refuses %s with 401, reaches no listener, and audits it', async (_name, options, reason) => {
    const provider = new FakeProvider(['alice@example.test']);
    h = await startSlackHarness({ provider });
    const auditBefore = (await h.postmaster.audit.read()).entries.length;
    const sent = await h.sender.command('U1', 'alice', options);
    expect(sent.status).toBe(401);
    await expect.poll(async () => (await h!.postmaster.audit.read()).entries.length).toBe(auditBefore + 1);
    const entry = (await h.postmaster.audit.read()).entries.at(-1)!;
    expect(entry).toMatchObject({ actor: 'unknown', action: 'refused.signature', result: 'refused' });
    expect(entry.detail).toContain(reason);
    expect(entry.detail).toContain('/slack/events');
    // Neither the signature nor the secret is kept anywhere.
    const everything = JSON.stringify((await h.postmaster.audit.read()).entries) + h.logLines.join('');
    expect(everything).not.toMatch(/v0=[0-9a-f]{64}/);
    expect(everything).not.toContain(SIGNING_SECRET);
    await new Promise((r) => setTimeout(r, 100));
    expect(h.api.calls).toEqual([]);
    expect(h.api.responsePosts).toEqual([]);
    expect(provider.calls).toEqual([]);
  });

  it('accepts a request signed 4 minutes ago or 4 minutes ahead (clock skew)', async () => {
    h = await startSlackHarness({ provider: new FakeProvider(['alice@example.test']) });
    for (const timestamp of [now() - 240, now() + 240]) {
      expect((await h.sender.command('U1', 'help', { timestamp })).status).toBe(200);
    }
    expect((await h.postmaster.audit.read()).entries.filter((e) => e.action === 'refused.signature')).toEqual([]);
  });

  it('refuses an interaction payload whose body was changed after signing', async () => {
    h = await startSlackHarness({ provider: new FakeProvider(['alice@example.test']) });
    const body = new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', actions: [{ action_id: 'approve_request', value: 'ob-1' }] }) }).toString();
    const ts = now();
    const signature = sign(SIGNING_SECRET, ts, body);
    const tampered = body.replace('ob-1', 'ob-2');
    const sent = await h.sender.post(tampered, 'application/x-www-form-urlencoded', { timestamp: ts, signature });
    expect(sent.status).toBe(401);
  });

  it('answers an unsigned SSL check, and nothing sent along with it reaches a listener', async () => {
    // Bolt's own signature check is off (the guard is the only one), so the guard strips the body.
    const provider = new FakeProvider(['alice@example.test']);
    h = await startSlackHarness({ provider });
    const approve = new URLSearchParams({
      ssl_check: '1',
      payload: JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, actions: [{ type: 'button', action_id: 'approve_request', value: 'ob-1' }] }),
    }).toString();
    const command = `ssl_check=1&${h.sender.commandBody('U1', 'alice').body}`;
    for (const body of [approve, command]) {
      expect((await h.sender.post(body, 'application/x-www-form-urlencoded', { signature: null })).status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(h.api.calls).toEqual([]);
    expect(h.api.responsePosts).toEqual([]);
    expect(provider.calls).toEqual([]);
    expect((await h.postmaster.audit.read()).entries).toEqual([]);
  });

  it('leaves other paths to Bolt (404), unaudited', async () => {
    h = await startSlackHarness({ provider: new FakeProvider(['alice@example.test']) });
    const response = await fetch(`http://127.0.0.1:${h.port}/elsewhere`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(404);
    expect((await h.postmaster.audit.read()).entries).toEqual([]);
  });

  it('computes the same verdict as Slack documents for its example request', () => {
    // The worked example from Slack's "Verifying requests" page.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const given = {
      signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
      timestamp: '1531420618',
      signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      body: Buffer.from(body),
    };
    expect(refusalReason({ ...given, nowMs: 1531420618_000 })).toBeUndefined();
    expect(refusalReason({ ...given, nowMs: 1531420618_000 + 301_000 })).toMatch(/stale/);
    expect(refusalReason({ ...given, nowMs: 1531420618_000 - 301_000 })).toMatch(/future/);
  });
});
