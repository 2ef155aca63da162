import type { AllMiddlewareArgs, App, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { ACTION } from '../../ids.js';
import { routes, type Listener } from '../route.js';
import { approveAction } from './approve.js';
import { markDoneAction } from './mark-done.js';
import { rejectAction } from './reject.js';
import { retryAction } from './retry.js';
import { successorEntered } from './successor-entered.js';
import { forwardRemoveAction } from './forward-remove.js';
import { auditRemoveAction, auditRemoveApprovedAction } from './audit-remove.js';

type BlockActionArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction>;

/**
 * Which element an action id belongs to (a button, mostly) is known from the blocks we built with
 * it, not from the payload: the same trust Bolt's `app.action(id, listener)` places in the type a
 * listener declares.
 */
const forId = <A extends BlockAction>(listener: Listener<AllMiddlewareArgs & SlackActionMiddlewareArgs<A>>) => listener as Listener<BlockActionArgs>;

export function register(app: App, ctx: SlackContext): void {
  const actions = routes<BlockActionArgs>({
    [ACTION.approve]: forId(approveAction(ctx)),
    [ACTION.reject]: forId(rejectAction(ctx)),
    [ACTION.retry]: forId(retryAction(ctx)),
    [ACTION.markDone]: forId(markDoneAction(ctx)),
    [ACTION.successor]: successorEntered(ctx),
    [ACTION.forwardRemove]: forId(forwardRemoveAction(ctx)),
    [ACTION.auditRemove]: forId(auditRemoveAction(ctx)),
    [ACTION.auditRemoveApproved]: forId(auditRemoveApprovedAction(ctx)),
  });
  app.action<BlockAction>(actions.pattern, (args) => actions.dispatch(args.action.action_id, args));
}
