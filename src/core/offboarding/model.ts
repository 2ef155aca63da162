import { z } from 'zod';
import { AddressSchema } from '../mailbox.js';
import { BackupManifestSchema } from '../backup.js';

/** The steps, in the order they always run. */
export const STEP_NAMES = ['backup', 'forward', 'auto_reply', 'revoke_sessions', 'disable', 'delete'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export const MAX_FORWARD_TARGETS = 5;

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2027-01-31');
const IsoDateTime = z.string().datetime({ offset: true });

export const PlanSchema = z
  .object({
    mailbox: AddressSchema,
    successor: AddressSchema.optional(),
    backup: z.boolean().default(true),
    forward: z
      .object({
        targets: z
          .array(AddressSchema)
          .min(1, 'needs at least one target')
          .max(MAX_FORWARD_TARGETS, { error: (issue) => `at most ${MAX_FORWARD_TARGETS} targets${Array.isArray(issue.input) ? ` (you gave ${issue.input.length})` : ''}` }),
        keepCopy: z.boolean().default(true),
        expiresAt: IsoDate.optional(),
      })
      .optional(),
    autoReply: z
      .object({
        subject: z.string().min(1).max(200),
        body: z.string().min(1).max(10_000),
        startDate: IsoDate.optional(),
        endDate: IsoDate.optional(),
      })
      .optional(),
    revokeSessions: z.boolean().default(true),
    disable: z.boolean().default(true),
    /** 0 keeps the mailbox; N deletes it N days after the run reached the delete step. */
    deleteAfterDays: z.number().int().min(0).max(3650).default(0),
    /** When the offboarding should run; absent means as soon as it is approved. */
    effectiveAt: IsoDateTime.optional(),
    reason: z.string().max(1000).optional(),
  })
  .strict();

export type Plan = z.infer<typeof PlanSchema>;
export type PlanInput = z.input<typeof PlanSchema>;

export const STEP_STATUSES = ['pending', 'running', 'done', 'failed', 'awaiting_manual', 'waiting'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const StepSchema = z.object({
  name: z.enum(STEP_NAMES),
  /** manual: the provider cannot do it through its API; a person does it and marks it done. */
  mode: z.enum(['automatic', 'manual']),
  status: z.enum(STEP_STATUSES),
  attempts: z.number().int().nonnegative(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  /** One line a person reads: "exported 12,408 messages, 1.9 GB, verified". */
  summary: z.string().optional(),
  error: z.string().optional(),
  /** For manual steps: what to do, in the admin console's own words. */
  instructions: z.string().optional(),
  /** For automatic steps: what the provider does that the approver must know (shown with the plan). */
  note: z.string().optional(),
  doneBy: z.string().optional(),
  /** For delete: not before this instant (end of retention). */
  dueAt: z.string().optional(),
});
export type Step = z.infer<typeof StepSchema>;

export const REQUEST_STATES = [
  'pending_approval',
  'approved',
  'scheduled',
  'running',
  'awaiting_manual',
  'completed',
  'failed',
  'rejected',
  'cancelled',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export const OffboardingRequestSchema = z.object({
  id: z.string(),
  mailbox: AddressSchema,
  plan: PlanSchema,
  state: z.enum(REQUEST_STATES),
  requestedBy: z.string(),
  requestedAt: z.string(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  decisionNote: z.string().optional(),
  steps: z.array(StepSchema),
  /** When a scheduled request is next due (effective date, or end of retention). */
  nextDueAt: z.string().optional(),
  /** Held while a process executes the run; an expired lease means that process died. */
  lease: z.object({ owner: z.string(), until: z.string() }).optional(),
  backup: z.object({ directory: z.string(), manifest: BackupManifestSchema }).optional(),
  /** When the expiry sweep removed the offboarding's forward. */
  forwardRemovedAt: z.string().optional(),
  /** Bumped on every change; used by compare-and-set. */
  version: z.number().int().nonnegative(),
  updatedAt: z.string(),
});
export type OffboardingRequest = z.infer<typeof OffboardingRequestSchema>;

export const TERMINAL_STATES: ReadonlySet<RequestState> = new Set(['completed', 'rejected', 'cancelled']);

/** An offboarding request's id (newRequestId), as opposed to a forwarding rule's (fw-…). */
export function isRequestId(id: string): boolean {
  return id.startsWith('ob-');
}
