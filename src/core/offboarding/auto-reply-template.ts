/**
 * The auto-reply people expect from a colleague who left: short, in English and Chinese (our users
 * write to each other in both), naming who to contact instead.
 */
export function defaultAutoReply(options: { successor?: string | undefined; endDate?: string | undefined }): { subject: string; body: string } {
  const { successor, endDate } = options;
  const until = endDate ? ` This notice runs until ${endDate}.` : '';
  const untilZh = endDate ? `本自动回复至 ${endDate} 止。` : '';
  const english = successor
    ? `Thank you for your message. I have left the company. Please contact ${successor} from now on; your message has been passed on.${until}`
    : `Thank you for your message. I have left the company, and this mailbox is no longer read.${until}`;
  const chinese = successor
    ? `感谢您的来信。我已离职，今后请联系 ${successor}，您的邮件已转交。${untilZh}`
    : `感谢您的来信。我已离职，此邮箱不再有人查看。${untilZh}`;
  return { subject: 'No longer with the company / 已离职', body: `${english}\n\n${chinese}` };
}
