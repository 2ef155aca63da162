/**
 * Where a Sieve script sends mail: every redirect, under which condition, following include
 * (RFC 6609). Used to audit forwarding that Postmaster did not set up, and to count redirects
 * against the server's MAXREDIRECTS.
 */
import { formatTest } from './format.js';
import { SieveSyntaxError } from './lexer.js';
import { parseScript, type Argument, type Command, type Test } from './parser.js';

export interface Redirect {
  target: string;
  /** redirect :copy (RFC 3894): the mailbox keeps its copy. */
  copy: boolean;
  /** False only when every delivery runs this redirect. */
  conditional: boolean;
  /** When it runs, as Sieve, e.g. `header :contains "subject" "订单"`. */
  condition?: string;
  /** The script the redirect is written in. */
  script: string;
}

export interface ForwardingResult {
  redirects: Redirect[];
  /** Names of the scripts included, in the order met. */
  includes: string[];
  /** Extensions required by the script and the scripts it includes. */
  requires: string[];
  /**
   * The script can send a vacation reply. Pigeonhole fails the whole delivery's script (keeping
   * the message, dropping every redirect) on a second vacation action, so Postmaster's own
   * auto-reply must not be layered over a script that has one.
   */
  hasVacation: boolean;
}

export type IncludeLocation = 'personal' | 'global';

export interface ExtractOptions {
  /** Returns an included script's text, or undefined when there is no such script. */
  loadInclude?: (name: string, location: IncludeLocation) => string | undefined;
  /** Name of the script being read, reported in `Redirect.script` (default "main"). */
  scriptName?: string;
}

// Pigeonhole's defaults for sieve_include_max_nesting_depth and sieve_include_max_includes; past
// them the server fails the script at runtime, so nothing beyond would run anyway.
const MAX_INCLUDE_DEPTH = 10;
const MAX_INCLUDES = 255;

/** A `stop` (or `return`) that can end the script, and the conditions under which it runs. */
interface Exit {
  kind: 'stop' | 'return';
  conditions: string[];
}

/**
 * Reads a script (and, through `loadInclude`, what it includes). Throws SieveSyntaxError for a
 * script that cannot be parsed, naming the included script when the error is in one; a cyclic
 * include is not followed a second time. Errors thrown by `loadInclude` pass through unchanged.
 */
export function extractForwarding(scriptText: string, options: ExtractOptions = {}): ForwardingResult {
  const reader = new Reader(options.loadInclude);
  reader.run(scriptText, options.scriptName ?? 'main', []);
  return {
    redirects: reader.redirects,
    includes: [...reader.includes],
    requires: [...reader.requires],
    hasVacation: reader.hasVacation,
  };
}

/**
 * How many redirects one delivery may perform: every redirect command counts, even in branches
 * that exclude each other (if/else), so this is an upper bound. That is the safe side when
 * checking against MAXREDIRECTS, which Pigeonhole enforces by dropping the surplus at delivery.
 * (Pigeonhole merges identical redirect targets into one action, so the real count can be lower.)
 */
export function countRedirects(result: ForwardingResult): number {
  return result.redirects.length;
}

class Reader {
  readonly redirects: Redirect[] = [];
  readonly includes = new Set<string>();
  readonly requires = new Set<string>();
  hasVacation = false;
  private readonly active: string[] = [];
  private readonly included = new Set<string>();
  private includeCount = 0;

  constructor(private readonly loadInclude: ExtractOptions['loadInclude']) {}

  /** Reads one script; returns the `stop`s that can end it (a `return` only ends this script). */
  run(text: string, script: string, conditions: string[]): Exit[] {
    let commands: Command[];
    try {
      commands = parseScript(text);
    } catch (error) {
      if (error instanceof SieveSyntaxError && this.active.length > 0) throw new SieveSyntaxError(error.detail, error.line, script);
      throw error;
    }
    return this.walk(commands, conditions, script).filter((exit) => exit.kind === 'stop');
  }

  private walk(commands: Command[], outer: string[], script: string): Exit[] {
    const conditions = [...outer];
    const exits: Exit[] = [];
    // After a nested stop, what follows runs only when that stop did not.
    const after = (nested: Exit[]): boolean => {
      for (const exit of nested) {
        exits.push(exit);
        const extra = exit.conditions.slice(conditions.length);
        if (extra.length === 0) return false;
        conditions.push(negate(conjunction(extra)!));
      }
      return true;
    };

    for (let i = 0; i < commands.length; i++) {
      const command = commands[i]!;
      switch (command.name) {
        case 'require':
          for (const name of strings(command.args)) this.requires.add(name.toLowerCase());
          break;
        case 'redirect':
          this.redirects.push(this.redirect(command, conditions, script));
          break;
        case 'vacation':
          this.hasVacation = true;
          break;
        case 'include':
          if (!after(this.include(command, conditions))) return exits;
          break;
        case 'stop':
        case 'return':
          exits.push({ kind: command.name === 'stop' ? 'stop' : 'return', conditions: [...conditions] });
          return exits;
        case 'if': {
          // §3.1: each elsif/else runs only when every branch before it did not.
          const negations: string[] = [];
          const nested: Exit[] = [];
          for (let branch: Command | undefined = command; branch; branch = nextBranch(commands, i)) {
            if (branch !== command) i++;
            const test = branch.tests[0];
            const own = test ? [...negations, formatTest(test)] : negations;
            nested.push(...this.walk(branch.block ?? [], [...conditions, ...own], script));
            if (test) negations.push(negateTest(test));
          }
          if (!after(nested)) return exits;
          break;
        }
        default:
          // Blocks of other commands (foreverypart, RFC 5703) run under the same conditions.
          if (command.block && !after(this.walk(command.block, conditions, script))) return exits;
      }
    }
    return exits;
  }

  private redirect(command: Command, conditions: string[], script: string): Redirect {
    const target = strings(command.args).at(-1);
    if (target === undefined) throw new SieveSyntaxError('redirect needs an address', command.line, this.active.length > 0 ? script : undefined);
    const condition = conjunction(conditions);
    return {
      target,
      copy: command.args.some((arg) => arg.type === 'tag' && arg.name === 'copy'),
      conditional: condition !== undefined,
      ...(condition !== undefined ? { condition } : {}),
      script,
    };
  }

  // RFC 6609 §3.2: include [:personal / :global] [:once] [:optional] <name>.
  private include(command: Command, conditions: string[]): Exit[] {
    const name = strings(command.args).at(-1);
    if (name === undefined) return [];
    const tags = new Set(command.args.flatMap((arg) => (arg.type === 'tag' ? [arg.name] : [])));
    const location: IncludeLocation = tags.has('global') ? 'global' : 'personal';
    const key = `${location}:${name}`;
    this.includes.add(name);
    // A script including itself, directly or not, is a runtime error in Pigeonhole (§3.2): the
    // nested copy never runs, so it is not read again.
    if (this.active.includes(key)) return [];
    if (tags.has('once') && this.included.has(key)) return [];
    if (this.active.length >= MAX_INCLUDE_DEPTH || this.includeCount >= MAX_INCLUDES || !this.loadInclude) return [];
    const text = this.loadInclude(name, location);
    if (text === undefined) return [];
    this.includeCount++;
    this.included.add(key);
    this.active.push(key);
    try {
      return this.run(text, location === 'global' ? `global:${name}` : name, conditions);
    } finally {
      this.active.pop();
    }
  }
}

function nextBranch(commands: Command[], index: number): Command | undefined {
  const next = commands[index + 1];
  return next && (next.name === 'elsif' || next.name === 'else') ? next : undefined;
}

function strings(args: Argument[]): string[] {
  return args.flatMap((arg) => (arg.type === 'string' ? [arg.value] : arg.type === 'string-list' ? arg.values : []));
}

function conjunction(conditions: string[]): string | undefined {
  if (conditions.length <= 1) return conditions[0];
  return `allof(${conditions.join(', ')})`;
}

function negateTest(test: Test): string {
  return test.name === 'not' && test.tests.length === 1 ? formatTest(test.tests[0]!) : `not ${formatTest(test)}`;
}

function negate(condition: string): string {
  return `not ${condition}`;
}
