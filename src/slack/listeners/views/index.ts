import type { AllMiddlewareArgs, App, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { CALLBACK } from '../../ids.js';
import { routes } from '../route.js';
import { offboardSubmit } from './offboard-submit.js';
import { rejectSubmit } from './reject-submit.js';
import { forwardSubmit } from './forward-submit.js';

export function register(app: App, ctx: SlackContext): void {
  const submissions = routes<AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>>({
    [CALLBACK.offboard]: offboardSubmit(ctx),
    [CALLBACK.reject]: rejectSubmit(ctx),
    [CALLBACK.forwardAdd]: forwardSubmit(ctx),
  });
  // A callback id or pattern alone matches view_submission only, as each registration did before.
  app.view<ViewSubmitAction>(submissions.pattern, (args) => submissions.dispatch(args.view.callback_id, args));
}
