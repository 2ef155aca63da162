import { describe, expect, it } from 'vitest';
import { SieveSyntaxError, tokenize, type Token } from '../../src/providers/dovecot/sieve/lexer.js';

const values = (text: string) =>
  tokenize(text)
    .filter((t) => t.type !== 'eof')
    .map((t: Token) => (t.type === 'eof' ? '' : `${t.type}:${t.value}`));

function syntaxError(text: string): SieveSyntaxError {
  try {
    tokenize(text);
  } catch (error) {
    expect(error).toBeInstanceOf(SieveSyntaxError);
    return error as SieveSyntaxError;
  }
  throw new Error(`expected a SieveSyntaxError for ${JSON.stringify(text)}`);
}

describe('Sieve lexer (RFC 5228 §8.1)', () => {
  it('reads identifiers, tags, punctuation and strings', () => {
    expect(values('if header :Contains ["a", "b"] "c" { keep; }')).toEqual([
      'identifier:if', 'identifier:header', 'tag:Contains', 'punct:[', 'string:a', 'punct:,', 'string:b', 'punct:]',
      'string:c', 'punct:{', 'identifier:keep', 'punct:;', 'punct:}',
    ]);
  });

  it('applies K, M and G quantifiers in either case', () => {
    const numbers = tokenize('1 100K 2m 3G 0').flatMap((t) => (t.type === 'number' ? [[t.value, t.raw]] : []));
    expect(numbers).toEqual([[1, '1'], [102400, '100K'], [2 * 1024 ** 2, '2m'], [3 * 1024 ** 3, '3G'], [0, '0']]);
  });

  it('unescapes \\\\ and \\" and keeps any other escaped character as itself', () => {
    const [token] = tokenize(String.raw`"a\\b \"q\" \x"`);
    expect(token).toMatchObject({ type: 'string', value: 'a\\b "q" x' });
  });

  it('allows line breaks inside quoted strings and counts them', () => {
    const tokens = tokenize('"one\r\ntwo"\nkeep;');
    expect(tokens[0]).toMatchObject({ type: 'string', value: 'one\ntwo', line: 1 });
    expect(tokens[1]).toMatchObject({ type: 'identifier', value: 'keep', line: 3 });
  });

  it('reads text: strings, removing the stuffed dot and ending at a lone "."', () => {
    const script = 'reject text: # why\r\nPlease do not.\r\n.... Fred\r\n..\r\n.\r\n;\nkeep;';
    const tokens = tokenize(script);
    expect(tokens[1]).toMatchObject({ type: 'string', multiline: true, value: 'Please do not.\n... Fred\n.\n', line: 1 });
    expect(tokens[2]).toMatchObject({ type: 'punct', value: ';', line: 6 });
    expect(tokens[3]).toMatchObject({ type: 'identifier', value: 'keep', line: 7 });
  });

  it('treats "text:" case-insensitively and allows an empty one', () => {
    expect(tokenize('TEXT:\n.\n')[0]).toMatchObject({ type: 'string', value: '' });
  });

  it('skips # and /* */ comments, including comment markers inside strings', () => {
    const script = '# hello "x"\nif size :over 100K { /* this is a comment\n still */ discard /* x\n */ ; } "/* not */"';
    expect(values(script)).toEqual([
      'identifier:if', 'identifier:size', 'tag:over', 'number:102400', 'punct:{', 'identifier:discard', 'punct:;', 'punct:}',
      'string:/* not */',
    ]);
    expect(tokenize(script).at(-2)).toMatchObject({ line: 4 });
  });

  it('ignores a byte-order mark at the start', () => {
    expect(values('\uFEFFkeep;')).toEqual(['identifier:keep', 'punct:;']);
  });

  it.each([
    ['"unterminated', 1, /unterminated quoted string/],
    ['keep;\n"abc\\', 2, /unterminated quoted string/],
    ['/* open comment', 1, /unterminated \/\* comment/],
    ['vacation text:\nhello\n', 1, /unterminated text:/],
    ['vacation text: hello\n.\n', 1, /line break/],
    ['vacation text:\nhello\n.', 1, /must end its line/],
    ['keep;\n\nredirect @;', 3, /unexpected character "@"/],
    ['if size :over 10KB { }', 1, /malformed number/],
    ['keep: ;', 1, /tag name/],
    ['keep;\u0000', 1, /unexpected character/],
    ['\u00e9t\u00e9;', 1, /unexpected character/],
    ['99999999999999999999G', 1, /too large|malformed/],
  ])('refuses %j with a SieveSyntaxError on line %i', (text, line, message) => {
    const error = syntaxError(text);
    expect(error.line).toBe(line);
    expect(error.message).toMatch(message);
    expect(error.code).toBe('BadInput');
  });
});
