/**
 * Approve, from the request message or the Home tab. The button carries only the request id; the
 * core reloads the request, checks who may approve it (never the requester, only approvers, within
 * the approval window) and moves it with a compare-and-set, so of two clicks exactly one wins.
 * A refusal goes to the clicker alone and changes nothing. On success the request message says who
 * approved, and the run starts in the background; its progress arrives through the run events.
 */
import { describeError } from '../../../core/errors.js';
import type { SlackContext } from '../../context.js';
import { startButton, type ButtonArgs } from './button-start.js';
import { refreshRequestMessage } from '../../context.js';
import { publishHome } from '../events/app-home-opened.js';

export function approveAction(ctx: SlackContext) {
  const { offboarding } = ctx.postmaster;

  return async (args: ButtonArgs): Promise<void> => {
    const { body, client } = args;
    const { user, id, tell } = await startButton(ctx, args);
    let approved;
    try {
      approved = await offboarding.approve(user, id);
    } catch (error) {
      // The core wrote the refusal to the audit log.
      await tell(`Not approved: ${describeError(error)}`);
      return;
    }
    await refreshRequestMessage(ctx, client, approved);
    if (approved.state === 'approved') {
      ctx.background.run(`run ${id}`, () => offboarding.run(id));
    }
    // A scheduled request is run by the sweep once its effective date comes.
    if (body.view?.type === 'home') await publishHome(ctx, client, user);
  };
}
