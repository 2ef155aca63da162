/**
 * Alibaba Mail (阿里邮箱 / 阿里云企业邮箱) through its Open API, as far as the public documentation
 * goes (docs/alimail-contract.md):
 * - the account list walks the department tree; freeze, unfreeze and delete are API calls;
 * - the backup goes over IMAP with the shared exporter, logged in with a one-off password that the
 *   API sets just before (there is no raw-message endpoint and no master user);
 * - forwarding, auto-reply and ending live sessions have no endpoint: they are manual tasks with the
 *   console's own menu names, and the forwarding audit says it could not read them.
 */
import type { Logger } from '../../logger.js';
import type { BackupManifest } from '../../core/backup.js';
import { PostmasterError, isPostmasterError, refused } from '../../core/errors.js';
import type { Mailbox } from '../../core/mailbox.js';
import type { Capability, ExportOptions, ForwardingLimits, ForwardingReading, MailProvider, RevokeResult } from '../../core/provider.js';
import { exportMailbox } from '../shared/imap-export.js';
import { hostPort } from '../shared/endpoint.js';
import { AlimailClient, segment } from './client.js';
import { listDirectoryUsers, type AlimailUser } from './directory.js';
import { randomExportPassword } from './export-password.js';
import { manualInstructions, type ManualPlan } from './manual-steps.js';

export interface AliyunSettings {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  requestsPerSecond: number;
  /** Where the backup reads mail: imaps://imap.qiye.aliyun.com:993 for Alibaba Mail. */
  imapUrl: string;
  logger?: Logger | undefined;
}

export const ALIYUN_CAPABILITIES: readonly Capability[] = ['listMailboxes', 'getMailbox', 'export', 'disable', 'enable', 'delete'];

/** Where each region's Open API lives (Alibaba's clusters cannot be mixed). */
export const ALIMAIL_REGIONS = {
  cn: 'https://alimail-cn.aliyuncs.com',
  sg: 'https://alimail-sg.aliyuncs.com',
  hk: 'https://alimail-hk.aliyuncs.com',
  de: 'https://alimail-de.aliyuncs.com',
  us: 'https://alimail-us.aliyuncs.com',
} as const;

export class AliyunProvider implements MailProvider {
  readonly name = 'aliyun';
  readonly capabilities: ReadonlySet<Capability> = new Set(ALIYUN_CAPABILITIES);
  readonly client: AlimailClient;

  constructor(private readonly settings: AliyunSettings) {
    this.client = new AlimailClient({
      baseUrl: settings.baseUrl,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      requestsPerSecond: settings.requestsPerSecond,
      logger: settings.logger,
    });
  }

  async listMailboxes(): Promise<Mailbox[]> {
    const users = await listDirectoryUsers(this.client);
    return users.filter((u) => u.email).map(toMailbox).sort((a, b) => a.address.localeCompare(b.address));
  }

  async getMailbox(address: string): Promise<Mailbox | undefined> {
    const user = await this.user(address);
    return user && toMailbox(user);
  }

  /**
   * Resets the password to a random one held only in this call's memory, then exports over IMAP.
   * Every attempt sets a fresh one, so a failed export leaves nothing half-done to clean up: the
   * old password was already replaced, and the new one is gone with this call.
   */
  async export(address: string, options: ExportOptions): Promise<BackupManifest> {
    const user = await this.user(address);
    if (!user) throw new PostmasterError('NotFound', `mailbox ${address} does not exist on Alibaba Mail`);
    if (user.status === 'FREEZE') {
      throw refused(
        `${address} is frozen (FREEZE) on Alibaba Mail, and a frozen account cannot log in over IMAP for the backup`,
        'unfreeze it in the admin console (邮箱管理 → 选择目标邮箱 → 解冻 / Unfreeze), then retry the step; the disable step freezes it again after the backup',
      );
    }
    const password = randomExportPassword();
    await this.client.request('POST', `/v2/users/${segment(address)}/resetPassword`, { json: { password, forceChangePasswordNextSignIn: false } });
    // The password was just set, so a refused login means IMAP itself is closed to this account.
    const refusedHint =
      'Alibaba Mail accepted the new password but IMAP refused it: check that IMAP is allowed for this account in the admin console and that it does not require a client-specific password (三方客户端安全密码), then retry';
    return exportMailbox({ ...hostPort(this.settings.imapUrl), user: address, password, refusedHint }, address, options);
  }

  async forwardingLimits(): Promise<ForwardingLimits> {
    return { maxRedirects: undefined, unmanagedRedirects: 0 };
  }

  async readForwarding(address: string): Promise<ForwardingReading> {
    return { mailbox: address.toLowerCase(), readable: false, error: 'forwarding cannot be read through the Alibaba Mail Open API' };
  }

  async disable(address: string): Promise<void> {
    await this.setStatus(address, 'FREEZE');
  }

  async enable(address: string): Promise<void> {
    await this.setStatus(address, 'NORMAL');
  }

  /** A 404 means the account is already gone: deleting twice succeeds. */
  async delete(address: string): Promise<void> {
    try {
      await this.client.request('DELETE', `/v2/users/${segment(address)}`);
    } catch (error) {
      if (!isPostmasterError(error, 'NotFound')) throw error;
    }
  }

  manualInstructions(capability: Capability, plan: ManualPlan): string {
    return manualInstructions(capability, plan);
  }

  stepNote(capability: Capability, plan: { mailbox: string }): string | undefined {
    if (capability !== 'export') return undefined;
    return `Alibaba Mail has no admin login for IMAP: the backup first resets ${plan.mailbox}'s password to a random one that is used only in memory for the export and never stored or shown, so ${plan.mailbox}'s own password stops working from then on`;
  }

  // Not in the Open API: the core never calls these (the capabilities say so); a direct call is told why.
  setForwarding = this.unsupported('setForwarding');
  clearForwarding = this.unsupported('clearForwarding');
  setAutoReply = this.unsupported('setAutoReply');
  clearAutoReply = this.unsupported('clearAutoReply');
  setRules = this.unsupported('setRules');
  revokeSessions = this.unsupported('revokeSessions') as (address: string) => Promise<RevokeResult>;

  async close(): Promise<void> {
    this.client.close();
  }

  private unsupported(capability: Capability) {
    return async (address: string): Promise<never> => {
      throw new PostmasterError('Unsupported', `Alibaba Mail's Open API cannot ${capability} for ${address}`, { hint: manualInstructions(capability, { mailbox: address }) });
    };
  }

  private async user(address: string): Promise<AlimailUser | undefined> {
    try {
      return await this.client.get<AlimailUser>(`/v2/users/${segment(address)}`);
    } catch (error) {
      if (isPostmasterError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  private async setStatus(address: string, status: 'FREEZE' | 'NORMAL'): Promise<void> {
    try {
      await this.client.request('PATCH', `/v2/users/${segment(address)}`, { json: { status } });
    } catch (error) {
      if (isPostmasterError(error, 'NotFound')) throw new PostmasterError('NotFound', `mailbox ${address} does not exist on Alibaba Mail`, { cause: error });
      throw error;
    }
  }
}

function toMailbox(user: AlimailUser): Mailbox {
  return {
    address: user.email.toLowerCase(),
    status: user.status === 'FREEZE' ? 'disabled' : 'active',
    providerStatus: user.status,
    ...(user.name ? { displayName: user.name } : {}),
  };
}
