/**
 * Writing Sieve values back as Sieve text: for human-readable conditions, and for the script
 * Postmaster renders. Whatever these produce, the lexer reads back to the same value.
 */
import type { Argument, Test } from './parser.js';

/** A quoted string (RFC 5228 §2.4.2): only "\" and '"' need escaping; line breaks may stay. */
export function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function stringList(values: string[]): string {
  return values.length === 1 ? quote(values[0]!) : `[${values.map(quote).join(', ')}]`;
}

/**
 * A multi-line string (§2.4.2): "text:", the lines, and a lone "." line. Lines starting with "."
 * get a second one (dot-stuffing), which the reader removes. The value always ends in a line break.
 */
export function textBlock(value: string): string {
  const lines = value.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  return `text:\n${lines.map((line) => (line.startsWith('.') ? `.${line}` : line)).join('\n')}\n.\n`;
}

export function formatArgument(arg: Argument): string {
  switch (arg.type) {
    case 'string':
      return quote(arg.value);
    case 'string-list':
      return `[${arg.values.map(quote).join(', ')}]`;
    case 'number':
      return arg.raw;
    case 'tag':
      return `:${arg.name}`;
  }
}

/** A test as one line of Sieve, e.g. `header :contains "subject" "invoice"`. */
export function formatTest(test: Test): string {
  const head = [test.name, ...test.args.map(formatArgument)].join(' ');
  if (test.tests.length === 0) return head;
  if (test.tests.length === 1 && test.name !== 'allof' && test.name !== 'anyof') return `${head} ${formatTest(test.tests[0]!)}`;
  return `${head}${test.args.length > 0 ? ' ' : ''}(${test.tests.map(formatTest).join(', ')})`;
}
