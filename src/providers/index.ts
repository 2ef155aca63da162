/** Picks the provider named by MAIL_PROVIDER. */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { MailProvider } from '../core/provider.js';
import { DovecotProvider } from './dovecot/provider.js';
import { ALIMAIL_REGIONS, AliyunProvider } from './aliyun/provider.js';

export function createProvider(config: Config, logger: Logger): MailProvider {
  switch (config.MAIL_PROVIDER) {
    case 'dovecot':
      return new DovecotProvider({
        imapUrl: config.dovecot.DOVECOT_IMAP_URL,
        sieveUrl: config.dovecot.DOVECOT_SIEVE_URL,
        adminUser: config.dovecot.DOVECOT_ADMIN_USER,
        adminPassword: config.dovecot.DOVECOT_ADMIN_PASSWORD,
        doveadmUrl: config.dovecot.DOVECOT_DOVEADM_URL,
        doveadmKey: config.dovecot.DOVECOT_DOVEADM_KEY,
        passwdFile: config.dovecot.DOVECOT_PASSWD_FILE,
      });
    case 'aliyun':
      return new AliyunProvider({
        baseUrl: config.aliyun.ALIMAIL_BASE_URL ?? ALIMAIL_REGIONS[config.aliyun.ALIMAIL_REGION],
        clientId: config.aliyun.ALIMAIL_CLIENT_ID,
        clientSecret: config.aliyun.ALIMAIL_CLIENT_SECRET,
        requestsPerSecond: config.aliyun.ALIMAIL_RATE_LIMIT,
        imapUrl: config.aliyun.ALIMAIL_IMAP_URL,
        logger: logger.child({ provider: 'aliyun' }),
      });
  }
}
