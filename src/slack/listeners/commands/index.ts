import type { App } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { offboardCommand } from './offboard.js';
import { forwardCommand } from './forward.js';
import { mailauditCommand } from './mailaudit.js';

export function register(app: App, ctx: SlackContext): void {
  app.command('/offboard', offboardCommand(ctx));
  app.command('/forward', forwardCommand(ctx));
  app.command('/mailaudit', mailauditCommand(ctx));
}
