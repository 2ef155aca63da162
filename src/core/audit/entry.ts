import { z } from 'zod';

export const AuditDraftSchema = z.object({
  /** Who did it: a Slack user id, a CLI --as id, or "system" for the scheduler. */
  actor: z.string(),
  /** What happened, as a dotted verb: request.created, request.approved, step.done, refused, ... */
  action: z.string(),
  requestId: z.string().optional(),
  mailbox: z.string().optional(),
  /** ok / failed / refused, where it applies. */
  result: z.string().optional(),
  detail: z.string().optional(),
});
export type AuditDraft = z.infer<typeof AuditDraftSchema>;

export const AuditEntrySchema = AuditDraftSchema.extend({
  seq: z.number().int().positive(),
  at: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
