/**
 * Starting the Slack front end: a bad token or an unreachable Slack is one clear SlackStartError
 * (main prints it as one line and exits 1), never an unhandled rejection; the real token check
 * (auth.test) runs when no bot identity is given.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type SlackConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { composePostmaster, type Postmaster } from '../../src/compose.js';
import { createSlackApp, SlackStartError, type SlackApp } from '../../src/slack/app.js';
import { FakeProvider } from '../support/slack-fake-provider.js';
import { BOT_TOKEN, fakeProviderEnv, SIGNING_SECRET } from '../support/slack-harness.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';

describe('starting the Slack front end', () => {
  let api: SlackApi;
  let postmaster: Postmaster;
  let slack: SlackApp | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    api = await startSlackApi(BOT_TOKEN);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-slack-start-'));
    postmaster = await composePostmaster(loadConfig(fakeProviderEnv(dir)), createLogger({ level: 'silent' }), { provider: new FakeProvider([]) });
  });
  afterEach(async () => {
    await slack?.stop();
    slack = undefined;
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await api.close();
    await postmaster.close();
  });

  const config = (overrides: Partial<SlackConfig> = {}): SlackConfig => ({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: api.url,
    PORT: 0,
    APPROVALS_CHANNEL: 'CAPPROVALS',
    AUDIT_CHANNEL: 'CAUDIT',
    ...overrides,
  });
  const build = (overrides: Partial<SlackConfig> = {}) =>
    createSlackApp({ postmaster, slack: config(overrides), logger: createLogger({ level: 'silent' }), host: '127.0.0.1', port: 0, clientOptions: { retryConfig: { retries: 0 } } });

  it('checks the token with auth.test and starts on a free port', async () => {
    slack = build();
    const started = await slack.start();
    expect(started?.port).toBeGreaterThan(0);
    expect(api.callsTo('auth.test').at(-1)?.result).toBe('ok');
  });

  it('turns a bad bot token into one clear error', async () => {
    slack = build({ SLACK_BOT_TOKEN: 'xoxb-revoked' });
    const error = await slack.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackStartError);
    expect((error as Error).message).toMatch(/^Slack refused SLACK_BOT_TOKEN \(invalid_auth\): copy the Bot User OAuth Token/);
    expect((error as Error).message).not.toContain('xoxb-revoked');
    expect(unhandled).toEqual([]);
  });

  it('turns an unreachable Slack into one clear error', async () => {
    slack = build({ SLACK_API_URL: 'http://127.0.0.1:9/api/' });
    const error = await slack.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackStartError);
    expect((error as Error).message).toMatch(/^could not reach Slack at http:\/\/127.0.0.1:9\/api\/ to check SLACK_BOT_TOKEN/);
    expect(unhandled).toEqual([]);
  });

  it('turns a bad app token into one clear error in Socket Mode', async () => {
    slack = build({ SLACK_APP_TOKEN: 'xapp-1-bad' });
    const error = await slack.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackStartError);
    expect((error as Error).message).toMatch(/SLACK_APP_TOKEN/);
    expect((error as Error).message).not.toContain('xapp-1-bad');
    expect(api.callsTo('apps.connections.open').length).toBeGreaterThan(0);
    expect(unhandled).toEqual([]);
  });

  it('reports a port already in use as one clear error', async () => {
    slack = build();
    const { port } = (await slack.start())!;
    const second = createSlackApp({ postmaster, slack: config(), logger: createLogger({ level: 'silent' }), host: '127.0.0.1', port, clientOptions: { retryConfig: { retries: 0 } } });
    const error = await second.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackStartError);
    expect((error as Error).message).toMatch(new RegExp(`could not listen on port ${port}: .*EADDRINUSE`));
  });
});
