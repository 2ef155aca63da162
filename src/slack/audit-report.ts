/**
 * Posts the forwarding audit report (Block Kit, then the full list as a CSV with files.uploadV2)
 * and the expiry sweep's notice. `createSlackReporter` is what the long-running process hands the
 * weekly scheduler and the sweep: it needs no Bolt request, only the bot token.
 */
import { webApi } from '@slack/bolt';
import type { Postmaster } from '../compose.js';
import type { SlackConfig } from '../config.js';
import type { ExpiryNotice, AuditRun } from '../core/forwarding/service.js';
import type { Logger } from '../logger.js';
import { auditReportMessage, expiryNoticesMessage, type AuditReportOptions } from './blocks/audit-report.js';
import { boltLogger } from './bolt-logger.js';
import { slackError } from './context.js';

type WebClient = webApi.WebClient;

/** YYYY-MM-DD of an instant in a time zone (AUDIT_TZ); UTC when none is given. */
export function dateIn(iso: string, timeZone?: string): string {
  if (!timeZone) return iso.slice(0, 10);
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
  } catch {
    return iso.slice(0, 10);
  }
}

export interface PostReportOptions extends Omit<AuditReportOptions, 'date'> {
  /** AUDIT_TZ: the calendar the report's date (header and CSV file name) is in. */
  timeZone?: string;
  logger?: Logger;
}

export interface PostedReport {
  channel: string;
  ts: string | undefined;
  /** The CSV's file id, or undefined when the upload failed (the report says so in its thread). */
  csvFileId: string | undefined;
}

/**
 * Posts the report to a channel, then uploads the full CSV there. A failed post throws (the caller
 * decides whether to try again); a failed upload is logged and noted in the report's thread.
 */
export async function postAuditReport(client: WebClient, channel: string, run: AuditRun, options: PostReportOptions = {}): Promise<PostedReport> {
  const date = dateIn(run.at, options.timeZone);
  const content = auditReportMessage(run, { ...options, date });
  const posted = await client.chat.postMessage({ channel, text: content.text, blocks: content.blocks, unfurl_links: false });
  const ts = posted.ts;
  const filename = `forwarding-audit-${date}.csv`;
  try {
    const uploaded = await client.files.uploadV2({
      channel_id: channel,
      filename,
      content: run.csv,
      title: `Forwarding audit ${date} (${run.findings.length} ${run.findings.length === 1 ? 'finding' : 'findings'})`,
    });
    const files = (uploaded as { files?: Array<{ files?: Array<{ id?: string }> }> }).files ?? [];
    return { channel, ts, csvFileId: files[0]?.files?.[0]?.id ?? 'uploaded' };
  } catch (error) {
    options.logger?.error({ channel, error: slackError(error) }, 'could not upload the audit CSV');
    if (ts) {
      const text = `Could not upload ${filename} (${slackError(error)}). The app needs the files:write scope and must be in this channel; \`postmaster audit --csv\` prints the same list.`;
      await client.chat.postMessage({ channel, thread_ts: ts, text }).catch(() => undefined);
    }
    return { channel, ts, csvFileId: undefined };
  }
}

/** One message listing the forwards the sweep removed; nothing when there are none. */
export async function postExpiryNotices(client: WebClient, channel: string, notices: readonly ExpiryNotice[]): Promise<string | undefined> {
  if (notices.length === 0) return undefined;
  const content = expiryNoticesMessage(notices);
  const posted = await client.chat.postMessage({ channel, text: content.text, blocks: content.blocks });
  return posted.ts;
}

export interface SlackReporter {
  /** Posts to AUDIT_CHANNEL unless another channel is given. */
  postAuditReport(run: AuditRun, channel?: string): Promise<PostedReport>;
  postExpiryNotices(notices: readonly ExpiryNotice[], channel?: string): Promise<string | undefined>;
}

export interface SlackReporterOptions {
  postmaster: Pick<Postmaster, 'forwarding' | 'config'>;
  slack: SlackConfig;
  logger: Logger;
  /** Merged into the Web API client's options (tests: retryConfig { retries: 0 }). */
  clientOptions?: webApi.WebClientOptions;
  /** Use this client instead of making one (e.g. the Bolt app's). */
  client?: WebClient;
}

/** For the weekly scheduler and the sweep: posts without a Bolt request, with the bot token. */
export function createSlackReporter(options: SlackReporterOptions): SlackReporter {
  const { postmaster, slack } = options;
  const logger = options.logger.child({ component: 'slack-report' });
  const client =
    options.client ??
    new webApi.WebClient(slack.SLACK_BOT_TOKEN, {
      slackApiUrl: slack.SLACK_API_URL ? slack.SLACK_API_URL.replace(/\/?$/, '/') : 'https://slack.com/api/',
      retryConfig: webApi.retryPolicies.fiveRetriesInFiveMinutes,
      logger: boltLogger(logger),
      ...options.clientOptions,
    });
  return {
    async postAuditReport(run, channel = slack.AUDIT_CHANNEL) {
      const rules = await postmaster.forwarding.listRules();
      const posted = await postAuditReport(client, channel, run, { rules, timeZone: postmaster.config.AUDIT_TZ, logger });
      logger.info({ channel, ts: posted.ts, findings: run.findings.length, csv: Boolean(posted.csvFileId) }, 'posted the forwarding audit report');
      return posted;
    },
    async postExpiryNotices(notices, channel = slack.AUDIT_CHANNEL) {
      return postExpiryNotices(client, channel, notices);
    },
  };
}
