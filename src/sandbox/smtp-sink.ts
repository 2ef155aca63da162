/**
 * An SMTP server that accepts everything and keeps it, standing in for the outside world: Sieve
 * redirects and vacation replies that Dovecot submits land here, where tests and the sandbox can see them.
 */
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface SunkMessage {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
  receivedAt: Date;
}

export interface SmtpSink {
  port: number;
  host: string;
  messages: SunkMessage[];
  /** Resolves with the first message (already received or arriving later) that matches. */
  waitFor(predicate: (message: SunkMessage) => boolean, timeoutMs?: number): Promise<SunkMessage>;
  close(): Promise<void>;
}

export async function startSmtpSink(options: { port?: number; saveDir?: string } = {}): Promise<SmtpSink> {
  const messages: SunkMessage[] = [];
  const waiters: Array<{ predicate: (m: SunkMessage) => boolean; resolve: (m: SunkMessage) => void }> = [];
  if (options.saveDir) await mkdir(options.saveDir, { recursive: true });

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        try {
          const raw = Buffer.concat(chunks);
          const message: SunkMessage = {
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            raw,
            parsed: await simpleParser(raw),
            receivedAt: new Date(),
          };
          messages.push(message);
          if (options.saveDir) {
            const name = `${message.receivedAt.toISOString().replace(/[:.]/g, '-')}-${messages.length}.eml`;
            await writeFile(path.join(options.saveDir, name), raw);
          }
          for (const waiter of [...waiters]) {
            if (waiter.predicate(message)) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(message);
            }
          }
          callback();
        } catch (error) {
          callback(error as Error);
        }
      });
    },
  });

  const host = '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    host,
    messages,
    waitFor(predicate, timeoutMs = 10_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve: (m: SunkMessage) => { clearTimeout(timer); resolve(m); } };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching message reached the SMTP sink within ${timeoutMs} ms (it holds ${messages.length})`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
