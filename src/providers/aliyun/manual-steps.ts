/**
 * What an admin does by hand where Alibaba Mail's Open API has no endpoint, in the admin console's
 * own words (Chinese first, as the console shows it, then English). The run waits until someone
 * marks the step done.
 */
import type { Capability, ForwardingSpec } from '../../core/provider.js';

export interface ManualPlan {
  mailbox: string;
  forward?: ForwardingSpec | undefined;
  successor?: string | undefined;
  autoReply?: { subject: string; body: string; startDate?: string | undefined; endDate?: string | undefined } | undefined;
}

const CONSOLE = '阿里邮箱管理后台 (Alibaba Mail admin console)';

export function manualInstructions(capability: Capability, plan: ManualPlan): string {
  const box = plan.mailbox;
  switch (capability) {
    case 'setForwarding': {
      const targets = plan.forward?.targets.join(', ') ?? plan.successor ?? '(the successor)';
      const keep = plan.forward?.keepCopy ?? true;
      const until = plan.forward?.expiresAt;
      return [
        `${CONSOLE}: 邮箱管理 → 选择目标邮箱 ${box} → 邮件转发 → 添加转发地址 ${targets}；${keep ? '勾选“保留原邮件”' : '不保留原邮件'}。${until ? `阿里邮箱的转发没有到期日：请在 ${until} 删除该转发（Postmaster 届时会提醒）。` : ''}`,
        `Mailbox management → select ${box} → Mail forwarding → add ${targets}; ${keep ? 'keep a copy in the mailbox' : 'do not keep a copy'}.${until ? ` The forward has no end date in Alibaba Mail: remove it on ${until} (Postmaster reminds you then).` : ''}`,
      ].join('\n');
    }
    case 'clearForwarding':
      return [
        `${CONSOLE}: 邮箱管理 → 选择目标邮箱 ${box} → 邮件转发 → 删除转发地址。`,
        `Mailbox management → select ${box} → Mail forwarding → remove the forwarding addresses.`,
      ].join('\n');
    case 'setAutoReply': {
      const reply = plan.autoReply;
      const period = reply?.endDate ? `，结束日期 ${reply.endDate}` : '';
      return [
        `${CONSOLE}: 邮箱管理 → 选择目标邮箱 ${box} → 自动回复 → 开启${period}；主题：“${reply?.subject ?? ''}”；内容如下。`,
        `Mailbox management → select ${box} → Auto reply → turn on${reply?.endDate ? `, end date ${reply.endDate}` : ''}; subject "${reply?.subject ?? ''}"; text:`,
        reply?.body ?? '',
      ].join('\n');
    }
    case 'clearAutoReply':
      return [`${CONSOLE}: 邮箱管理 → 选择目标邮箱 ${box} → 自动回复 → 关闭。`, `Mailbox management → select ${box} → Auto reply → turn off.`].join('\n');
    case 'revokeSessions':
      return [
        `${CONSOLE}: 开放 API 没有结束登录会话的接口。邮箱管理 → 选择目标邮箱 ${box} → 重置密码（不要告知任何人），并关闭该账号的客户端专用密码，使已登录的网页、客户端与 IMAP/POP 会话失效。`,
        `The Open API cannot end live sessions. Mailbox management → select ${box} → reset the password (tell no one) and turn off its client-specific passwords, so signed-in web, desktop and IMAP/POP sessions lose access.`,
      ].join('\n');
    case 'setRules':
    case 'readForwarding':
      return [
        `${CONSOLE}: 邮箱管理 → 选择目标邮箱 ${box} → 邮件转发 / 收信规则。开放 API 无法读取或设置转发规则。`,
        `Mailbox management → select ${box} → Mail forwarding / inbox rules. The Open API can neither read nor set forwarding rules.`,
      ].join('\n');
    default:
      return `${CONSOLE}: 邮箱管理 → 选择目标邮箱 ${box}. Do "${capability}" by hand, then mark it done.`;
  }
}
