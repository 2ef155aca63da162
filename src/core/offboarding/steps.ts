/**
 * What each step does against the mail system. Every step is safe to run again: the provider
 * operations it calls are idempotent (set replaces, disable of a disabled account is a no-op,
 * delete of a missing account succeeds), and backup rewrites its own directory.
 */
import type { Capability, MailProvider } from '../provider.js';
import type { BackupVault } from '../ports.js';
import type { ExportProgress } from '../backup.js';
import { refused } from '../errors.js';
import type { OffboardingRequest, Plan, Step, StepName } from './model.js';
import { formatBytes, formatCount } from '../format.js';

export const CAPABILITY_OF: Record<StepName, Capability> = {
  backup: 'export',
  forward: 'setForwarding',
  auto_reply: 'setAutoReply',
  revoke_sessions: 'revokeSessions',
  disable: 'disable',
  delete: 'delete',
};

export function stepsFor(plan: Plan): StepName[] {
  const steps: StepName[] = [];
  if (plan.backup) steps.push('backup');
  if (plan.forward) steps.push('forward');
  if (plan.autoReply) steps.push('auto_reply');
  if (plan.revokeSessions) steps.push('revoke_sessions');
  if (plan.disable) steps.push('disable');
  if (plan.deleteAfterDays > 0) steps.push('delete');
  return steps;
}

export function initialSteps(plan: Plan, provider: Pick<MailProvider, 'capabilities'> & Partial<Pick<MailProvider, 'manualInstructions' | 'stepNote'>>): Step[] {
  return stepsFor(plan).map((name) => {
    const capability = CAPABILITY_OF[name];
    const automatic = provider.capabilities.has(capability);
    const step: Step = { name, mode: automatic ? 'automatic' : 'manual', status: 'pending', attempts: 0 };
    if (!automatic) step.instructions = provider.manualInstructions?.(capability, plan) ?? `Do "${name}" for ${plan.mailbox} by hand in the mail system, then mark it done.`;
    const note = automatic ? provider.stepNote?.(capability, plan) : undefined;
    if (note) step.note = note;
    return step;
  });
}

/** What the plan will change, step by step, in words (the approval message and `status` show it). */
export function describeStep(name: StepName, plan: Plan): string {
  switch (name) {
    case 'backup':
      return 'Back up every folder to mbox files and verify them against the server';
    case 'forward': {
      const f = plan.forward!;
      const until = f.expiresAt ? ` until ${f.expiresAt}` : '';
      return `Forward new mail to ${f.targets.join(', ')}${f.keepCopy ? ', keeping a copy' : ', without keeping a copy'}${until}`;
    }
    case 'auto_reply': {
      const a = plan.autoReply!;
      const until = a.endDate ? ` until ${a.endDate}` : '';
      return `Auto-reply "${a.subject}"${until}`;
    }
    case 'revoke_sessions':
      return 'End every live IMAP/POP session';
    case 'disable':
      return 'Disable login (mail is still delivered, so the forward and auto-reply keep working)';
    case 'delete':
      return `Delete the mailbox ${plan.deleteAfterDays} days later, only if the verified backup still checks out`;
  }
}

export interface StepContext {
  request: OffboardingRequest;
  provider: MailProvider;
  vault: BackupVault;
  onProgress: (progress: ExportProgress) => void;
}

export interface StepOutcome {
  summary: string;
  /** Changes to the request beyond the step itself (the backup manifest). */
  patch?: Partial<OffboardingRequest>;
}

export async function executeStep(name: StepName, context: StepContext): Promise<StepOutcome> {
  const { request, provider } = context;
  const { plan, mailbox } = request;
  switch (name) {
    case 'backup': {
      const directory = context.vault.directoryFor(mailbox, request.id);
      const manifest = await provider.export(mailbox, { directory, runId: request.id, onProgress: context.onProgress });
      if (!manifest.verifiedAt) throw new Error('the export finished but could not be verified');
      const folders = manifest.folders.length;
      return {
        summary: `exported ${formatCount(manifest.totalMessages)} messages in ${folders} folder${folders === 1 ? '' : 's'}, ${formatBytes(manifest.totalBytes)}, verified`,
        patch: { backup: { directory, manifest } },
      };
    }
    case 'forward': {
      const forward = plan.forward!;
      await provider.setForwarding(mailbox, forward);
      return { summary: describeStep('forward', plan).replace(/^Forward/, 'forwarding') };
    }
    case 'auto_reply': {
      const reply = plan.autoReply!;
      await provider.setAutoReply(mailbox, { ...reply, successor: plan.successor });
      return { summary: `auto-reply on${reply.endDate ? ` until ${reply.endDate}` : ''}` };
    }
    case 'revoke_sessions': {
      const { sessionsEnded } = await provider.revokeSessions(mailbox);
      return { summary: `ended ${sessionsEnded} live session${sessionsEnded === 1 ? '' : 's'}` };
    }
    case 'disable': {
      await provider.disable(mailbox);
      return { summary: 'login disabled; mail is still delivered' };
    }
    case 'delete': {
      const backup = request.backup;
      if (!backup?.manifest.verifiedAt) {
        throw refused(`delete of ${mailbox} refused: there is no verified backup`, 'run a backup first; the mailbox was left as it is');
      }
      const check = await context.vault.verify(backup.directory, backup.manifest);
      if (!check.ok) {
        throw refused(`delete of ${mailbox} refused: the backup no longer checks out (${check.problem})`, 'restore the backup files or take a new backup; the mailbox was left as it is');
      }
      await provider.delete(mailbox);
      return { summary: `mailbox deleted; the verified backup stays in ${backup.directory}` };
    }
  }
}
