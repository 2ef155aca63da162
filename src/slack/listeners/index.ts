/**
 * Registers every listener; one file per listener under actions/, commands/, events/ and views/,
 * reached through one Bolt registration per kind (route.ts says why).
 */
import type { App } from '@slack/bolt';
import type { SlackContext } from '../context.js';
import * as actions from './actions/index.js';
import * as commands from './commands/index.js';
import * as events from './events/index.js';
import * as views from './views/index.js';

export function registerListeners(app: App, ctx: SlackContext): void {
  actions.register(app, ctx);
  commands.register(app, ctx);
  events.register(app, ctx);
  views.register(app, ctx);
}
