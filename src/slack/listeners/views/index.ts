import type { App } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { CALLBACK } from '../../ids.js';
import { offboardSubmit } from './offboard-submit.js';
import { rejectSubmit } from './reject-submit.js';
import { forwardSubmit } from './forward-submit.js';

export function register(app: App, ctx: SlackContext): void {
  app.view(CALLBACK.offboard, offboardSubmit(ctx));
  app.view(CALLBACK.reject, rejectSubmit(ctx));
  app.view(CALLBACK.forwardAdd, forwardSubmit(ctx));
}
