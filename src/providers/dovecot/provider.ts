/**
 * The standards path: a stock Dovecot, driven without any user's password.
 * - IMAP (imapflow) logs in as the mailbox through the master user, for the backup.
 * - ManageSieve writes forwarding and auto-reply as a Sieve script Postmaster owns.
 * - The doveadm HTTP API ends sessions, deletes mail, and edits Sieve once a login is disabled.
 * - The passwd-file holds the accounts: disable, enable and delete edit it atomically.
 */
import { CAPABILITIES, type AutoReplySpec, type ExportOptions, type ForwardingLimits, type ForwardingReading, type ForwardingSpec, type MailProvider, type ProviderRule } from '../../core/provider.js';
import type { Mailbox } from '../../core/mailbox.js';
import type { BackupManifest } from '../../core/backup.js';
import { PostmasterError } from '../../core/errors.js';
import { isManageSieveError } from './managesieve/errors.js';
import type { PostmasterSieveState } from './sieve/postmaster-script.js';
import { exportMailbox, type ImapLogin } from '../shared/imap-export.js';
import { hostPort } from '../shared/endpoint.js';
import { DoveadmClient } from './doveadm.js';
import { readPasswdFile, removeEntry, setLoginDisabled, type PasswdEntry } from './passwd-file.js';
import { doveadmScripts, openManageSieve, type ManageSieveLogin, type SieveScripts } from './sieve-scripts.js';
import { forwardingOf, readingOf, readSituation, unmanagedRedirects, updateState } from './owned-script.js';

export interface DovecotSettings {
  imapUrl: string;
  sieveUrl: string;
  adminUser: string;
  adminPassword: string;
  doveadmUrl: string;
  doveadmKey: string;
  passwdFile: string;
}

/** Dovecot re-reads the passwd-file at most once a second; allow a few seconds under load. */
const LOGIN_CHANGE_TIMEOUT_MS = 5_000;

/** passwd-file reasons cannot contain spaces (Dovecot splits extra fields on them). */
const DISABLED_REASON = 'Account_disabled_by_Postmaster';

export class DovecotProvider implements MailProvider {
  readonly name = 'dovecot';
  readonly capabilities = new Set(CAPABILITIES);
  private readonly doveadm: DoveadmClient;
  private readonly imap: { host: string; port: number; secure: boolean };
  private readonly sieve: ManageSieveLogin;
  /** MAXREDIRECTS is server-wide; read once from the first authenticated ManageSieve session. */
  private maxRedirects: number | undefined | null = null;

  constructor(private readonly settings: DovecotSettings) {
    this.doveadm = new DoveadmClient({ url: settings.doveadmUrl, apiKey: settings.doveadmKey });
    this.imap = hostPort(settings.imapUrl);
    this.sieve = { ...hostPort(settings.sieveUrl), adminUser: settings.adminUser, adminPassword: settings.adminPassword };
  }

  async listMailboxes(): Promise<Mailbox[]> {
    const entries = await readPasswdFile(this.settings.passwdFile);
    return entries.map(toMailbox);
  }

  async getMailbox(address: string): Promise<Mailbox | undefined> {
    const entry = await this.entry(address);
    if (!entry) return undefined;
    const mailbox = toMailbox(entry);
    const situation = await readSituation(doveadmScripts(this.doveadm, entry.address));
    mailbox.forwarding = forwardingOf(situation);
    if (situation.state.autoReply) {
      const { subject, body, endDate } = situation.state.autoReply;
      mailbox.autoReply = { subject, body, endDate };
    }
    const status = await this.doveadm.mailboxStatus(entry.address, ['messages', 'vsize'], '*');
    mailbox.messages = status.reduce((sum, folder) => sum + Number(folder.messages ?? 0), 0);
    mailbox.bytes = status.reduce((sum, folder) => sum + Number(folder.vsize ?? 0), 0);
    return mailbox;
  }

  async export(address: string, options: ExportOptions): Promise<BackupManifest> {
    const login: ImapLogin = { ...this.imap, user: this.settings.adminUser, password: this.settings.adminPassword, authzid: address };
    return exportMailbox(login, address, options);
  }

  async forwardingLimits(address: string): Promise<ForwardingLimits> {
    const situation = await readSituation(doveadmScripts(this.doveadm, address));
    if (this.maxRedirects === null) {
      const session = await openManageSieve(this.sieve, address);
      this.maxRedirects = session.maxRedirects;
      await session.close();
    }
    return { maxRedirects: this.maxRedirects, unmanagedRedirects: unmanagedRedirects(situation) };
  }

  async setForwarding(address: string, spec: ForwardingSpec): Promise<void> {
    await this.withScripts(address, (scripts) =>
      updateState(scripts, (state) => ({ ...state, forward: { targets: spec.targets, keepCopy: spec.keepCopy, expiresAt: spec.expiresAt } })),
    );
  }

  async clearForwarding(address: string): Promise<void> {
    await this.withScripts(address, (scripts) => updateState(scripts, ({ forward: _drop, ...state }) => state));
  }

  async setAutoReply(address: string, spec: AutoReplySpec): Promise<void> {
    await this.withScripts(address, (scripts) =>
      updateState(scripts, (state) => ({
        ...state,
        autoReply: { subject: spec.subject, body: spec.body, addresses: [address], startDate: spec.startDate, endDate: spec.endDate, days: spec.days },
      })),
    );
  }

  async clearAutoReply(address: string): Promise<void> {
    await this.withScripts(address, (scripts) => updateState(scripts, ({ autoReply: _drop, ...state }) => state));
  }

  async revokeSessions(address: string): Promise<{ sessionsEnded: number }> {
    return { sessionsEnded: await this.doveadm.kick(address) };
  }

  /**
   * Dovecot notices a passwd-file change within about a second, so the step waits until a login
   * as the mailbox is really refused, then ends any session opened in that second: "disabled"
   * means no way in, not "will be disabled shortly".
   */
  async readForwarding(address: string): Promise<ForwardingReading> {
    return readingOf(address.toLowerCase(), await readSituation(doveadmScripts(this.doveadm, address)));
  }

  async setRules(address: string, rules: ProviderRule[]): Promise<void> {
    await this.withScripts(address, (scripts) =>
      updateState(scripts, (state) => {
        const { rules: _old, ...rest } = state;
        return rules.length ? { ...rest, rules: rules.map(toSieveRule) } : rest;
      }),
    );
  }

  async disable(address: string): Promise<void> {
    await setLoginDisabled(this.settings.passwdFile, address, true, DISABLED_REASON);
    await this.waitForLogin(address, 'refused');
    await this.doveadm.kick(address);
  }

  async enable(address: string): Promise<void> {
    await setLoginDisabled(this.settings.passwdFile, address, false);
    await this.waitForLogin(address, 'allowed');
  }

  async delete(address: string): Promise<void> {
    if (!(await this.entry(address))) return;
    // Mail first, account last: if this fails halfway, the account is still there to retry against.
    await this.doveadm.mailboxDeleteAll(address);
    await removeEntry(this.settings.passwdFile, address);
  }

  async close(): Promise<void> {}

  /** Polls a master-user ManageSieve login as the mailbox until it is refused (or allowed). */
  private async waitForLogin(address: string, expected: 'refused' | 'allowed'): Promise<void> {
    const deadline = Date.now() + LOGIN_CHANGE_TIMEOUT_MS;
    for (;;) {
      let allowed: boolean;
      try {
        await (await openManageSieve(this.sieve, address)).close();
        allowed = true;
      } catch (error) {
        if (!isManageSieveError(error, 'LoginDisabled') && !isManageSieveError(error, 'AuthorizationFailed')) throw error;
        allowed = false;
      }
      if (allowed === (expected === 'allowed')) return;
      if (Date.now() > deadline) {
        throw new PostmasterError('ProviderError', `Dovecot still ${allowed ? 'accepts' : 'refuses'} logins for ${address} ${LOGIN_CHANGE_TIMEOUT_MS / 1000} s after the passwd-file was changed`, {
          hint: `check that DOVECOT_PASSWD_FILE (${this.settings.passwdFile}) is the file Dovecot's passdb reads`,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async entry(address: string): Promise<PasswdEntry | undefined> {
    const wanted = address.toLowerCase();
    return (await readPasswdFile(this.settings.passwdFile)).find((e) => e.address.toLowerCase() === wanted);
  }

  /**
   * ManageSieve while the login works (the server compiles the script first); doveadm after disable.
   * Every change to a mailbox's Sieve reads Postmaster's state from its script and writes it back,
   * so two at once would each lose the other's: callers hold the mailbox's lock, which compose puts
   * around every provider (core/locked-provider.ts), in this process and across processes.
   */
  private async withScripts(address: string, work: (scripts: SieveScripts) => Promise<void>): Promise<void> {
    const entry = await this.entry(address);
    const scripts = entry && !entry.disabled ? await openManageSieve(this.sieve, address) : doveadmScripts(this.doveadm, address);
    try {
      await work(scripts);
    } finally {
      await scripts.close();
    }
  }
}

function toSieveRule(rule: ProviderRule): NonNullable<PostmasterSieveState['rules']>[number] {
  return {
    id: rule.id,
    targets: rule.targets,
    keepCopy: rule.keepCopy,
    match: rule.match,
    senderContains: rule.senderContains,
    subjectContains: rule.subjectContains,
    expiresAt: rule.expiresAt,
  };
}

function toMailbox(entry: PasswdEntry): Mailbox {
  return { address: entry.address.toLowerCase(), status: entry.disabled ? 'disabled' : 'active' };
}
