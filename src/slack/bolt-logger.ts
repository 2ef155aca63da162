/**
 * Bolt (and its Web API client) log through this adapter into our pino logger, so their lines get
 * the same redaction and destination as ours. Bolt logs strings, which pino's path-based redaction
 * cannot see into, so tokens and signatures are also scrubbed from the text itself.
 */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../logger.js';

const SECRET_TEXT = [
  /xox[abposr]-[A-Za-z0-9-]+/g, // bot, user, app-configuration tokens
  /xapp-[A-Za-z0-9-]+/g, // app-level (Socket Mode) tokens
  /v0=[0-9a-f]{64}/g, // request signatures
];

export function scrub(text: string): string {
  return SECRET_TEXT.reduce((out, pattern) => out.replace(pattern, '[redacted]'), text);
}

function render(parts: unknown[]): string {
  return scrub(
    parts
      .map((p) => {
        if (typeof p === 'string') return p;
        if (p instanceof Error) return `${p.name}: ${p.message}`;
        try {
          return JSON.stringify(p);
        } catch {
          return String(p);
        }
      })
      .join(' '),
  );
}

export function boltLogger(logger: Logger): BoltLogger {
  let name = 'bolt';
  let child = logger.child({ component: name });
  let level: LogLevel = LogLevel.INFO;
  // Render only what pino will write: the Web API client logs every request body at debug.
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (...msg: unknown[]) => {
    if (child.isLevelEnabled(level)) child[level](render(msg));
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    // pino's level (LOG_LEVEL) decides what is written; Bolt's own level is only remembered.
    setLevel(next: LogLevel) {
      level = next;
    },
    getLevel: () => level,
    setName(next: string) {
      name = next;
      child = logger.child({ component: name });
    },
  };
}
