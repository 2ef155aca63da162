/**
 * Submitting the /offboard modal: inline errors on the right field (response_action: errors) for
 * each way a plan is refused, with nothing stored; and on success the approval message, the
 * ephemeral confirmation and the remembered message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider } from '../support/slack-fake-provider.js';
import { APPROVALS, startSlackHarness, type SlackHarness } from '../support/slack-harness.js';
import { blockForError } from '../../src/slack/offboard-form.js';

const ADDRESSES = ['alice@example.test', 'bob@example.test', 'carol@example.test', 'dave@example.test', 'erin@example.test', 'frank@example.test', 'gina@example.test'];

describe('the /offboard modal', () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const start = async (provider = new FakeProvider(ADDRESSES), submitBudgetMs?: number) => {
    h = await startSlackHarness({ provider, ...(submitBudgetMs !== undefined ? { submitBudgetMs } : {}) });
    return { h, provider };
  };

  it.each([
    ['a bad address', { targets: 'bob@example.test\nnot@an@address' }, 'targets', /is not an email address/],
    ['more than 5 targets', { targets: 'bob carol dave erin frank gina' }, 'targets', /at most 5 targets \(you gave 6\)/],
    ['a self-forward', { targets: 'alice@example.test' }, 'targets', /cannot forward to itself/],
    ['delete without a backup', { steps: ['disable', 'revoke'], delete_after: '30' }, 'delete_after', /delete needs a backup first/],
    ['a target that would loop', { targets: 'carol@example.test' }, 'targets', /forwarding would loop: alice@example.test -> carol@example.test -> alice@example.test/],
    ['a target that does not exist', { targets: 'nobody@example.test' }, 'targets', /forward target nobody@example.test does not exist/],
    ['too many redirects for the server', { targets: 'bob dave erin' }, 'targets', /limit of 2 redirects per message \(MAXREDIRECTS\)/],
    ['an effective time in the past', { effective: Math.floor(Date.now() / 1000) - 3600 }, 'effective', /in the past/],
  ])('refuses %s inline on the right field, and stores nothing', async (_name, values, block, message) => {
    const provider = new FakeProvider(ADDRESSES);
    provider.mailboxes.get('carol@example.test')!.forwarding = { targets: ['alice@example.test'], keepCopy: true, managed: false };
    provider.maxRedirects = 2;
    const { h } = await start(provider);
    const view = await h.openForm('U1', 'alice');
    const auditBefore = (await h.postmaster.audit.read()).entries.length;

    const sent = await h.sender.submit('U1', view, values);
    expect(sent.status).toBe(200);
    expect(sent.json.response_action).toBe('errors');
    expect(Object.keys(sent.json.errors)).toEqual([block]);
    expect(sent.json.errors[block]).toMatch(message);

    expect(await h.postmaster.offboarding.list()).toEqual([]);
    expect(provider.changes).toEqual([]);
    expect(h.api.callsTo('chat.postMessage')).toHaveLength(0);
    // The refusal is audited (after the ack, so wait for it).
    await expect.poll(async () => (await h!.postmaster.audit.read()).entries.slice(auditBefore).map((e) => [e.actor, e.action])).toEqual([['U1', 'refused.request']]);
  });

  it("maps the core's own delete-without-backup refusal to the delete field", async () => {
    const { h } = await start();
    const error = await h.postmaster.offboarding.checkPlan({ mailbox: 'alice', backup: false, deleteAfterDays: 5 }).catch((e: unknown) => e);
    expect(blockForError(error)).toBe('delete_after');
  });

  it('on success: posts the plan to the approvals channel with Approve/Reject carrying only the id, and confirms to the requester', async () => {
    const { h, provider } = await start(new FakeProvider(ADDRESSES, { without: ['setAutoReply'] }));
    const view = await h.openForm('U1', 'alice');
    const sent = await h.sender.submit('U1', view, { successor: 'bob@example.test', targets: 'bob@example.test, carol', reason: 'Left the company <!channel>' });
    expect(sent.json.response_action).toBe('update');
    const [request] = await h.postmaster.offboarding.list();
    expect(request).toMatchObject({ mailbox: 'alice@example.test', state: 'pending_approval', requestedBy: 'U1' });
    expect(JSON.stringify(sent.json.view)).toContain(request!.id);

    const posted = await h.api.waitForCall('chat.postMessage', (a) => a.channel === APPROVALS);
    const blocks = JSON.stringify(posted.args.blocks);
    expect(blocks).toContain('Back up every folder');
    expect(blocks).toContain('Forward new mail to bob@example.test, carol@example.test, keeping a copy until');
    expect(blocks).toContain('Manual task'); // auto-reply: this provider cannot do it
    expect(blocks).toContain('Disable login');
    expect(blocks).toContain('&lt;!channel&gt;'); // a typed mention is escaped, pinging nobody
    expect(posted.args.text).toContain('<@U2> <@U3>');
    const buttons = posted.args.blocks.flatMap((b: any) => (b.type === 'actions' ? b.elements : []));
    expect(buttons.map((b: any) => [b.text.text, b.value])).toEqual([['Approve', request!.id], ['Reject', request!.id]]);

    // The template was left as generated, so the auto-reply names the successor actually chosen.
    expect(request!.plan.autoReply?.body).toContain('contact bob@example.test');
    expect(request!.plan.autoReply?.body).toContain('bob@example.test，您的邮件已转交');
    expect(request!.plan.forward?.targets).toEqual(['bob@example.test', 'carol@example.test']);

    const confirmation = await h.api.waitFor(() => h.api.responsePosts.find((p) => JSON.stringify(p.body).includes(request!.id)), 'the confirmation');
    expect(confirmation.body.response_type).toBe('ephemeral');
    expect(await h.slack.idle()).toBeUndefined();
    expect(provider.changes).toEqual([]);
  });

  it('acknowledges a slow check in time, then shows the outcome in the modal', async () => {
    const provider = new FakeProvider(ADDRESSES);
    const { h } = await start(provider, 300);
    const view = await h.openForm('U1', 'alice');
    provider.delays.getMailbox = 1500;
    const answeredBefore = provider.answeredAt.length;
    const sent = await h.sender.submit('U1', view, { targets: 'bob' });
    // Acknowledged before the slow mail server answered the check.
    expect(provider.answeredAt.length).toBe(answeredBefore);
    expect(JSON.stringify(sent.json.view)).toContain('Checking the plan');
    const update = await h.api.waitForCall('views.update', (a) => a.view_id === view.id && JSON.stringify(a.view).includes('waiting for approval'), 1, 10_000);
    expect(update).toBeDefined();
    await h.api.waitForCall('chat.postMessage', (a) => a.channel === APPROVALS, 1, 10_000);
  });

  it('rewrites the auto-reply template for the successor when Enter is pressed, unless it was edited', async () => {
    const { h } = await start();
    const view = await h.openForm('U1', 'alice');
    await h.sender.viewAction('U1', view, 'successor_entered', 'successor', { successor: 'dave@example.test' });
    const update = await h.api.waitForCall('views.update', (a) => JSON.stringify(a.view).includes('dave@example.test'));
    const body = update.args.view.blocks.find((b: any) => String(b.block_id).startsWith('auto_reply_body'));
    expect(body.block_id).toBe('auto_reply_body_v1');
    expect(body.element.initial_value).toContain('Please contact dave@example.test');

    const edited = h.view(view.id);
    const before = h.api.callsTo('views.update').length;
    await h.sender.viewAction('U1', edited, 'successor_entered', 'successor', { successor: 'erin@example.test', auto_reply_body: 'My own words.' });
    await new Promise((r) => setTimeout(r, 200));
    expect(h.api.callsTo('views.update')).toHaveLength(before);
  });
});
