/**
 * "Remove" on a rule or an offboarding's forward in a /forward listing. The button carries only the
 * id; the core reloads what it names and checks the clicker is a requester or approver (and audits
 * a refusal). The outcome goes to the clicker alone.
 */
import { describeError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { startButton, type ButtonArgs } from './button-start.js';
import { forwardGoneMessage } from '../../blocks/forward.js';

export function forwardRemoveAction(ctx: SlackContext) {
  const { forwarding } = ctx.postmaster;

  return async (args: ButtonArgs): Promise<void> => {
    const { user, id, tell } = await startButton(ctx, args);
    try {
      await tell(forwardGoneMessage(await forwarding.removeForward(user, id)));
    } catch (error) {
      await tell(`Not removed: ${describeError(error)}`);
    }
  };
}
