import type { Command } from 'commander';
import type { ForwardingRule, RuleInput } from '../../core/forwarding/rule.js';
import type { OffboardingForward } from '../../core/forwarding/service.js';
import { actorOf, withPostmaster } from '../context.js';
import { print, printJson } from '../output.js';

interface AddOptions {
  as?: string;
  to?: string;
  keepCopy: boolean;
  subjectContains: string[];
  fromContains: string[];
  match?: string;
  expires?: string;
  owner?: string;
  reason?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function ruleInputFrom(mailbox: string, options: AddOptions): RuleInput {
  const hasConditions = options.subjectContains.length > 0 || options.fromContains.length > 0;
  return {
    mailbox,
    targets: (options.to ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    keepCopy: options.keepCopy,
    conditions: hasConditions
      ? {
          match: options.match === 'any' ? 'any' : 'all',
          subjectContains: options.subjectContains.length ? options.subjectContains : undefined,
          senderContains: options.fromContains.length ? options.fromContains : undefined,
        }
      : undefined,
    expiresAt: options.expires,
    owner: options.owner,
    reason: options.reason,
  };
}

export function renderRule(rule: ForwardingRule): string {
  const conditions = rule.conditions
    ? ` when ${[...(rule.conditions.senderContains ?? []).map((s) => `from contains "${s}"`), ...(rule.conditions.subjectContains ?? []).map((s) => `subject contains "${s}"`)].join(rule.conditions.match === 'any' ? ' or ' : ' and ')}`
    : '';
  const copy = rule.keepCopy ? '' : ' (no copy kept)';
  const until = rule.expiresAt ? ` until ${rule.expiresAt}` : ' (no expiry)';
  const owner = rule.owner ? `, owner ${rule.owner}` : '';
  return `${rule.id}  ${rule.mailbox} -> ${rule.targets.join(', ')}${conditions}${copy}${until}${owner}`;
}

export function renderOffboardingForward(forward: OffboardingForward): string {
  const copy = forward.keepCopy ? '' : ' (no copy kept)';
  const until = forward.expiresAt ? ` until ${forward.expiresAt}` : ' (no end date)';
  return `${forward.requestId}  ${forward.mailbox} -> ${forward.targets.join(', ')}${copy}${until}, set by offboarding ${forward.requestId}`;
}

export function registerForward(program: Command): void {
  const forward = program.command('forward').description('forwarding rules, checked against every guardrail before anything changes');

  forward
    .command('add')
    .description('add a forwarding rule (refused, with the reason, if it would loop, leak or exceed a limit)')
    .argument('<mailbox>', 'alice or alice@example.com')
    .option('--to <addresses>', 'up to 5 comma-separated targets')
    .option('--no-keep-copy', 'do not keep a copy in the mailbox')
    .option('--subject-contains <text>', 'only mail whose subject contains this (repeatable)', collect, [])
    .option('--from-contains <text>', 'only mail whose sender contains this (repeatable)', collect, [])
    .option('--match <all|any>', 'with several conditions: all must match (default) or any')
    .option('--expires <date>', 'last day (YYYY-MM-DD) or instant of the rule')
    .option('--owner <who>', 'who answers for the rule')
    .option('--reason <text>', 'why, for the audit log')
    .option('--as <id>', 'who is acting')
    .option('--json', 'print the rule as JSON')
    .action(async (mailbox: string, options: AddOptions) =>
      withPostmaster(async (app) => {
        const rule = await app.forwarding.addRule(actorOf(options), ruleInputFrom(mailbox, options));
        if (options.json) printJson(rule);
        else print(`added ${renderRule(rule)}`);
      }),
    );

  forward
    .command('list')
    .description("list Postmaster's forwarding rules, and the forwards offboardings have set (`postmaster audit` reads the users' own forwarding too)")
    .argument('[mailbox]', 'only this mailbox')
    .option('--json', 'print the rules as a JSON array')
    .action(async (mailbox: string | undefined, options: { json?: boolean }) =>
      withPostmaster(async (app) => {
        const rules = await app.forwarding.listRules(mailbox);
        if (options.json) return printJson(rules);
        const offboardings = await app.forwarding.listOffboardingForwards(mailbox);
        if (rules.length === 0 && offboardings.length === 0) print('no forwarding rules or offboarding forwards');
        rules.forEach((rule) => print(renderRule(rule)));
        offboardings.forEach((forward) => print(renderOffboardingForward(forward)));
      }),
    );

  forward
    .command('remove')
    .description("remove a forwarding rule, or end an offboarding's forward early; the mailbox owner's own Sieve script is left as it is")
    .argument('<id>', 'a rule id (fw-…), or an offboarding id (ob-…) for its forward')
    .option('--as <id>', 'who is acting')
    .option('--json', 'print what was removed as JSON')
    .action(async (id: string, options: { as?: string; json?: boolean }) =>
      withPostmaster(async (app) => {
        const removed = await app.forwarding.removeForward(actorOf(options), id);
        const [value, line] = 'rule' in removed ? [removed.rule, renderRule(removed.rule)] : [removed.offboarding, renderOffboardingForward(removed.offboarding)];
        if (options.json) printJson(value);
        else print(`removed ${line}`);
      }),
    );
}
