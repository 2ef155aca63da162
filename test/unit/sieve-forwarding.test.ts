import { describe, expect, it } from 'vitest';
import { countRedirects, extractForwarding, type IncludeLocation } from '../../src/providers/dovecot/sieve/forwarding.js';
import { SieveSyntaxError } from '../../src/providers/dovecot/sieve/lexer.js';

// RFC 5228 §3.1, as printed there.
const RFC5228_IF_ELSIF_ELSE =
  'if header :contains ["From"] ["coyote"] {\n   redirect "acm@example.com";\n} elsif header :contains "Subject" "$$$" {\n' +
  '   redirect "postmaster@example.com";\n} else {\n   redirect "field@example.com";\n}\n';

const scripts = (map: Record<string, string>) => (name: string, location: IncludeLocation) => map[`${location}:${name}`];

describe('extractForwarding', () => {
  it('reads an unconditional redirect and :copy', () => {
    const result = extractForwarding('require "copy";\nredirect "a@x.test";\nredirect :copy "b@x.test";\n', { scriptName: 'roundcube' });
    expect(result.redirects).toEqual([
      { target: 'a@x.test', copy: false, conditional: false, script: 'roundcube' },
      { target: 'b@x.test', copy: true, conditional: false, script: 'roundcube' },
    ]);
    expect(result.requires).toEqual(['copy']);
    expect(countRedirects(result)).toBe(2);
  });

  it('describes each branch of RFC 5228 §3.1 if/elsif/else, including the branches before it', () => {
    const { redirects } = extractForwarding(RFC5228_IF_ELSIF_ELSE);
    expect(redirects.map((r) => [r.target, r.conditional, r.condition])).toEqual([
      ['acm@example.com', true, 'header :contains ["From"] ["coyote"]'],
      ['postmaster@example.com', true, 'allof(not header :contains ["From"] ["coyote"], header :contains "Subject" "$$$")'],
      ['field@example.com', true, 'allof(not header :contains ["From"] ["coyote"], not header :contains "Subject" "$$$")'],
    ]);
    // Only one of the three runs, but the count is an upper bound across branches.
    expect(countRedirects({ redirects, includes: [], requires: [], hasVacation: false })).toBe(3);
  });

  it('keeps unicode in conditions and combines nested ifs', () => {
    const script = `require ["copy"];
if address :domain :is "from" "shop.example" {
  # orders go to the team
  if header :contains "subject" "订单" { redirect :copy "orders@example.com"; }
}
if not header :contains "subject" "[draft]" { redirect "boss@example.com"; }`;
    const { redirects } = extractForwarding(script);
    expect(redirects[0]).toMatchObject({ target: 'orders@example.com', copy: true, condition: 'allof(address :domain :is "from" "shop.example", header :contains "subject" "订单")' });
    expect(redirects[1]).toMatchObject({ target: 'boss@example.com', copy: false, condition: 'not header :contains "subject" "[draft]"' });
  });

  it('guards what follows a conditional stop, and drops what follows an unconditional one', () => {
    const script = `if header :contains "List-Id" "dev" { fileinto "Dev"; stop; }
redirect "after-stop@x.test";
stop;
redirect "never@x.test";`;
    const { redirects } = extractForwarding(script);
    expect(redirects).toEqual([{ target: 'after-stop@x.test', copy: false, conditional: true, condition: 'not header :contains "List-Id" "dev"', script: 'main' }]);
  });

  it('reads multi-line text: and comments without confusing them for commands', () => {
    const script = `require ["vacation"];
# redirect "commented@x.test";
/* redirect "bracketed@x.test"; */
vacation :subject "Away" text:
redirect "inside-text@x.test";
.
;
redirect "real@x.test";`;
    const result = extractForwarding(script);
    expect(result.redirects.map((r) => r.target)).toEqual(['real@x.test']);
    expect(result.hasVacation).toBe(true);
  });

  it('follows include :personal and :global through loadInclude, with the include conditions', () => {
    const load = scripts({
      'personal:lists': 'redirect "lists@x.test";',
      'global:company': 'require "copy"; redirect :copy "archive@x.test";',
    });
    const script = `require ["include"];
if header :contains "List-Id" "x" { include "lists"; }
include :global "company";`;
    const result = extractForwarding(script, { loadInclude: load, scriptName: 'postmaster' });
    expect(result.redirects).toEqual([
      { target: 'lists@x.test', copy: false, conditional: true, condition: 'header :contains "List-Id" "x"', script: 'lists' },
      { target: 'archive@x.test', copy: true, conditional: false, script: 'global:company' },
    ]);
    expect(result.includes).toEqual(['lists', 'company']);
    expect(result.requires).toEqual(['include', 'copy']);
  });

  it('stops at include cycles and honours :once', () => {
    const calls: string[] = [];
    const map: Record<string, string> = {
      'personal:a': 'require "include"; redirect "a@x.test"; include "b";',
      'personal:b': 'require "include"; redirect "b@x.test"; include "a"; include :once "c"; include :once "c";',
      'personal:c': 'redirect "c@x.test";',
    };
    const result = extractForwarding('require "include"; include "a"; include "a";', {
      loadInclude: (name, location) => {
        calls.push(name);
        return map[`${location}:${name}`];
      },
    });
    // "a" twice from the top (no :once, so it runs twice); inside it, a -> b -> a is a cycle.
    expect(result.redirects.map((r) => r.target)).toEqual(['a@x.test', 'b@x.test', 'c@x.test', 'a@x.test', 'b@x.test']);
    expect(result.includes).toEqual(['a', 'b', 'c']);
  });

  it('survives a self-include and a missing include', () => {
    const result = extractForwarding('require "include"; include "self"; include :optional "missing"; redirect "x@x.test";', {
      loadInclude: scripts({ 'personal:self': 'require "include"; include "self"; redirect "self@x.test";' }),
    });
    expect(result.redirects.map((r) => r.target)).toEqual(['self@x.test', 'x@x.test']);
    expect(result.includes).toEqual(['self', 'missing']);
  });

  it('ends the included script at "return", but the whole run at "stop"', () => {
    const load = scripts({
      'personal:returns': 'if true { return; } redirect "after-return@x.test";',
      'personal:stops': 'stop;',
    });
    const result = extractForwarding('require "include"; include "returns"; redirect "main@x.test"; include "stops"; redirect "dead@x.test";', { loadInclude: load });
    expect(result.redirects.map((r) => [r.target, r.condition])).toEqual([
      ['after-return@x.test', 'not true'],
      ['main@x.test', undefined],
    ]);
  });

  it('names the included script in a syntax error', () => {
    const error = (() => {
      try {
        extractForwarding('require "include";\ninclude "broken";', { loadInclude: scripts({ 'personal:broken': 'keep;\nredirect "a@x.test"' }) });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SieveSyntaxError);
    expect(error).toMatchObject({ script: 'broken', line: 2 });
  });

  it.each(['redirect "unterminated;', 'if true { redirect "a@x.test";', 'redirect;', 'redirect :copy;', '\u0000\u00ff'])(
    'throws SieveSyntaxError and nothing else for %j',
    (script) => {
      expect(() => extractForwarding(script)).toThrow(SieveSyntaxError);
    },
  );

  it('reads none from scripts without redirects', () => {
    const script = 'require "fileinto";\nif header :contains "from" "coyote" {\n   discard;\n} else {\n   fileinto "INBOX";\n}\n';
    expect(extractForwarding(script)).toEqual({ redirects: [], includes: [], requires: ['fileinto'], hasVacation: false });
  });
});
