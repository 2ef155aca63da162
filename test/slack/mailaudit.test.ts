/**
 * /mailaudit: acked at once, "running" straight away, then the report (the weekly Block Kit) to the
 * caller alone through the command's response_url; refused for someone who is neither requester
 * nor approver; and not recorded as next week's baseline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider } from '../support/slack-fake-provider.js';
import { AUDIT, startSlackHarness, type SlackHarness } from '../support/slack-harness.js';

const text = (value: unknown) => JSON.stringify(value);

describe('/mailaudit', () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('acks at once, says it is running, then posts the report to the caller only', async () => {
    const provider = new FakeProvider(['alice@example.test', 'bob@example.test', 'dave@example.test']);
    provider.mailboxes.get('dave@example.test')!.forwarding = { targets: ['dave.private@gmail.com'], keepCopy: true, managed: false };
    // Reading the domain is slow: the ack must not wait for it.
    provider.delays.readForwarding = 300;
    h = await startSlackHarness({ provider });
    const rule = await h.postmaster.forwarding.addRule('U1', { mailbox: 'alice', targets: ['bob@example.test'] });

    const sent = await h.sender.command('U1', '', { command: '/mailaudit' });
    expect(sent.status).toBe(200);
    const mine = () => h!.api.responsePosts.filter((p) => h!.sender.responseUrl(Number(p.id)) === sent.responseUrl);
    // The ack came back while the domain was still being read: the report (second post) is not there yet.
    expect(mine().length).toBeLessThan(2);
    await h.api.waitFor(() => mine().length >= 2, 'the report');
    const [running, report] = mine();
    expect(running!.body.response_type).toBe('ephemeral');
    expect(text(running!.body.blocks)).toContain('Running the forwarding audit');
    expect(report!.body.response_type).toBe('ephemeral');
    const blocks = text(report!.body.blocks);
    expect(blocks).toContain('Forwarding audit');
    expect(blocks).toContain('dave.private@gmail.com');
    expect(blocks).toContain('on demand');
    expect(report!.body.blocks.flatMap((b: any) => (b.accessory ? [b.accessory.value] : []))).toContain(rule.id);
    // Only to the caller: nothing in the channels, and no baseline recorded for next week.
    expect(h.api.callsTo('chat.postMessage')).toEqual([]);
    expect(h.api.messagesIn(AUDIT)).toEqual([]);
    expect((await h.postmaster.forwarding.runAudit()).change).toBeUndefined();
  });

  it('refuses someone who is neither requester nor approver, and runs nothing', async () => {
    const provider = new FakeProvider(['alice@example.test']);
    h = await startSlackHarness({ provider });
    const sent = await h.sender.command('U9', '', { command: '/mailaudit' });
    const post = await h.api.waitFor(() => h!.api.responsePosts.find((p) => h!.sender.responseUrl(Number(p.id)) === sent.responseUrl), 'the refusal');
    expect(text(post.body.blocks)).toMatch(/Not allowed/);
    await h.slack.idle();
    expect(provider.calls).not.toContain('readForwarding');
  });
});
