import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { SlackContext } from '../../context.js';
import { routes } from '../route.js';
import { offboardCommand } from './offboard.js';
import { forwardCommand } from './forward.js';
import { mailauditCommand } from './mailaudit.js';

export function register(app: App, ctx: SlackContext): void {
  const commands = routes<AllMiddlewareArgs & SlackCommandMiddlewareArgs>({
    '/offboard': offboardCommand(ctx),
    '/forward': forwardCommand(ctx),
    '/mailaudit': mailauditCommand(ctx),
  });
  app.command(commands.pattern, (args) => commands.dispatch(args.command.command, args));
}
