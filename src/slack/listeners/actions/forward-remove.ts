/**
 * "Remove" on a rule in a /forward listing. The button carries only the rule id; the core reloads
 * the rule and checks the clicker is a requester or approver (and audits a refusal). The outcome
 * goes to the clicker alone.
 */
import { describeError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { startButton, type ButtonArgs } from './button-start.js';
import { forwardRemovedMessage } from '../../blocks/forward.js';

export function forwardRemoveAction(ctx: SlackContext) {
  const { forwarding } = ctx.postmaster;

  return async (args: ButtonArgs): Promise<void> => {
    const { user, id, tell } = await startButton(ctx, args);
    try {
      await tell(forwardRemovedMessage(await forwarding.removeRule(user, id)));
    } catch (error) {
      await tell(`Not removed: ${describeError(error)}`);
    }
  };
}
