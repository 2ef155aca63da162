/**
 * Builds the Slack front end: a Bolt app over the composed Postmaster. It holds no logic of its
 * own; listeners/ does the work, one listener per file.
 *
 * - Socket Mode when SLACK_APP_TOKEN is set (no public URL needed), otherwise the HTTP receiver on
 *   PORT, where our request guard is the one signature check (see request-guard.ts for why Bolt's
 *   is off).
 * - `deferInitialization` + `init()` inside start(): a bad token becomes one SlackStartError with
 *   a clear message, never an unhandled rejection from the constructor.
 * - Progress of every run in the process goes to Slack through ThreadProgress, subscribed to the
 *   run-event hub between start() and stop().
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, webApi } from '@slack/bolt';
import type { Postmaster } from '../compose.js';
import type { SlackConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { AckGate } from './ack-gate.js';
import { Background } from './background.js';
import { boltLogger } from './bolt-logger.js';
import { policyFrom, slackError, type SlackContext } from './context.js';
import { registerListeners } from './listeners/index.js';
import { RequestMessages } from './message-store.js';
import { guardRequests } from './request-guard.js';
import { ThreadProgress } from './thread-progress.js';

export interface SlackAppOptions {
  postmaster: Pick<Postmaster, 'config' | 'offboarding' | 'forwarding' | 'audit' | 'store' | 'runEvents'>;
  slack: SlackConfig;
  logger: Logger;
  /** HTTP mode: interface to listen on (default all); tests use 127.0.0.1. */
  host?: string;
  /** HTTP mode: overrides slack.PORT (0 picks a free port). */
  port?: number;
  /** Who the bot is, so start() does not ask Slack (auth.test); tests set it. */
  botIdentity?: { botId: string; botUserId: string };
  /** Merged into the Web API client's options (tests: retryConfig { retries: 0 }). */
  clientOptions?: webApi.WebClientOptions;
  /** How long a modal submission waits for the core before it is acknowledged anyway. Default 2.2 s. */
  submitBudgetMs?: number;
  /** Least time between two progress edits of one step's thread message. Default 3 s. */
  progressIntervalMs?: number;
}

export interface SlackApp {
  app: App;
  /** Resolves with the HTTP port, or undefined in Socket Mode; rejects with SlackStartError. */
  start(): Promise<{ port: number } | undefined>;
  stop(): Promise<void>;
  /** Resolves once the background work (runs started from Slack, progress posts) has settled. */
  idle(): Promise<void>;
}

/** Why the Slack front end could not start, in one line a person can act on. */
export class SlackStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackStartError';
  }
}

const TOKEN_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_allowed_token_type']);

function explainStartError(error: unknown, what: 'SLACK_BOT_TOKEN' | 'SLACK_APP_TOKEN', apiUrl: string): string {
  const code = (error as { data?: { error?: string } })?.data?.error;
  if (code && TOKEN_ERRORS.has(code)) {
    return what === 'SLACK_BOT_TOKEN'
      ? `Slack refused SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page, and reinstall the app if it was revoked`
      : `Slack refused SLACK_APP_TOKEN (${code}): create an app-level token with the connections:write scope on the app's Basic Information page`;
  }
  if (code) return `Slack answered ${code} when checking ${what}`;
  return `could not reach Slack at ${apiUrl} to check ${what}: ${slackError(error)}`;
}

/**
 * The one line main prints for a rejection nothing else handled. @slack/socket-mode reconnects on
 * its own and does not catch a refused app token (a revoked or rotated xapp- token) when it does:
 * that is the case worth a clear sentence; anything else is named as unexpected.
 */
export function fatalMessage(reason: unknown): string {
  const code = (reason as { data?: { error?: string } })?.data?.error;
  if (code && TOKEN_ERRORS.has(code)) return `${explainStartError(reason, 'SLACK_APP_TOKEN', '')} (while reconnecting to Slack)`;
  return `unexpected error: ${reason instanceof Error ? reason.message : String(reason)}`;
}

export function createSlackApp(options: SlackAppOptions): SlackApp {
  const { postmaster, slack, logger } = options;
  const log = logger.child({ component: 'slack' });
  const apiUrl = slack.SLACK_API_URL ? slack.SLACK_API_URL.replace(/\/?$/, '/') : 'https://slack.com/api/';
  const clientOptions: webApi.WebClientOptions = {
    slackApiUrl: apiUrl,
    // The default retries for about 30 minutes; a progress message is not worth that.
    retryConfig: webApi.retryPolicies.fiveRetriesInFiveMinutes,
    ...options.clientOptions,
  };
  const socketMode = Boolean(slack.SLACK_APP_TOKEN);
  const background = new Background(log);
  const messages = new RequestMessages(postmaster.store);
  const gate = new AckGate();

  const ctx: SlackContext = {
    postmaster,
    slack,
    logger: log,
    policy: policyFrom(postmaster.config),
    messages,
    background,
    submitBudgetMs: options.submitBudgetMs ?? 2200,
    responseOrigins: ['https://hooks.slack.com', new URL(apiUrl).origin],
    // At most 1 s: a command's trigger_id must still be good for views.open afterwards.
    acksFirst: () => gate.clear(1000),
  };

  const refused = (reason: string, detail: Record<string, unknown>) => {
    log.warn({ reason, ...detail }, 'refused a Slack request');
    postmaster.audit
      .append({ actor: 'unknown', action: 'refused.signature', result: 'refused', detail: `${reason} (${String(detail.path)} from ${String(detail.remoteAddress ?? 'unknown')})` })
      .catch((error: unknown) => log.error({ err: error }, 'could not audit a refused request'));
  };

  let receiver: HTTPReceiver | undefined;
  if (!socketMode) {
    // One list for both: every path Bolt dispatches from must be a path the guard checks.
    const endpoints = ['/slack/events'];
    receiver = new HTTPReceiver({
      signingSecret: slack.SLACK_SIGNING_SECRET,
      endpoints,
      // Only ever off together with guardRequests below, which checks every request instead.
      signatureVerification: false,
      logger: boltLogger(log),
      port: options.port ?? slack.PORT,
    });
    receiver.requestListener = guardRequests(receiver.requestListener, {
      signingSecret: slack.SLACK_SIGNING_SECRET,
      endpoints,
      onRefused: ({ reason, ...detail }) => refused(reason, detail),
      onError: (error) => log.error({ err: error }, 'the Slack request listener failed'),
      gate,
    });
  }

  const app = new App({
    token: slack.SLACK_BOT_TOKEN,
    ...(socketMode ? { socketMode: true, appToken: slack.SLACK_APP_TOKEN } : { receiver }),
    logger: boltLogger(log),
    clientOptions,
    // No listener keeps conversation state, and Bolt's default store costs every request an Error.
    convoStore: false,
    deferInitialization: true,
    ...(options.botIdentity ? { tokenVerificationEnabled: false, botId: options.botIdentity.botId, botUserId: options.botIdentity.botUserId } : {}),
  });
  registerListeners(app, ctx);
  app.error(async (error) => {
    log.error({ err: error, code: error.code }, 'a Slack listener failed');
  });

  // Its own client: a rate-limited progress post pauses this client's queue, not the listeners'.
  const progress = new ThreadProgress({
    client: new webApi.WebClient(slack.SLACK_BOT_TOKEN, { ...clientOptions, logger: boltLogger(log) }),
    messages,
    logger: log,
    auditChannel: slack.AUDIT_CHANNEL,
    approvers: postmaster.config.POSTMASTER_APPROVERS,
    intervalMs: options.progressIntervalMs ?? 3000,
  });
  let unsubscribe: (() => void) | undefined;
  let started = false;

  return {
    app,
    async start() {
      try {
        await app.init();
      } catch (error) {
        throw new SlackStartError(explainStartError(error, 'SLACK_BOT_TOKEN', apiUrl), { cause: error });
      }
      unsubscribe = postmaster.runEvents.subscribe(progress.observer);
      try {
        if (socketMode) {
          await app.start();
          started = true;
          log.info('Slack front end connected (Socket Mode)');
          return undefined;
        }
        const listen = options.host ? { port: options.port ?? slack.PORT, host: options.host } : { port: options.port ?? slack.PORT };
        const server = (await app.start(listen)) as Server;
        started = true;
        const port = (server.address() as AddressInfo).port;
        log.info({ port }, 'Slack front end listening on /slack/events');
        return { port };
      } catch (error) {
        unsubscribe?.();
        if (socketMode) throw new SlackStartError(explainStartError(error, 'SLACK_APP_TOKEN', apiUrl), { cause: error });
        throw new SlackStartError(`could not listen on port ${options.port ?? slack.PORT}: ${describe(error)}`, { cause: error });
      }
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      if (started) {
        started = false;
        await app.stop().catch((error: unknown) => log.warn({ err: error }, 'stopping the Slack receiver failed'));
      }
      await progress.idle();
    },
    async idle() {
      do {
        await background.idle();
        await progress.idle();
      } while (background.busy);
    },
  };
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
