import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'trace', destination: destination as never }) };
}

describe('logger redaction', () => {
  const SECRETS = ['hunter2-master', 'doveadm-key-123', 'xoxb-bot-token', 'signing-abc', 'xapp-app-token', 'ali-secret'];

  it('never writes secrets, wherever they sit in a logged object', () => {
    const { lines, logger } = capture();
    logger.info({ password: SECRETS[0] }, 'top level');
    logger.info({ config: { DOVECOT_ADMIN_PASSWORD: SECRETS[0], DOVECOT_DOVEADM_KEY: SECRETS[1] } }, 'config');
    logger.info({ slack: { SLACK_BOT_TOKEN: SECRETS[2], SLACK_SIGNING_SECRET: SECRETS[3], SLACK_APP_TOKEN: SECRETS[4] } }, 'slack');
    logger.info({ provider: { auth: { pass: SECRETS[0], clientSecret: SECRETS[5] } } }, 'nested twice');
    logger.info({ req: { headers: { authorization: `X-Dovecot-API ${SECRETS[1]}` } } }, 'http');
    logger.info({ token: SECRETS[2], apiKey: SECRETS[1], secret: SECRETS[5] }, 'names');
    const output = lines.join('');
    expect(lines).toHaveLength(6);
    for (const secret of SECRETS) expect(output).not.toContain(secret);
    expect(output).toContain('[redacted]');
  });
});
