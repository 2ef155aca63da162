import type { Command } from 'commander';
import { defaultAutoReply } from '../../core/offboarding/auto-reply-template.js';
import type { PlanInput } from '../../core/offboarding/model.js';
import { badInput } from '../../core/errors.js';
import { qualifyAddress } from '../../core/mailbox.js';
import { actorOf, withPostmaster } from '../context.js';
import { print, printJson } from '../output.js';
import { renderRequest } from '../render.js';

interface OffboardOptions {
  as?: string;
  forwardTo?: string;
  keepCopy: boolean;
  forwardUntil?: string;
  successor?: string;
  autoReply?: string | boolean;
  autoReplySubject?: string;
  autoReplyUntil?: string;
  backup: boolean;
  revokeSessions: boolean;
  disable: boolean;
  deleteAfter?: string;
  effective?: string;
  reason?: string;
  json?: boolean;
}

function parseDays(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value)) throw badInput(`--delete-after takes a whole number of days (got "${value}")`);
  return Number(value);
}

function parseEffective(value: string | undefined): string | undefined {
  if (value === undefined || value === 'now') return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw badInput(`--effective takes a date or date-time like 2027-01-31T09:00+08:00 (got "${value}")`);
  return new Date(time).toISOString();
}

export function buildPlan(mailbox: string, options: OffboardOptions, domain: string): PlanInput {
  const targets = options.forwardTo?.split(',').map((t) => qualifyAddress(t, domain)).filter(Boolean);
  const successor = options.successor === undefined ? targets?.[0] : qualifyAddress(options.successor, domain);
  let autoReply: PlanInput['autoReply'];
  if (options.autoReply !== undefined && options.autoReply !== false) {
    const template = defaultAutoReply({ successor, endDate: options.autoReplyUntil });
    autoReply = {
      subject: options.autoReplySubject ?? template.subject,
      body: typeof options.autoReply === 'string' ? options.autoReply : template.body,
      endDate: options.autoReplyUntil,
    };
  }
  return {
    mailbox,
    successor,
    backup: options.backup,
    forward: targets?.length ? { targets, keepCopy: options.keepCopy, expiresAt: options.forwardUntil } : undefined,
    autoReply,
    revokeSessions: options.revokeSessions,
    disable: options.disable,
    deleteAfterDays: parseDays(options.deleteAfter),
    effectiveAt: parseEffective(options.effective),
    reason: options.reason,
  };
}

export function registerOffboard(program: Command): void {
  program
    .command('offboard')
    .description('request an offboarding; a second person approves it')
    .argument('<mailbox>', 'alice or alice@example.com')
    .option('--forward-to <addresses>', 'forward new mail to up to 5 comma-separated addresses')
    .option('--no-keep-copy', 'do not keep a copy of forwarded mail in the mailbox')
    .option('--forward-until <date>', 'end date of the forward (YYYY-MM-DD; default FORWARD_DEFAULT_DAYS ahead)')
    .option('--successor <address>', 'who takes over (default: the first forward target)')
    .option('--auto-reply [text]', 'set an auto-reply; without text, a bilingual template naming the successor')
    .option('--auto-reply-subject <subject>', 'subject of the auto-reply')
    .option('--auto-reply-until <date>', 'last day of the auto-reply (YYYY-MM-DD)')
    .option('--no-backup', 'skip the backup (not allowed with --delete-after)')
    .option('--no-revoke-sessions', 'leave live sessions open')
    .option('--no-disable', 'leave login enabled')
    .option('--delete-after <days>', 'delete the mailbox this many days after the run (0 = keep)')
    .option('--effective <when>', 'run at this date-time instead of right after approval')
    .option('--reason <text>', 'why, for the audit log')
    .option('--as <id>', 'who is asking')
    .option('--json', 'print the request as JSON')
    .action(async (mailbox: string, options: OffboardOptions) =>
      withPostmaster(async (app) => {
        const actor = actorOf(options);
        const request = await app.offboarding.request(actor, buildPlan(mailbox, options, app.config.MAIL_DOMAIN));
        if (options.json) printJson(request);
        else {
          print(renderRequest(request));
          print(`\nNext: a second person approves it with \`postmaster approve ${request.id} --as <approver>\``);
        }
      }),
    );
}
