/**
 * Sieve grammar (RFC 5228 §8.2) into a small tree. The parser knows the control commands
 * (if/elsif/else, require) and nothing about other commands or tests, so extensions parse as long as
 * they follow the generic grammar. Only ever throws SieveSyntaxError.
 */
import { SieveSyntaxError, tokenize, type Token } from './lexer.js';

export type Argument =
  | { type: 'string'; value: string; line: number }
  | { type: 'string-list'; values: string[]; line: number }
  | { type: 'number'; value: number; raw: string; line: number }
  | { type: 'tag'; name: string; line: number };

export interface Test {
  /** Lower-cased: identifiers are case-insensitive (§8.1). */
  name: string;
  args: Argument[];
  tests: Test[];
  line: number;
}

export interface Command {
  name: string;
  args: Argument[];
  tests: Test[];
  /** The { ... } block, or null for a command ended by ";". */
  block: Command[] | null;
  line: number;
}

/** Deep enough for any script a person writes, shallow enough that recursion cannot overflow. */
const MAX_DEPTH = 64;
const CONDITIONAL = new Set(['if', 'elsif']);
const COMBINING = new Set(['allof', 'anyof', 'not']);

export function parseScript(text: string): Command[] {
  return new Parser(tokenize(text)).script();
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  script(): Command[] {
    const commands = this.commands();
    const next = this.peek();
    if (next.type !== 'eof') this.fail(`unexpected ${describe(next)}`, next);
    return commands;
  }

  // commands = *command
  private commands(): Command[] {
    const commands: Command[] = [];
    while (this.peek().type === 'identifier') {
      const command = this.command();
      this.checkControl(command, commands[commands.length - 1]);
      commands.push(command);
    }
    return commands;
  }

  // command = identifier arguments (";" / block)
  private command(): Command {
    const name = this.next() as Extract<Token, { type: 'identifier' }>;
    const { args, tests } = this.arguments();
    // Only control commands take a test (§3), so a test here means a missing ";" before it; read
    // on and `redirect "a" redirect "b";` would hide the second redirect inside the first.
    if (tests.length > 0 && !CONDITIONAL.has(name.value.toLowerCase())) this.fail(`expected ";" after "${name.value}"`, tests[0]!);
    const end = this.next();
    if (isPunct(end, ';')) return { name: name.value.toLowerCase(), args, tests, block: null, line: name.line };
    if (!isPunct(end, '{')) return this.fail(`expected ";" or "{" after "${name.value}", found ${describe(end)}`, end);
    this.enter(end);
    const block = this.commands();
    const close = this.next();
    if (!isPunct(close, '}')) this.fail(`missing "}" for the block opened on line ${end.line} (found ${describe(close)})`, close);
    this.depth--;
    return { name: name.value.toLowerCase(), args, tests, block, line: name.line };
  }

  // arguments = *argument [ test / test-list ]
  private arguments(): { args: Argument[]; tests: Test[] } {
    const args: Argument[] = [];
    for (;;) {
      const token = this.peek();
      if (token.type === 'tag') args.push({ type: 'tag', name: token.value.toLowerCase(), line: this.next().line });
      else if (token.type === 'number') args.push({ type: 'number', value: token.value, raw: token.raw, line: this.next().line });
      else if (token.type === 'string') args.push({ type: 'string', value: token.value, line: this.next().line });
      else if (isPunct(token, '[')) args.push(this.stringList());
      else break;
    }
    const token = this.peek();
    if (token.type === 'identifier') return { args, tests: [this.test()] };
    if (isPunct(token, '(')) return { args, tests: this.testList() };
    return { args, tests: [] };
  }

  // string-list = "[" string *("," string) "]"
  private stringList(): Argument {
    const open = this.next();
    const values: string[] = [];
    for (;;) {
      const item = this.next();
      if (item.type !== 'string') return this.fail(`expected a string in the list opened on line ${open.line}, found ${describe(item)}`, item);
      values.push(item.value);
      const sep = this.next();
      if (isPunct(sep, ']')) return { type: 'string-list', values, line: open.line };
      if (!isPunct(sep, ',')) return this.fail(`expected "," or "]" in the list opened on line ${open.line}, found ${describe(sep)}`, sep);
    }
  }

  // test = identifier arguments
  private test(): Test {
    const name = this.next();
    if (name.type !== 'identifier') return this.fail(`expected a test, found ${describe(name)}`, name);
    this.enter(name);
    const { args, tests } = this.arguments();
    this.depth--;
    if (tests.length > 0 && !COMBINING.has(name.value.toLowerCase())) this.fail(`unexpected test after "${name.value}"`, tests[0]!);
    return { name: name.value.toLowerCase(), args, tests, line: name.line };
  }

  // test-list = "(" test *("," test) ")"
  private testList(): Test[] {
    const open = this.next();
    const tests: Test[] = [];
    for (;;) {
      tests.push(this.test());
      const sep = this.next();
      if (isPunct(sep, ')')) return tests;
      if (!isPunct(sep, ',')) return this.fail(`expected "," or ")" in the test list opened on line ${open.line}, found ${describe(sep)}`, sep);
    }
  }

  /** §3.1: if/elsif take one test and a block, else only a block, and elsif/else follow an if. */
  private checkControl(command: Command, previous: Command | undefined): void {
    const { name } = command;
    if (name !== 'if' && name !== 'elsif' && name !== 'else') return;
    if (command.block === null) this.fail(`"${name}" needs a { block }`, command);
    if (name === 'else' ? command.tests.length > 0 || command.args.length > 0 : command.tests.length !== 1 || command.args.length > 0) {
      this.fail(name === 'else' ? '"else" takes no test' : `"${name}" takes exactly one test`, command);
    }
    if (name !== 'if' && previous?.name !== 'if' && previous?.name !== 'elsif') this.fail(`"${name}" without a preceding "if"`, command);
  }

  private enter(at: { line: number }): void {
    if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`, at);
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const token = this.tokens[this.pos]!;
    if (token.type !== 'eof') this.pos++;
    return token;
  }

  private fail(message: string, at: { line: number }): never {
    throw new SieveSyntaxError(message, at.line);
  }
}

function isPunct(token: Token, value: string): boolean {
  return token.type === 'punct' && token.value === value;
}

function describe(token: Token): string {
  switch (token.type) {
    case 'eof':
      return 'the end of the script';
    case 'string':
      return 'a string';
    case 'number':
      return `the number ${token.raw}`;
    case 'tag':
      return `":${token.value}"`;
    default:
      return `"${token.value}"`;
  }
}
