/**
 * /forward over signed HTTP against the real Bolt app, the real core and a real SQLite file: help,
 * the add modal (refusals inline on the right field with nothing stored or written, a valid rule
 * stored and confirmed), the listing's Remove button (carrying only the rule id, refused for a
 * non-admin) and /forward remove.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider } from '../support/slack-fake-provider.js';
import { startSlackHarness, type SlackHarness } from '../support/slack-harness.js';
import type { SentView } from '../support/slack-sender.js';

const ADDRESSES = ['alice@example.test', 'bob@example.test', 'carol@example.test', 'dave@example.test', 'erin@example.test', 'frank@example.test', 'gina@example.test', 'finance-ann@example.test', 'sales@example.test', 'director@example.test'];
const text = (value: unknown) => JSON.stringify(value);

describe('/forward', () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const start = async () => {
    const provider = new FakeProvider(ADDRESSES);
    // A loop waiting to happen: carol already forwards to alice.
    provider.mailboxes.get('carol@example.test')!.forwarding = { targets: ['alice@example.test'], keepCopy: true, managed: false };
    h = await startSlackHarness({ provider, env: { FORWARD_ALLOWED_DOMAINS: 'partner.test', SENSITIVE_MAILBOXES: 'finance-*@example.test' } });
    return { h, provider };
  };

  /** Runs a /forward command and returns what came back through its response_url. */
  const run = async (harness: SlackHarness, user: string, args: string) => {
    const sent = await harness.sender.command(user, args, { command: '/forward' });
    expect(sent.status).toBe(200);
    return (await harness.api.waitFor(() => harness.api.responsePosts.find((p) => harness.sender.responseUrl(Number(p.id)) === sent.responseUrl), `/forward ${args}`)).body;
  };

  const openAdd = async (harness: SlackHarness, user = 'U1', args = 'add'): Promise<SentView> => {
    const before = harness.api.callsTo('views.open').length;
    const sent = await harness.sender.command(user, args, { command: '/forward' });
    expect(sent.status).toBe(200);
    const opened = await harness.api.waitFor(() => harness.api.callsTo('views.open')[before], 'views.open');
    expect(opened.result).toBe('ok');
    return harness.view(String(opened.response!.view.id));
  };

  it('answers help (and no argument) with an ephemeral list of the commands', async () => {
    const { h } = await start();
    for (const args of ['', 'help']) {
      const body = await run(h, 'U9', args);
      expect(body.response_type).toBe('ephemeral');
      expect(text(body.blocks)).toContain('/forward list [mailbox]');
      expect(text(body.blocks)).toContain('/forward remove');
    }
  });

  it.each([
    ['a loop', { fw_mailbox: 'alice', fw_targets: 'carol@example.test' }, 'fw_targets', /forwarding would loop: alice@example.test -> carol@example.test -> alice@example.test/],
    ['a domain not on the allowlist', { fw_mailbox: 'alice', fw_targets: 'someone@gmail.com' }, 'fw_targets', /gmail\.com is not on FORWARD_ALLOWED_DOMAINS \(it allows partner\.test\)/],
    ['a sensitive mailbox forwarding out', { fw_mailbox: 'finance-ann', fw_targets: 'x@partner.test' }, 'fw_targets', /sensitive mailbox \(SENSITIVE_MAILBOXES\)/],
    ['more than 5 targets', { fw_mailbox: 'alice', fw_targets: 'bob dave erin frank gina x@partner.test' }, 'fw_targets', /at most 5 targets \(you gave 6\)/],
    ['a target that does not exist', { fw_mailbox: 'alice', fw_targets: 'nobody' }, 'fw_targets', /nobody@example\.test does not exist/],
    ['a mailbox that does not exist', { fw_mailbox: 'nobody', fw_targets: 'bob' }, 'fw_mailbox', /mailbox nobody@example\.test does not exist/],
    ['an expiry in the past', { fw_mailbox: 'alice', fw_targets: 'bob', fw_expires: '2020-01-31' }, 'fw_expires', /expiry 2020-01-31 is already past/],
  ])('refuses %s inline on the right field, and changes nothing', async (_name, values, block, message) => {
    const { h, provider } = await start();
    const view = await openAdd(h);
    expect(view.view.blocks.map((b: any) => b.block_id)).toEqual(['fw_mailbox', 'fw_targets', 'fw_keep_copy', 'fw_subject', 'fw_sender', 'fw_match', 'fw_expires', 'fw_owner', 'fw_reason']);

    const sent = await h.sender.submit('U1', view, values);
    expect(sent.status).toBe(200);
    expect(sent.json.response_action).toBe('errors');
    expect(Object.keys(sent.json.errors)).toEqual([block]);
    expect(sent.json.errors[block]).toMatch(message);

    expect(await h.postmaster.forwarding.listRules()).toEqual([]);
    expect(provider.calls).not.toContain('setRules');
    await expect.poll(async () => (await h.postmaster.audit.read()).entries.map((e) => [e.actor, e.action])).toContainEqual(['U1', 'refused.rule.add']);
  });

  it('stores a valid rule (keep copy on by default, conditions, expiry, owner) and confirms it ephemerally', async () => {
    const { h, provider } = await start();
    const view = await openAdd(h, 'U1', 'add erin');
    const sent = await h.sender.submit('U1', view, {
      fw_targets: 'sales\ndirector@example.test',
      fw_subject: '订单',
      fw_sender: 'vip@customer.test',
      fw_match: 'any',
      fw_expires: '2099-12-31',
      fw_owner: 'sales-ops',
      fw_reason: 'Orders go to sales <!channel>',
    });
    expect(sent.json.response_action).toBe('update');
    const [rule] = await h.postmaster.forwarding.listRules();
    expect(rule).toMatchObject({
      mailbox: 'erin@example.test',
      targets: ['sales@example.test', 'director@example.test'],
      keepCopy: true,
      conditions: { match: 'any', subjectContains: ['订单'], senderContains: ['vip@customer.test'] },
      expiresAt: '2099-12-31',
      owner: 'sales-ops',
      createdBy: 'U1',
    });
    expect(provider.calls).toContain('setRules');
    expect(text(sent.json.view)).toContain(rule!.id);
    const confirmation = await h.api.waitFor(() => h.api.responsePosts.find((p) => text(p.body).includes(rule!.id)), 'the confirmation');
    expect(confirmation.body.response_type).toBe('ephemeral');
    expect(text(confirmation.body.blocks)).toContain('subject contains \\"订单\\" or sender contains \\"vip@customer.test\\"');
  });

  it('lists rules with a Remove button carrying only the rule id; a non-admin is refused, a requester removes', async () => {
    const { h } = await start();
    const rule = await h.postmaster.forwarding.addRule('U2', { mailbox: 'alice', targets: ['bob@example.test'], reason: 'holiday' });

    const listed = await run(h, 'U1', 'list alice');
    const buttons = listed.blocks.flatMap((b: any) => (b.accessory ? [b.accessory] : []));
    expect(buttons.map((b: any) => [b.text.text, b.action_id, b.value])).toEqual([['Remove', 'forward_remove', rule.id]]);
    expect(text(listed.blocks)).toContain('alice@example.test');

    // Someone who is neither requester nor approver: refused, to them alone, and nothing changes.
    await h.sender.click('U9', { actionId: 'forward_remove', value: rule.id, channel: 'CGENERAL', messageTs: '1.1' });
    const refused = await h.api.waitForCall('chat.postEphemeral', (a) => a.user === 'U9');
    expect(refused.args.text).toMatch(/Not removed: U9 may not/);
    expect((await h.postmaster.forwarding.listRules()).map((r) => r.id)).toEqual([rule.id]);

    await h.sender.click('U1', { actionId: 'forward_remove', value: rule.id, channel: 'CGENERAL', messageTs: '1.1' });
    const removed = await h.api.waitForCall('chat.postEphemeral', (a) => a.user === 'U1');
    expect(removed.args.text).toContain(`Forwarding rule ${rule.id} removed`);
    expect(await h.postmaster.forwarding.listRules()).toEqual([]);
  });

  it('lists the forward an offboarding set next to the rules; its Remove button ends it early, for requesters and approvers only', async () => {
    const { h, provider } = await start();
    const request = await h.postmaster.offboarding.request('U1', { mailbox: 'dave', forward: { targets: ['erin@example.test'] }, autoReply: { subject: 'Away', body: 'Ask erin.' }, reason: 'left' });
    await h.postmaster.offboarding.approve('U2', request.id);
    const ran = await h.postmaster.offboarding.run(request.id);
    expect(ran.steps.find((s) => s.name === 'forward')?.status).toBe('done');

    const listed = await run(h, 'U1', 'list dave');
    expect(text(listed.blocks)).toContain('1 offboarding forward for dave');
    expect(text(listed.blocks)).toContain(`\`${request.id}\` *dave@example.test* → erin@example.test`);
    expect(text(listed.blocks)).toMatch(/set by offboarding `ob-[^`]+` · keeps a copy · until \d{4}-\d{2}-\d{2}/);
    expect(listed.blocks.flatMap((b: any) => (b.accessory ? [[b.accessory.action_id, b.accessory.value]] : []))).toEqual([['forward_remove', request.id]]);
    expect(text((await run(h, 'U1', 'list alice')).blocks)).toContain('No forwarding rules for alice');

    await h.sender.click('U9', { actionId: 'forward_remove', value: request.id, channel: 'CGENERAL', messageTs: '1.1' });
    expect((await h.api.waitForCall('chat.postEphemeral', (a) => a.user === 'U9')).args.text).toMatch(/Not removed: U9 may not/);
    expect(provider.mailboxes.get('dave@example.test')!.forwarding?.targets).toEqual(['erin@example.test']);

    await h.sender.click('U1', { actionId: 'forward_remove', value: request.id, channel: 'CGENERAL', messageTs: '1.1' });
    expect((await h.api.waitForCall('chat.postEphemeral', (a) => a.user === 'U1')).args.text).toContain(`Forward of offboarding ${request.id} ended: dave@example.test no longer forwards to erin@example.test`);
    expect(provider.mailboxes.get('dave@example.test')!.forwarding?.targets).toEqual([]);
    expect(provider.mailboxes.get('dave@example.test')!.autoReply).toBeDefined();
    expect(await h.postmaster.forwarding.listOffboardingForwards('dave')).toEqual([]);
    const log = (await h.postmaster.audit.read()).entries.map((e) => [e.actor, e.action]);
    expect(log).toContainEqual(['U9', 'refused.forward.end']);
    expect(log).toContainEqual(['U1', 'forward.ended']);
    expect(text((await run(h, 'U1', `remove ${request.id}`)).blocks)).toContain(`offboarding ${request.id} has no forward in effect`);
  });

  it('does not end an offboarding\'s forward while its run is still changing the same mailbox', async () => {
    const { h, provider } = await start();
    provider.delays.setAutoReply = 1_000;
    const request = await h.postmaster.offboarding.request('U1', { mailbox: 'dave', forward: { targets: ['erin@example.test'] }, autoReply: { subject: 'Away', body: 'Ask erin.' }, reason: 'left' });
    await h.postmaster.offboarding.approve('U2', request.id);
    const running = h.postmaster.offboarding.run(request.id);
    await expect.poll(async () => (await h.postmaster.offboarding.get(request.id)).steps.find((s) => s.name === 'forward')?.status).toBe('done');
    expect(text((await run(h, 'U1', `remove ${request.id}`)).blocks)).toContain(`offboarding ${request.id} is running`);
    expect(provider.mailboxes.get('dave@example.test')!.forwarding?.targets).toEqual(['erin@example.test']);
    await running;
    expect(text((await run(h, 'U1', `remove ${request.id}`)).blocks)).toContain('Ended before its end date');
  });

  it('/forward remove <id> removes; list and remove are refused for a non-admin', async () => {
    const { h } = await start();
    const rule = await h.postmaster.forwarding.addRule('U1', { mailbox: 'alice', targets: ['bob@example.test'] });
    expect(text((await run(h, 'U9', 'list')).blocks)).toMatch(/Not allowed/);
    expect(text((await run(h, 'U9', `remove ${rule.id}`)).blocks)).toMatch(/Not allowed/);
    expect(await h.postmaster.forwarding.listRules()).toHaveLength(1);
    expect(text((await run(h, 'U2', `remove ${rule.id}`)).blocks)).toContain('Removed');
    expect(await h.postmaster.forwarding.listRules()).toEqual([]);
    expect(text((await run(h, 'U2', `remove ${rule.id}`)).blocks)).toContain(`no forwarding rule ${rule.id}`);
  });
});
