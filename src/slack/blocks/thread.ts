/**
 * What the run posts in the request's thread (one message per step, edited as it goes) and the
 * summary it posts to the audit channel when the run ends. Pure.
 */
import type { types } from '@slack/bolt';
import type { ExportProgress } from '../../core/backup.js';
import type { OffboardingRequest, Step } from '../../core/offboarding/model.js';
import { formatBytes, formatCount } from '../../core/format.js';
import { ACTION } from '../ids.js';
import { capList, LIMITS, truncate } from './limits.js';
import type { MessageContent } from './request-message.js';
import { button, context, escape, fallback, header, mention, section, STATE_LABEL, STATE_MARK, STEP_MARK, STEP_TITLE, when } from './text.js';

export function progressLine(progress: ExportProgress): string {
  const total = progress.messagesTotal ? ` of ${formatCount(progress.messagesTotal)}` : '';
  return `${escape(truncate(progress.folder, 200))} (folder ${progress.folderIndex + 1} of ${progress.folderCount}): ${formatCount(progress.messagesDone)}${total} messages, ${formatBytes(progress.bytesDone)}`;
}

/** The thread message of one step: started, progressing, done, failed, waiting for a person. */
export function stepMessage(request: OffboardingRequest, step: Step, progress?: ExportProgress): MessageContent {
  const title = `*${STEP_TITLE[step.name]}*`;
  const blocks: types.KnownBlock[] = [];
  let text: string;
  switch (step.status) {
    case 'running': {
      const attempt = step.attempts > 1 ? ` (attempt ${step.attempts})` : '';
      text = `${STEP_MARK.running} ${title} started${attempt}…`;
      blocks.push(section(progress ? `${text}\n${progressLine(progress)}` : text));
      break;
    }
    case 'done':
      text = `${STEP_MARK.done} ${title} — ${escape(step.summary ?? 'done')}`;
      blocks.push(section(text));
      if (step.doneBy) blocks.push(context(`Marked done by ${mention(step.doneBy)} ${when(step.endedAt)}`));
      break;
    case 'failed':
      text = `${STEP_MARK.failed} ${title} failed: ${escape(step.error ?? 'unknown error')}`;
      blocks.push(section(text));
      blocks.push(context('Steps already done will not run again. Retry resumes here.'));
      blocks.push({ type: 'actions', elements: [button('Retry', ACTION.retry, request.id, 'primary')] });
      break;
    case 'awaiting_manual':
      text = `${STEP_MARK.awaiting_manual} ${title} is a manual task: ${escape(step.instructions ?? 'do it by hand')}`;
      blocks.push(section(text));
      blocks.push(context('The run waits until someone does this and marks it done.'));
      blocks.push({ type: 'actions', elements: [button('Mark done', ACTION.markDone, request.id, 'primary')] });
      break;
    case 'waiting':
      text = `${STEP_MARK.waiting} ${title} waits until ${when(step.dueAt)}; it runs only if the verified backup still checks out then.`;
      blocks.push(section(text));
      break;
    case 'pending':
      text = `${STEP_MARK.pending} ${title} not started yet`;
      blocks.push(section(text));
      break;
  }
  return { text: fallback(`${STEP_MARK[step.status]} ${STEP_TITLE[step.name]} (${request.mailbox})`), blocks };
}

/** The last word in the thread when a run stops. */
export function runEndMessage(request: OffboardingRequest): MessageContent {
  const failed = request.steps.find((s) => s.status === 'failed');
  const line =
    request.state === 'completed'
      ? `${STATE_MARK.completed} Offboarding of *${escape(request.mailbox)}* completed.`
      : request.state === 'failed'
        ? `${STATE_MARK.failed} The run stopped at *${failed ? STEP_TITLE[failed.name] : 'a step'}*. Retry resumes there.`
        : `${STATE_MARK[request.state]} The run is ${STATE_LABEL[request.state]}${request.nextDueAt ? ` until ${when(request.nextDueAt)}` : ''}.`;
  return { text: fallback(`${request.mailbox}: ${STATE_LABEL[request.state]}`), blocks: [section(line)] };
}

/** For the audit channel: who asked, who approved, each step's result, and the backup manifest. */
export function auditSummary(request: OffboardingRequest): MessageContent {
  const blocks: types.KnownBlock[] = [
    header(`${STATE_MARK[request.state]} Offboarding ${STATE_LABEL[request.state]}: ${request.mailbox}`),
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Request*\n\`${request.id}\`` },
        { type: 'mrkdwn', text: truncate(`*Mailbox*\n${escape(request.mailbox)}`, LIMITS.fieldText) },
        { type: 'mrkdwn', text: `*Requested by*\n${mention(request.requestedBy)} ${when(request.requestedAt)}` },
        { type: 'mrkdwn', text: `*Approved by*\n${request.decidedBy ? `${mention(request.decidedBy)} ${when(request.decidedAt)}` : '—'}` },
      ],
    },
  ];
  if (request.plan.reason) blocks.push(section(`*Reason:* ${escape(truncate(request.plan.reason, 1000))}`));
  const steps = request.steps.map((s) => {
    const result = s.status === 'done' ? s.summary ?? 'done' : s.status === 'failed' ? `failed: ${s.error ?? ''}` : s.status.replace('_', ' ');
    const by = s.doneBy ? ` (by hand, ${mention(s.doneBy)})` : '';
    return truncate(`${STEP_MARK[s.status]} *${STEP_TITLE[s.name]}* — ${escape(result)}${by}`, 500);
  });
  blocks.push(section(`*Steps*\n${steps.join('\n') || '_none_'}`));
  if (request.backup) {
    const m = request.backup.manifest;
    const folders = capList(
      m.folders.map((f) => `• ${escape(truncate(f.name, 120))}: ${formatCount(f.messages)} messages, ${formatBytes(f.bytes)}, sha256 \`${f.sha256.slice(0, 12)}…\``),
      20,
      (hidden) => `• …and ${hidden} more folders (see manifest.json)`,
    );
    const verified = m.verifiedAt ? `verified ${when(m.verifiedAt)}` : '*not verified*';
    blocks.push(section(`*Backup manifest*: ${formatCount(m.totalMessages)} messages in ${m.folders.length} folder${m.folders.length === 1 ? '' : 's'}, ${formatBytes(m.totalBytes)}, ${verified}\n${folders.join('\n')}`));
    blocks.push(context(`\`${escape(truncate(request.backup.directory, 500))}\``));
  }
  return { text: fallback(`Offboarding ${STATE_LABEL[request.state]}: ${request.mailbox} (${request.id})`), blocks };
}
