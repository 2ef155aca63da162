/**
 * The Home tab: pending approvals (for approvers), running and scheduled offboardings, and recent
 * results. Published on app_home_opened, and again after an approval made from it.
 */
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs, webApi } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { slackError } from '../../context.js';
import { homeView } from '../../blocks/home.js';

type Args = AllMiddlewareArgs & SlackEventMiddlewareArgs<'app_home_opened'>;

export async function publishHome(ctx: SlackContext, client: webApi.WebClient, user: string): Promise<void> {
  const requests = await ctx.postmaster.offboarding.list();
  try {
    await client.views.publish({ user_id: user, view: homeView({ userId: user, isApprover: ctx.policy.approvers.has(user), requests }) });
  } catch (error) {
    ctx.logger.warn({ error: slackError(error) }, 'could not publish the Home tab');
  }
}

export function appHomeOpened(ctx: SlackContext) {
  return async ({ event, client }: Args): Promise<void> => {
    if (event.tab !== 'home') return;
    await publishHome(ctx, client, event.user);
  };
}
