/**
 * One real Slack front end for a test: the composed Postmaster (real core, real SQLite file), the
 * real Bolt app listening on 127.0.0.1 over HTTP, the local Web API recorder it talks to, and a
 * sender that signs requests as Slack does.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type SlackConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { capturedLogger } from './captured-logger.js';
import { composePostmaster, type Postmaster } from '../../src/compose.js';
import type { MailProvider } from '../../src/core/provider.js';
import { createSlackApp, type SlackApp } from '../../src/slack/app.js';
import { startSlackApi, type SlackApi } from './slack-api.js';
import { SlackSender, type SentView } from './slack-sender.js';
import { baseTestEnv } from './postmaster.js';

export const BOT_TOKEN = 'xoxb-test-bot-token';
export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const APPROVALS = 'CAPPROVALS';
export const AUDIT = 'CAUDIT';

/** Settings for a Postmaster whose provider the test supplies (the DOVECOT_* values are never used). */
export function fakeProviderEnv(storeDir: string): Record<string, string> {
  return {
    ...baseTestEnv(storeDir),
    DOVECOT_IMAP_URL: 'imap://127.0.0.1:1',
    DOVECOT_SIEVE_URL: 'sieve://127.0.0.1:1',
    DOVECOT_ADMIN_USER: 'unused',
    DOVECOT_ADMIN_PASSWORD: 'unused',
    DOVECOT_DOVEADM_URL: 'http://127.0.0.1:1',
    DOVECOT_DOVEADM_KEY: 'unused',
    DOVECOT_PASSWD_FILE: '/nonexistent',
  };
}

export interface SlackHarness {
  api: SlackApi;
  sender: SlackSender;
  postmaster: Postmaster;
  slack: SlackApp;
  port: number;
  /** The Slack settings the app runs with (they point at the recorder). */
  slackConfig: SlackConfig;
  logger: Logger;
  logLines: string[];
  /** The view the app last sent for this views.open (after its updates). */
  view(viewId: string): SentView;
  /** Runs /offboard and waits until the modal shows the form (or an error view). */
  openForm(user: string, text: string): Promise<SentView>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  provider?: MailProvider;
  /** A Postmaster built by the test (the Dovecot flow); closed by the harness. */
  postmaster?: Postmaster;
  submitBudgetMs?: number;
  progressIntervalMs?: number;
  /** Extra settings for the Postmaster the harness builds (FORWARD_ALLOWED_DOMAINS, ...). */
  env?: Record<string, string>;
}

export async function startSlackHarness(options: HarnessOptions = {}): Promise<SlackHarness> {
  const { logger, lines: logLines } = capturedLogger();
  let postmaster = options.postmaster;
  if (!postmaster) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'postmaster-slack-'));
    postmaster = await composePostmaster(loadConfig({ ...fakeProviderEnv(dir), ...options.env }), logger, options.provider ? { provider: options.provider } : {});
  }
  const api = await startSlackApi(BOT_TOKEN);
  const slackConfig: SlackConfig = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: api.url,
    PORT: 0,
    APPROVALS_CHANNEL: APPROVALS,
    AUDIT_CHANNEL: AUDIT,
  };
  const slack = createSlackApp({
    postmaster,
    slack: slackConfig,
    logger,
    host: '127.0.0.1',
    port: 0,
    botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
    clientOptions: { retryConfig: { retries: 0 } },
    ...(options.submitBudgetMs !== undefined ? { submitBudgetMs: options.submitBudgetMs } : {}),
    progressIntervalMs: options.progressIntervalMs ?? 50,
  });
  const started = await slack.start();
  const port = started!.port;
  const sender = new SlackSender(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, (n) => api.responseUrl(n));

  const view = (viewId: string): SentView => {
    const stored = api.views.get(viewId);
    if (!stored) throw new Error(`no view ${viewId}`);
    return { id: viewId, hash: stored.hash, view: stored.view };
  };

  return {
    api,
    sender,
    postmaster,
    slack,
    port,
    slackConfig,
    logger,
    logLines,
    view,
    async openForm(user, text) {
      const before = api.callsTo('views.open').length;
      const sent = await sender.command(user, text);
      if (sent.status !== 200) throw new Error(`/offboard ${text} got HTTP ${sent.status}`);
      const opened = await api.waitFor(() => api.callsTo('views.open')[before], 'views.open');
      if (opened.result !== 'ok') throw new Error(`views.open answered ${opened.result}`);
      const viewId = String(opened.response!.view.id);
      await api.waitForCall('views.update', (a) => a.view_id === viewId);
      return view(viewId);
    },
    async close() {
      await slack.stop();
      await slack.idle();
      await api.close();
      await postmaster!.close();
    },
  };
}
