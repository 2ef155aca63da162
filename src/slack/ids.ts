/**
 * The ids Slack echoes back to us: callback ids of views, action ids of buttons, block ids of
 * modal inputs. Builders write them, listeners match on them; keeping them in one place keeps the
 * two in step.
 */
export const CALLBACK = {
  offboardLoading: 'offboard_loading',
  offboard: 'offboard_submit',
  reject: 'reject_submit',
  forwardAdd: 'forward_add_submit',
} as const;

export const ACTION = {
  approve: 'approve_request',
  reject: 'reject_request',
  retry: 'retry_run',
  markDone: 'mark_step_done',
  /** Enter pressed in the successor field: the auto-reply template is rewritten to name them. */
  successor: 'successor_entered',
  /** "Remove" in a /forward list: requesters and approvers remove the rule. */
  forwardRemove: 'forward_remove',
  /** "Remove forward" in the audit report: approvers remove; a requester asks an approver. */
  auditRemove: 'audit_remove_forward',
  /** "Remove forward" on a removal request in the approvals channel: approvers only. */
  auditRemoveApproved: 'audit_remove_forward_approved',
} as const;

export const BLOCK = {
  successor: 'successor',
  targets: 'targets',
  keepCopy: 'keep_copy',
  autoReplySubject: 'auto_reply_subject',
  /** Versioned: a views.update keeps what a person typed unless the block id changes. */
  autoReplyBody: (version: number) => (version === 0 ? 'auto_reply_body' : `auto_reply_body_v${version}`),
  until: 'until',
  steps: 'steps',
  deleteAfter: 'delete_after',
  effective: 'effective',
  reason: 'reason',
  rejectReason: 'reject_reason',
  decision: 'decision',
  fwMailbox: 'fw_mailbox',
  fwTargets: 'fw_targets',
  fwKeepCopy: 'fw_keep_copy',
  fwSubject: 'fw_subject',
  fwSender: 'fw_sender',
  fwMatch: 'fw_match',
  fwExpires: 'fw_expires',
  fwOwner: 'fw_owner',
  fwReason: 'fw_reason',
} as const;

/** Each input block holds one element; its action id is the block id plus this suffix. */
export const inputAction = (blockId: string) => `${blockId}_input`;
