import { describe, expect, it } from 'vitest';
import { SieveSyntaxError } from '../../src/providers/dovecot/sieve/lexer.js';
import { parseScript, type Command } from '../../src/providers/dovecot/sieve/parser.js';
import { formatTest } from '../../src/providers/dovecot/sieve/format.js';

/** RFC 5228's own examples, as printed there (§2.3, §2.4.2.4, §2.7.3, §3-§5, §9). */
const RFC5228_EXAMPLES: Record<string, string> = {
  '§2.3 hash comment': 'if size :over 100k { # this is a comment\n    discard;\n}\n',
  '§2.3 bracket comment': 'if size :over 100K { /* this is a comment\n    this is still a comment */ discard /* this is a comment\n    */ ;\n}\n',
  '§2.4.2.4 encoded character': 'require "encoded-character";\nif header :contains "Subject" "$${hex:24 24}" {\n   discard;\n}\n',
  '§2.7.3 comparator': 'if header :comparator "i;octet" :contains "Subject"\n             "MAKE MONEY FAST" {\n   discard;\n}\n',
  '§3.1 if/elsif/else with redirect':
    'if header :contains ["From"] ["coyote"] {\n   redirect "acm@example.com";\n} elsif header :contains "Subject" "$$$" {\n   redirect "postmaster@example.com";\n} else {\n   redirect "field@example.com";\n}\n',
  '§3.1 fileinto INBOX':
    'require "fileinto";\nif header :contains "from" "coyote" {\n   discard;\n} elsif header :contains ["subject"] ["$$$"] {\n   discard;\n} else {\n   fileinto "INBOX";\n}\n',
  '§3.2 require list': 'require ["fileinto", "reject"];\n',
  '§3.2 two requires': 'require "fileinto";\nrequire "vacation";\n',
  '§4.1 fileinto': 'require "fileinto";\nif header :contains ["from"] "coyote" {\n   fileinto "INBOX.harassment";\n}\n',
  '§4.2 redirect': 'redirect "bart@example.com";\n',
  '§4.3 keep': 'if size :under 1M { keep; } else { discard; }\n',
  '§4.3 not size': 'if not size :under 1M { discard; }\n',
  '§4.4 discard': 'if header :contains ["from"] ["idiot@example.com"] {\n   discard;\n}\n',
  '§5.1 address': 'if address :is :all "from" "tim@example.com" {\n   discard;\n}\n',
  '§5.3 anyof': 'if anyof (not exists ["From", "Date"],\n          header :contains "from" "fool@example.com") {\n   discard;\n}\n',
  '§5.4 envelope': 'require "envelope";\nif envelope :all :is "from" "tim@example.com" {\n   discard;\n}\n',
  '§5.5 exists': 'if not exists ["From","Date"] {\n   discard;\n}\n',
  '§5.9 size': 'if size :over 500K { discard; }\n',
  '§9 example':
    '#\n# Example Sieve Filter\n# Declare any optional features or extension used by the script\n#\nrequire ["fileinto"];\n\n#\n' +
    '# Handle messages from known mailing lists\n# Move messages from IETF filter discussion list to filter mailbox\n#\n' +
    'if header :is "Sender" "owner-ietf-mta-filters@imc.org"\n        {\n        fileinto "filter";  # move to "filter" mailbox\n        }\n' +
    '#\n# Keep all messages to or from people in my company\n#\nelsif address :DOMAIN :is ["From", "To"] "example.com"\n        {\n' +
    '        keep;               # keep in "In" mailbox\n        }\n\n#\n# Try and catch unsolicited email.  If a message is not to me,\n' +
    '# or it contains a subject known to be spam, file it away.\n#\nelsif anyof (NOT address :all :contains\n' +
    '               ["To", "Cc", "Bcc"] "me@example.com",\n             header :matches "subject"\n' +
    '               ["*make*money*fast*", "*university*dipl*mas*"])\n        {\n        fileinto "spam";   # move to "spam" mailbox\n' +
    '        }\nelse\n        {\n        # Move all other (non-company) mail to "personal"\n        # mailbox.\n        fileinto "personal";\n        }\n',
  // RFC 3028 §9 (the predecessor) had a reject with a dot-stuffed text: body.
  'RFC 3028 §9 reject text:':
    'require ["fileinto", "reject"];\nif size :over 1M\n    {\n    reject text:\nPlease do not send me large attachments.\n' +
    'Put your file on a server and send me the URL.\nThank you.\n.... Fred\n.\n;\n    stop;\n    }\n',
};

function syntaxError(text: string): SieveSyntaxError {
  try {
    parseScript(text);
  } catch (error) {
    if (!(error instanceof SieveSyntaxError)) throw new Error(`expected SieveSyntaxError for ${JSON.stringify(text)}, got ${String(error)}`);
    return error;
  }
  throw new Error(`expected a SieveSyntaxError for ${JSON.stringify(text)}`);
}

describe('Sieve parser (RFC 5228 §8.2)', () => {
  it.each(Object.entries(RFC5228_EXAMPLES))('parses the RFC example: %s', (_, script) => {
    expect(parseScript(script).length).toBeGreaterThan(0);
  });

  it('builds commands, arguments, nested test lists and blocks', () => {
    const [, ifCommand, elsif1, elsif2, elseCommand] = parseScript(RFC5228_EXAMPLES['§9 example']!);
    expect(ifCommand).toMatchObject({ name: 'if', line: 11, block: [{ name: 'fileinto', args: [{ type: 'string', value: 'filter' }] }] });
    expect(elsif1!.tests[0]).toMatchObject({
      name: 'address',
      args: [{ type: 'tag', name: 'domain' }, { type: 'tag', name: 'is' }, { type: 'string-list', values: ['From', 'To'] }, { type: 'string', value: 'example.com' }],
    });
    expect(elsif2!.tests[0]!.name).toBe('anyof');
    expect(elsif2!.tests[0]!.tests.map((t) => t.name)).toEqual(['not', 'header']);
    expect(elsif2!.tests[0]!.tests[0]!.tests[0]!.name).toBe('address');
    expect(elseCommand).toMatchObject({ name: 'else', tests: [], block: [{ name: 'fileinto' }] });
  });

  it('keeps the text: body of a command', () => {
    const reject = (parseScript(RFC5228_EXAMPLES['RFC 3028 §9 reject text:']!)[1]!.block as Command[])[0]!;
    expect(reject.args[0]).toMatchObject({ type: 'string', value: expect.stringContaining('Thank you.\n... Fred\n') });
  });

  it('formats tests back as one line of Sieve', () => {
    const [command] = parseScript('if anyof (not exists ["From", "Date"], header :contains "from" "fool\\"s@example.com", size :over 10K) { discard; }');
    expect(formatTest(command!.tests[0]!)).toBe('anyof(not exists ["From", "Date"], header :contains "from" "fool\\"s@example.com", size :over 10K)');
  });

  it('parses a script written the way people write them', () => {
    const script = `# Alice's rules
require ["fileinto", "copy", "vacation", "mailbox"];
/* lists */
if header :contains "List-Id" ["<dev.example.com>", "<ops.example.com>"] { fileinto :create "Lists"; stop; }
if allof (address :domain :is "from" "example.com", not header :contains "subject" ["[spam]", "***SPAM***"]) {
  if size :over 2M { fileinto "Big"; }
  elsif header :contains "subject" "订单" { redirect :copy "orders@example.com"; }
  else { keep; }
}
vacation :days 7 :subject "Away" text:
I am away until Monday.
..signature
.
;
`;
    const commands = parseScript(script);
    expect(commands.map((c) => c.name)).toEqual(['require', 'if', 'if', 'vacation']);
    expect(commands[2]!.block!.map((c) => c.name)).toEqual(['if', 'elsif', 'else']);
  });

  it.each([
    ['unterminated string', 'redirect "a@b.c;\n', 1],
    ['missing closing brace', 'if true {\n  keep;\n', 3],
    ['extra closing brace', 'keep;\n}\n', 2],
    ['missing semicolon', 'keep\ndiscard;', 2],
    ['missing semicolon at the end', 'keep', 1],
    ['missing semicolon between redirects', 'redirect "a@x.test"\nredirect "b@x.test";', 2],
    ['a test inside a test', 'if header :is "a" "b" true { keep; }', 1],
    ['unclosed string list', 'if header :is "a" ["b", "c" { keep; }', 1],
    ['number in a string list', 'if header :is "a" ["b", 1] { keep; }', 1],
    ['unclosed test list', 'if anyof (true, false { keep; }', 1],
    ['empty test list', 'if anyof () { keep; }', 1],
    ['if without a test', 'if { keep; }', 1],
    ['if without a block', 'if true;', 1],
    ['else without if', 'keep;\nelse { keep; }', 2],
    ['elsif after a non-if', 'keep;\nelsif true { keep; }', 2],
    ['else with a test', 'if true { keep; } else false { keep; }', 1],
    ['stray comma', 'keep, discard;', 1],
    ['garbage bytes', '\u0000\u0001\u00ff\ufffd', 1],
    ['binary junk after a command', 'keep;\n\u0089PNG\r\n', 2],
    ['a string at the top level', '"hello";', 1],
    ['a lone tag', ':copy;', 1],
  ])('refuses %s with a SieveSyntaxError', (_, script, line) => {
    expect(syntaxError(script).line).toBe(line);
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(syntaxError(`${'if true {'.repeat(5000)}${'}'.repeat(5000)}`).message).toMatch(/nesting/);
    expect(syntaxError(`if ${'not '.repeat(100_000)}true { keep; }`).message).toMatch(/nesting/);
    expect(syntaxError(`if ${'anyof('.repeat(100_000)}true${')'.repeat(100_000)} { keep; }`).message).toMatch(/nesting/);
  });

  it('throws nothing but SieveSyntaxError on any truncation of a real script', () => {
    const script = RFC5228_EXAMPLES['§9 example']! + RFC5228_EXAMPLES['RFC 3028 §9 reject text:']!;
    for (let end = 0; end <= script.length; end++) {
      try {
        parseScript(script.slice(0, end));
      } catch (error) {
        expect(error, `truncated at ${end}`).toBeInstanceOf(SieveSyntaxError);
      }
    }
  });

  it('throws nothing but SieveSyntaxError on random token soup and random bytes', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pieces = ['if', 'elsif', 'else', 'redirect', 'header', ':copy', ':contains', '"x"', '"', 'text:\n', '\n.\n', '[', ']', '(', ')', '{', '}', ';', ',', '10K', '#c\n', '/*', '*/', ' ', '\n', '\\', 'not', 'anyof'];
    for (let n = 0; n < 3000; n++) {
      const soup = Array.from({ length: 1 + Math.floor(random() * 30) }, () => pieces[Math.floor(random() * pieces.length)]).join(' ');
      const bytes = String.fromCharCode(...Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 0x10000)));
      for (const script of [soup, bytes]) {
        try {
          parseScript(script);
        } catch (error) {
          expect(error, JSON.stringify(script)).toBeInstanceOf(SieveSyntaxError);
        }
      }
    }
  });
});
