import type { App } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { ACTION } from '../../ids.js';
import { approveAction } from './approve.js';
import { markDoneAction } from './mark-done.js';
import { rejectAction } from './reject.js';
import { retryAction } from './retry.js';
import { successorEntered } from './successor-entered.js';
import { forwardRemoveAction } from './forward-remove.js';
import { auditRemoveAction, auditRemoveApprovedAction } from './audit-remove.js';

export function register(app: App, ctx: SlackContext): void {
  app.action(ACTION.approve, approveAction(ctx));
  app.action(ACTION.reject, rejectAction(ctx));
  app.action(ACTION.retry, retryAction(ctx));
  app.action(ACTION.markDone, markDoneAction(ctx));
  app.action(ACTION.successor, successorEntered(ctx));
  app.action(ACTION.forwardRemove, forwardRemoveAction(ctx));
  app.action(ACTION.auditRemove, auditRemoveAction(ctx));
  app.action(ACTION.auditRemoveApproved, auditRemoveApprovedAction(ctx));
}
