/**
 * `/offboard` over HTTP against the real Bolt app: help, unknown users and mailboxes, who may use
 * it, status and list, and that the ack never waits for the mail server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider } from '../support/slack-fake-provider.js';
import { startSlackHarness, type SlackHarness } from '../support/slack-harness.js';

const ADDRESSES = ['alice@example.test', 'bob@example.test', 'carol@example.test'];

describe('/offboard', () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const start = async (provider = new FakeProvider(ADDRESSES)) => {
    h = await startSlackHarness({ provider });
    return { h, provider };
  };

  it('answers help ephemerally, with no argument or with "help", and opens no modal', async () => {
    const { h } = await start();
    for (const text of ['', 'help']) {
      const sent = await h.sender.command('U1', text);
      expect(sent.status).toBe(200);
    }
    await h.api.waitFor(() => h.api.responsePosts.length >= 2, 'two ephemeral replies');
    for (const post of h.api.responsePosts) {
      expect(post.body.response_type).toBe('ephemeral');
      expect(JSON.stringify(post.body.blocks)).toContain('/offboard status');
    }
    expect(h.api.callsTo('views.open')).toHaveLength(0);
  });

  it('opens the modal loading at once, then shows the mailbox state once the mail server answered', async () => {
    const { h } = await start();
    const view = await h.openForm('U1', 'alice');
    const opened = h.api.callsTo('views.open')[0]!;
    expect(JSON.stringify(opened.args.view)).toContain('Looking up');
    expect(view.view.callback_id).toBe('offboard_submit');
    const state = JSON.stringify(view.view.blocks[0]);
    expect(state).toContain('alice@example.test');
    expect(state).toContain('active');
    expect(state).toContain('12,408 messages, 1.9 GB');
    expect(state).toContain('no forwarding');
    // The auto-reply is prefilled with the bilingual template.
    expect(JSON.stringify(view.view.blocks)).toContain('感谢您的来信');
  });

  it('acks before the mail server answers, when the mail server takes 2 s', async () => {
    const provider = new FakeProvider(ADDRESSES);
    provider.delays.getMailbox = 2000;
    const { h } = await start(provider);
    const sent = await h.sender.command('U1', 'alice');
    expect(sent.status).toBe(200);
    expect(provider.answeredAt).toHaveLength(0); // the ack is back, the mail server has not answered
    await h.api.waitForCall('views.update', () => true, 1, 10_000);
    const opened = h.api.callsTo('views.open')[0]!;
    expect(sent.ackAt).toBeLessThan(provider.answeredAt[0]!);
    // The loading modal was open before the mail server answered, within the trigger's 3 s.
    expect(opened.at).toBeLessThan(provider.answeredAt[0]!);
  });

  it('resolves @alice through users.info to the profile email', async () => {
    const { h } = await start();
    h.api.addUser({ id: 'UALICE', name: 'alice', email: 'alice@example.test' });
    const view = await h.openForm('U1', '<@UALICE|alice>');
    expect(h.api.callsTo('users.info')[0]!.args.user).toBe('UALICE');
    expect(JSON.stringify(view.view.blocks[0])).toContain('alice@example.test');
    expect(JSON.parse(view.view.private_metadata).mailbox).toBe('alice@example.test');
  });

  it('tells an unknown Slack user or mailbox in the modal, and nothing is requested', async () => {
    const { h, provider } = await start();
    for (const [text, expected] of [
      ['<@UNOBODY|nobody>', 'there is no Slack user'],
      ['@nobody', 'there is no Slack user @nobody'],
      ['zed', 'mailbox zed@example.test does not exist'],
      ['not an@address@x', 'One mailbox at a time'],
    ] as const) {
      if (text.includes(' ')) {
        await h.sender.command('U1', text);
        await h.api.waitFor(() => h.api.responsePosts.find((p) => JSON.stringify(p.body).includes(expected)), expected);
        continue;
      }
      const view = await h.openForm('U1', text);
      expect(view.view.callback_id).toBeUndefined();
      expect(view.view.submit).toBeUndefined();
      expect(JSON.stringify(view.view.blocks)).toContain(expected);
    }
    expect(await h.postmaster.offboarding.list()).toEqual([]);
    expect(provider.changes).toEqual([]);
  });

  it('says in the modal that a mailbox already has an open offboarding, and requests nothing more', async () => {
    const { h } = await start();
    const request = await h.postmaster.offboarding.request('U1', { mailbox: 'alice', reason: 'left' });
    const view = await h.openForm('U1', 'alice');
    expect(view.view.submit).toBeUndefined();
    expect(JSON.stringify(view.view.blocks)).toContain(`alice@example.test already has an open offboarding, ${request.id} (pending approval)`);
    expect((await h.postmaster.offboarding.list()).map((r) => r.id)).toEqual([request.id]);
  });

  it('gives one request, not two, when two people ask to offboard one mailbox at once', async () => {
    const { h, provider } = await start();
    provider.delays.getMailbox = 200;
    const [first, second] = await Promise.allSettled([
      h.postmaster.offboarding.request('U1', { mailbox: 'bob', reason: 'left' }),
      h.postmaster.offboarding.request('U2', { mailbox: 'bob', reason: 'left' }),
    ]);
    expect([first.status, second.status]).toEqual(['fulfilled', 'rejected']);
    expect(String((second as PromiseRejectedResult).reason)).toMatch(/bob@example\.test already has an open offboarding/);
    expect(await h.postmaster.offboarding.list()).toHaveLength(1);
  });

  it('refuses someone who is neither requester nor approver, ephemerally and audited', async () => {
    const { h } = await start();
    await h.sender.command('U9', 'alice');
    const post = await h.api.waitFor(() => h.api.responsePosts[0], 'the refusal');
    expect(post.body.response_type).toBe('ephemeral');
    expect(post.body.text).toMatch(/Not allowed: U9 may not request offboardings/);
    expect(h.api.callsTo('views.open')).toHaveLength(0);
    const { entries } = await h.postmaster.audit.read();
    expect(entries.at(-1)).toMatchObject({ actor: 'U9', action: 'refused.offboard', result: 'refused' });
  });

  it('answers status and list ephemerally', async () => {
    const { h } = await start();
    const request = await h.postmaster.offboarding.request('U1', { mailbox: 'alice', reason: 'left' });
    await h.sender.command('U2', `status ${request.id}`);
    await h.sender.command('U2', 'list');
    await h.sender.command('U2', 'status ob-nope');
    await h.api.waitFor(() => h.api.responsePosts.length >= 3, 'three replies');
    const [status, list, missing] = h.api.responsePosts.sort((a, b) => Number(a.id) - Number(b.id)).map((p) => JSON.stringify(p.body));
    expect(status).toContain('waiting for approval');
    expect(status).toContain('Backup');
    expect(list).toContain(request.id);
    expect(missing).toContain('no request ob-nope');
  });
});
