/**
 * Delivers a message through LMTP (RFC 2033), the way an MTA hands mail to Dovecot, so that Sieve
 * (redirect, vacation, the user's own rules) runs exactly as it does for real inbound mail.
 */
import net from 'node:net';

export interface LmtpMessage {
  from: string;
  to: string;
  subject: string;
  body?: string;
  messageId?: string;
  headers?: Record<string, string>;
}

export function buildMessage(message: LmtpMessage): string {
  const messageId = message.messageId ?? `<${Date.now()}.${Math.random().toString(36).slice(2)}@sender.test>`;
  const headers: Record<string, string> = {
    From: message.from,
    To: message.to,
    Subject: message.subject,
    'Message-ID': messageId,
    Date: new Date().toUTCString(),
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Transfer-Encoding': '8bit',
    ...message.headers,
  };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  const body = (message.body ?? 'Hello.').replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  return `${head}\r\n\r\n${body}\r\n`;
}

/** Sends one message and resolves with the server's final reply for the recipient. */
export async function deliverLmtp(port: number, message: LmtpMessage, host = '127.0.0.1'): Promise<string> {
  const data = buildMessage(message);
  const socket = net.connect(port, host);
  socket.setEncoding('utf8');
  let buffer = '';
  const replies: string[] = [];
  let notify: (() => void) | undefined;
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let index: number;
    while ((index = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      // A multi-line reply continues with "250-"; only the last line ("250 ") completes it.
      if (/^\d{3} /.test(line)) {
        replies.push(line);
        notify?.();
      }
    }
  });
  const failure = new Promise<never>((_, reject) => socket.once('error', reject));
  const next = async (): Promise<string> => {
    while (replies.length === 0) await Promise.race([new Promise<void>((r) => (notify = r)), failure]);
    return replies.shift()!;
  };
  const expect = async (code: string, what: string) => {
    const reply = await next();
    if (!reply.startsWith(code)) throw new Error(`LMTP ${what} refused: ${reply}`);
    return reply;
  };
  try {
    await expect('220', 'greeting');
    socket.write('LHLO postmaster.test\r\n');
    await expect('250', 'LHLO');
    socket.write(`MAIL FROM:<${message.from}>\r\n`);
    await expect('250', 'MAIL FROM');
    socket.write(`RCPT TO:<${message.to}>\r\n`);
    await expect('250', 'RCPT TO');
    socket.write('DATA\r\n');
    await expect('354', 'DATA');
    socket.write(`${data}.\r\n`);
    const final = await expect('250', 'delivery');
    socket.write('QUIT\r\n');
    return final;
  } finally {
    socket.end();
  }
}
