import type { App } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { offboardCommand } from './offboard.js';

export function register(app: App, ctx: SlackContext): void {
  app.command('/offboard', offboardCommand(ctx));
}
