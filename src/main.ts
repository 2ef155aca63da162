/**
 * The long-running process: config -> logger -> store -> provider -> core -> scheduler and front
 * ends. Stops cleanly on SIGINT/SIGTERM.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, loadDotEnv } from './config.js';
import { createLogger } from './logger.js';
import { composePostmaster } from './compose.js';
import { startSweepJob } from './scheduler/sweep-job.js';
import { startSlotJob, type SlotState } from './scheduler/slot-job.js';
import { systemClock } from './core/ports.js';
import { createSlackApp, fatalMessage, SlackStartError, type SlackApp } from './slack/app.js';
import { createSlackReporter, type SlackReporter } from './slack/audit-report.js';

/** `beforeExit` lets a caller (the sandbox) stop what it started after Postmaster has stopped. */
export async function main(options: { beforeExit?: () => Promise<void> } = {}): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`postmaster: ${error.message} (see .env.example)\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  const app = await composePostmaster(config, logger);
  // Slack first: the sweep starts at once, and its run events should reach Slack's thread updates.
  let slack: SlackApp | undefined;
  let reporter: SlackReporter | undefined;
  if (config.slack) {
    slack = createSlackApp({ postmaster: app, slack: config.slack, logger });
    try {
      await slack.start();
    } catch (error) {
      if (!(error instanceof SlackStartError)) throw error;
      process.stderr.write(`postmaster: ${error.message}\n`);
      await app.close();
      await options.beforeExit?.();
      process.exit(1);
    }
    reporter = createSlackReporter({ postmaster: app, slack: config.slack, logger });
  }
  const sweep = startSweepJob({
    offboarding: app.offboarding,
    forwarding: app.forwarding,
    logger,
    pattern: config.SWEEP_CRON,
    onExpired: async (notices) => {
      await reporter?.postExpiryNotices(notices);
    },
  });
  const weeklyAudit = startSlotJob(
    {
      name: 'weekly-audit',
      pattern: config.AUDIT_CRON,
      timezone: config.AUDIT_TZ,
      clock: systemClock,
      state: app.store.collection<SlotState>('schedules'),
      run: async (slot) => {
        const report = await app.forwarding.runAudit();
        logger.info({ slot: slot.toISOString(), counts: report.summary.counts, headline: report.summary.headline }, 'weekly forwarding audit');
        // A failed post throws, which gives the slot back: the next tick posts it again, still
        // compared with the last report that was delivered.
        await reporter?.postAuditReport(report);
        await app.forwarding.recordBaseline(report);
      },
    },
    (error) => logger.error({ err: error }, 'weekly audit failed; it runs again at the next tick or restart'),
  );
  const front = config.slack ? (config.slack.SLACK_APP_TOKEN ? 'slack (socket mode)' : `slack (http :${config.slack.PORT})`) : 'none (set SLACK_BOT_TOKEN to enable Slack)';
  logger.info({ provider: app.provider.name, store: config.STORE_URL.split('://')[0], sweep: config.SWEEP_CRON, front }, 'postmaster is running');

  const stop = async (signal: string, code = 0) => {
    logger.info({ signal }, 'stopping');
    sweep.stop();
    weeklyAudit.stop();
    await slack?.stop().catch(() => undefined);
    await app.close();
    await options.beforeExit?.();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // One clear line and exit 1 (a supervisor restarts us), rather than Node's stack dump or running
  // on in a state nobody planned for.
  process.once('unhandledRejection', (reason) => {
    process.stderr.write(`postmaster: ${fatalMessage(reason)}\n`);
    logger.error({ err: reason }, 'stopping after an unhandled error');
    void stop('unhandledRejection', 1);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
