/** Bolt's and the Web API client's log lines go through pino with tokens and signatures scrubbed. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { boltLogger, scrub } from '../../src/slack/bolt-logger.js';

function capture(level: string) {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: new Writable({ write: (c, _e, done) => (lines.push(c.toString()), done()) }) as never });
  return { lines, bolt: boltLogger(logger) };
}

describe('the Bolt logger adapter', () => {
  it('scrubs bot, user and app tokens and request signatures out of text', () => {
    const text = `token xoxb-123-456-abc, xoxp-9-8, xapp-1-A1-2-ff, sig v0=${'a'.repeat(64)}`;
    expect(scrub(text)).toBe('token [redacted], [redacted], [redacted], sig [redacted]');
  });

  it('writes through pino, tagged, with secrets scrubbed', () => {
    const { lines, bolt } = capture('debug');
    bolt.warn('http request headers:', { Authorization: 'Bearer xoxb-secret-token' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 40, component: 'bolt' });
    expect(entry.msg).not.toContain('xoxb-secret-token');
  });

  it('does not even render what the level leaves out', () => {
    const { lines, bolt } = capture('info');
    let rendered = false;
    bolt.debug({ toJSON: () => ((rendered = true), 'x') });
    expect(lines).toEqual([]);
    expect(rendered).toBe(false);
  });
});
