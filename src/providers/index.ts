/** Picks the provider named by MAIL_PROVIDER. */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { MailProvider } from '../core/provider.js';
import { DovecotProvider } from './dovecot/provider.js';

export function createProvider(config: Config, _logger: Logger): MailProvider {
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
  }
}
