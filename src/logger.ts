/**
 * pino, with secrets redacted. Redaction works on paths, so every place a secret can sit in a
 * logged object is listed here, and a test logs each of them and checks the output.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

const SECRET_KEYS = [
  'password',
  'pass',
  'secret',
  'token',
  'apiKey',
  'key',
  'authorization',
  'clientSecret',
  'signingSecret',
  'DOVECOT_ADMIN_PASSWORD',
  'DOVECOT_DOVEADM_KEY',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'ALIMAIL_CLIENT_SECRET',
];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { app: 'postmaster' },
    },
    options.destination ?? pino.destination(2),
  );
}

export type { Logger };
