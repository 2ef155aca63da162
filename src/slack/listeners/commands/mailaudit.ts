/**
 * `/mailaudit`: the forwarding audit, now, shown only to the caller. Acks at once; reading the
 * whole domain can take minutes, so the audit runs in the background and the report (the same
 * Block Kit as the weekly post) arrives through the command's response_url, or a DM when that
 * no longer works. Requesters and approvers only: the report shows where everyone's mail goes.
 * One audit at a time: a second caller meanwhile gets the same run's report.
 */
import { describeError } from '../../../core/errors.js';
import type { AuditRun } from '../../../core/forwarding/service.js';
import type { SlackContext } from '../../context.js';
import { allowedToRequest, startCommand, type CommandArgs } from './command-start.js';
import { postToResponseUrl, sendDm, slackError } from '../../context.js';
import { noticeMessage } from '../../blocks/home.js';
import { auditReportMessage } from '../../blocks/audit-report.js';
import { dateIn } from '../../audit-report.js';

export function mailauditCommand(ctx: SlackContext) {
  const { forwarding, config } = ctx.postmaster;
  let running: Promise<AuditRun> | undefined;

  const runOnce = (): Promise<AuditRun> => {
    running ??= forwarding.runAudit().finally(() => {
      running = undefined;
    });
    return running;
  };

  return async (args: CommandArgs): Promise<void> => {
    const { command, respond, client } = args;
    const start = await startCommand(ctx, args);
    const { user } = start;
    if (!(await allowedToRequest(ctx, start, 'refused.mailaudit'))) return;
    const already = running !== undefined;
    await respond({
      response_type: 'ephemeral',
      ...noticeMessage(already ? 'An audit is already running; you will get its report here when it is done.' : 'Running the forwarding audit… Reading every mailbox can take a while; the report will appear here.'),
    });

    ctx.background.run('/mailaudit', async () => {
      let content;
      try {
        const run = await runOnce();
        const rules = await forwarding.listRules();
        content = auditReportMessage(run, { rules, onDemand: true, date: dateIn(run.at, config.AUDIT_TZ) });
      } catch (error) {
        ctx.logger.error({ err: error }, '/mailaudit failed');
        content = noticeMessage(`The audit failed: ${describeError(error)}. Try again later; \`postmaster audit\` runs it from the command line.`);
      }
      if (await postToResponseUrl(ctx, command.response_url, content)) return;
      try {
        await sendDm(client, user, content);
      } catch (error) {
        ctx.logger.warn({ error: slackError(error) }, 'could not send the /mailaudit report');
      }
    });
  };
}
