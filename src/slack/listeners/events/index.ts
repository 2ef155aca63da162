import type { App } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { appHomeOpened } from './app-home-opened.js';

export function register(app: App, ctx: SlackContext): void {
  app.event('app_home_opened', appHomeOpened(ctx));
}
