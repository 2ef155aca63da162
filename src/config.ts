/**
 * The environment (and ./.env when present) read into one typed config. A bad or missing value is
 * reported as one line that names the variable and says what it expects.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';

const list = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

const url = (schemes: string[], example: string) =>
  z.string().refine((value) => {
    try {
      return schemes.includes(new URL(value).protocol.replace(/:$/, ''));
    } catch {
      return false;
    }
  }, `must be a URL like ${example}`);

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const DovecotSchema = z.object({
  DOVECOT_IMAP_URL: url(['imap', 'imaps'], 'imap://127.0.0.1:143 or imaps://mail.example.com:993'),
  DOVECOT_SIEVE_URL: url(['sieve', 'sieves'], 'sieve://127.0.0.1:4190'),
  DOVECOT_ADMIN_USER: z.string().min(1, 'must name the Dovecot master user'),
  DOVECOT_ADMIN_PASSWORD: z.string().min(1, "must be the master user's password"),
  DOVECOT_DOVEADM_URL: url(['http', 'https'], 'http://127.0.0.1:8080'),
  DOVECOT_DOVEADM_KEY: z.string().min(1, "must be Dovecot's doveadm_api_key"),
  DOVECOT_PASSWD_FILE: z.string().min(1, "must be the path of Dovecot's passwd-file"),
});

const AliyunSchema = z.object({
  ALIMAIL_CLIENT_ID: z.string().min(1, "must be the Open API app's client_id (admin console: 高级应用 → API 开放平台)"),
  ALIMAIL_CLIENT_SECRET: z.string().min(1, "must be the Open API app's client_secret"),
  ALIMAIL_REGION: z.enum(['cn', 'sg', 'hk', 'de', 'us'], { message: 'must be cn, sg, hk, de or us (the cluster your domain is on)' }).default('cn'),
  ALIMAIL_BASE_URL: url(['http', 'https'], 'https://alimail-cn.aliyuncs.com').optional(),
  ALIMAIL_RATE_LIMIT: z.coerce
    .number()
    .positive('must be a positive number of requests per second')
    .max(40, 'must be at most 40: Alibaba Mail allows 40 requests/s per domain, shared by every app')
    .default(30),
  ALIMAIL_IMAP_URL: url(['imap', 'imaps'], 'imaps://imap.qiye.aliyun.com:993').default('imaps://imap.qiye.aliyun.com:993'),
});

/** Present only when SLACK_BOT_TOKEN is set: without it Postmaster runs without a Slack front end. */
const SlackSchema = z
  .object({
    SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'must be a bot token starting with xoxb-'),
    SLACK_SIGNING_SECRET: z.string().min(1, "must be the app's signing secret (Basic Information page)"),
    SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'must be an app-level token starting with xapp- (Socket Mode)').optional(),
    SLACK_API_URL: url(['http', 'https'], 'https://slack.com/api/').optional(),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    APPROVALS_CHANNEL: z.string().regex(/^[CG][A-Z0-9]+$/, 'must be a channel id like C0123ABCD (not a #name)'),
    AUDIT_CHANNEL: z.string().regex(/^[CG][A-Z0-9]+$/, 'must be a channel id like C0123ABCD (not a #name)'),
  });

const BaseSchema = z.object({
  MAIL_PROVIDER: z.enum(['dovecot', 'aliyun'], { message: 'must be dovecot or aliyun (google and microsoft come later)' }).default('dovecot'),
  MAIL_DOMAIN: z
    .string({ message: 'must be your mail domain, like example.com' })
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a domain like example.com'),
  STORE_URL: z.string().default('sqlite://./data/postmaster.sqlite'),
  BACKUP_DIR: z.string().default('./data/backups'),
  POSTMASTER_REQUESTERS: list,
  POSTMASTER_APPROVERS: list,
  APPROVAL_WINDOW_HOURS: positiveInt(72),
  FORWARD_DEFAULT_DAYS: positiveInt(90),
  SWEEP_CRON: z.string().default('*/5 * * * *'),
  FORWARD_ALLOWED_DOMAINS: list,
  SENSITIVE_MAILBOXES: list,
  AUDIT_CRON: z.string().default('0 9 * * 1'),
  AUDIT_TZ: z.string().default('Asia/Shanghai').refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone like Asia/Shanghai or Europe/Berlin'),
  /** How many mailboxes the audit reads from the mail system at once. */
  AUDIT_CONCURRENCY: positiveInt(8),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Every setting Postmaster reads from the environment (README and .env.example list each one). */
export const SETTING_NAMES: readonly string[] = [BaseSchema, DovecotSchema, AliyunSchema, SlackSchema].flatMap((schema) => Object.keys(schema.shape));

export type SlackConfig = z.infer<typeof SlackSchema>;
export type DovecotConfig = z.infer<typeof DovecotSchema>;
export type AliyunConfig = z.infer<typeof AliyunSchema>;
/** Exactly one provider's settings are present: the one MAIL_PROVIDER names. */
export type ProviderConfig = { MAIL_PROVIDER: 'dovecot'; dovecot: DovecotConfig } | { MAIL_PROVIDER: 'aliyun'; aliyun: AliyunConfig };
export type Config = Omit<z.infer<typeof BaseSchema>, 'MAIL_PROVIDER'> & ProviderConfig & { slack: SlackConfig | undefined };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function fail(error: z.ZodError): never {
  const issue = error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is not set' : issue.message;
  throw new ConfigError(`${variable} ${message}`);
}

/** Loads ./.env (when present) into process.env without overriding what is already set. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const base = BaseSchema.safeParse(env);
  if (!base.success) fail(base.error);
  // Empty strings in .env mean "not set", not "set to nothing".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  let slack: SlackConfig | undefined;
  if (env.SLACK_BOT_TOKEN) slack = parseOrFail(SlackSchema, present);
  const { MAIL_PROVIDER, ...rest } = base.data;
  const provider: ProviderConfig =
    MAIL_PROVIDER === 'aliyun' ? { MAIL_PROVIDER, aliyun: parseOrFail(AliyunSchema, present) } : { MAIL_PROVIDER, dovecot: parseOrFail(DovecotSchema, env) };
  return { ...rest, ...provider, slack };
}

function parseOrFail<T extends z.ZodType>(schema: T, env: Record<string, unknown>): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) fail(parsed.error);
  return parsed.data;
}
