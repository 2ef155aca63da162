import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, SETTING_NAMES } from '../../src/config.js';

const valid = {
  MAIL_DOMAIN: 'example.test',
  DOVECOT_IMAP_URL: 'imap://127.0.0.1:143',
  DOVECOT_SIEVE_URL: 'sieve://127.0.0.1:4190',
  DOVECOT_ADMIN_USER: 'admin',
  DOVECOT_ADMIN_PASSWORD: 'pw',
  DOVECOT_DOVEADM_URL: 'http://127.0.0.1:8080',
  DOVECOT_DOVEADM_KEY: 'k',
  DOVECOT_PASSWD_FILE: '/etc/dovecot/users',
  POSTMASTER_REQUESTERS: 'U1, U2',
};

function messageFor(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env as NodeJS.ProcessEnv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('config was accepted');
}

describe('config', () => {
  it('applies the embedded defaults', () => {
    const config = loadConfig(valid);
    expect(config.STORE_URL).toBe('sqlite://./data/postmaster.sqlite');
    expect(config.BACKUP_DIR).toBe('./data/backups');
    expect(config.MAIL_PROVIDER).toBe('dovecot');
    expect(config.APPROVAL_WINDOW_HOURS).toBe(72);
    expect(config.POSTMASTER_REQUESTERS).toEqual(['U1', 'U2']);
    expect(config.POSTMASTER_APPROVERS).toEqual([]);
  });

  it('reads only the chosen provider\'s settings: Alibaba Mail needs no Dovecot ones', () => {
    const aliyun = { MAIL_DOMAIN: 'example.test', MAIL_PROVIDER: 'aliyun', ALIMAIL_CLIENT_ID: 'id', ALIMAIL_CLIENT_SECRET: 'secret' };
    const config = loadConfig(aliyun);
    expect(config.MAIL_PROVIDER === 'aliyun' && config.aliyun).toEqual({
      ALIMAIL_CLIENT_ID: 'id',
      ALIMAIL_CLIENT_SECRET: 'secret',
      ALIMAIL_REGION: 'cn',
      ALIMAIL_RATE_LIMIT: 30,
      ALIMAIL_IMAP_URL: 'imaps://imap.qiye.aliyun.com:993',
    });
    expect(messageFor({ ...aliyun, ALIMAIL_CLIENT_SECRET: '' })).toBe('ALIMAIL_CLIENT_SECRET is not set');
    expect(messageFor({ ...aliyun, ALIMAIL_RATE_LIMIT: '50' })).toMatch(/^ALIMAIL_RATE_LIMIT must be at most 40: Alibaba Mail allows 40 requests\/s per domain/);
    expect(messageFor({ ...aliyun, ALIMAIL_REGION: 'eu' })).toBe('ALIMAIL_REGION must be cn, sg, hk, de or us (the cluster your domain is on)');
    expect(messageFor({ ...aliyun, ALIMAIL_IMAP_URL: 'imap.qiye.aliyun.com' })).toMatch(/^ALIMAIL_IMAP_URL must be a URL like imaps:/);
  });

  it('names the missing variable in one line', () => {
    const message = messageFor({ ...valid, MAIL_DOMAIN: undefined });
    expect(message).toBe('MAIL_DOMAIN is not set');
  });

  it('says what a bad value should look like', () => {
    expect(messageFor({ ...valid, DOVECOT_IMAP_URL: 'localhost:143' })).toMatch(/^DOVECOT_IMAP_URL must be a URL like imap:\/\//);
    expect(messageFor({ ...valid, MAIL_PROVIDER: 'exchange' })).toMatch(/^MAIL_PROVIDER must be dovecot/);
    expect(messageFor({ ...valid, APPROVAL_WINDOW_HOURS: '-3' })).toMatch(/^APPROVAL_WINDOW_HOURS /);
    expect(messageFor({ ...valid, DOVECOT_ADMIN_PASSWORD: undefined })).toBe('DOVECOT_ADMIN_PASSWORD is not set');
  });

  it('never echoes a secret in its message', () => {
    const message = messageFor({ ...valid, DOVECOT_DOVEADM_URL: 'not a url s3cr3t' });
    expect(message).not.toContain('s3cr3t');
  });
});

describe('settings documentation', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

  it('lists every setting in the README table and in .env.example', () => {
    expect(SETTING_NAMES.length).toBeGreaterThan(20);
    expect(SETTING_NAMES.filter((name) => !readme.includes(`| \`${name}\` |`))).toEqual([]);
    expect(SETTING_NAMES.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example))).toEqual([]);
  });
});
