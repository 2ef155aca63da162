/**
 * Ways a test looks at the mail server directly, as an admin or a user would, without going
 * through the code under test.
 */
import { ImapFlow } from 'imapflow';
import type { DovecotInstance } from '../../src/sandbox/dovecot-instance.js';

/** Tries a plain IMAP login; resolves with 'ok' or the server's refusal text. */
export async function tryImapLogin(dovecot: DovecotInstance, user: string, password: string): Promise<string> {
  const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.ports.imap, secure: false, auth: { user, pass: password }, logger: false });
  try {
    await client.connect();
    await client.logout();
    return 'ok';
  } catch (error) {
    const e = error as { responseText?: string; message: string; serverResponseCode?: string };
    return `${e.serverResponseCode ?? ''} ${e.responseText ?? e.message}`.trim();
  }
}

/** Opens an IMAP session as the user and keeps it, to see whether revoke_sessions ends it. */
export async function openSession(dovecot: DovecotInstance, user: string, password: string): Promise<{ closed: Promise<void>; client: ImapFlow }> {
  const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.ports.imap, secure: false, auth: { user, pass: password }, logger: false });
  await client.connect();
  await client.mailboxOpen('INBOX');
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.on('error', () => undefined);
  return { closed, client };
}

/** Runs doveadm HTTP API commands directly (the recipe in shared/mail-server.md). */
export async function doveadm(dovecot: DovecotInstance, command: string, params: Record<string, unknown>): Promise<unknown> {
  const response = await fetch(`${dovecot.doveadmUrl}/doveadm/v1`, {
    method: 'POST',
    headers: { Authorization: `X-Dovecot-API ${Buffer.from(dovecot.doveadmKey).toString('base64')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify([[command, params, 't']]),
  });
  const [[kind, result]] = (await response.json()) as [[string, unknown]];
  if (kind !== 'doveadmResponse') throw new Error(`doveadm ${command}: ${JSON.stringify(result)}`);
  return result;
}

/** Message count per folder, as the server sees it. */
export async function folderCounts(dovecot: DovecotInstance, user: string): Promise<Record<string, number>> {
  const rows = (await doveadm(dovecot, 'mailboxStatus', { user, field: ['messages'], mailboxMask: ['*'] })) as Array<{ mailbox: string; messages: string }>;
  return Object.fromEntries(rows.map((r) => [r.mailbox, Number(r.messages)]));
}

export async function sieveScripts(dovecot: DovecotInstance, user: string): Promise<Array<{ script: string; active: string }>> {
  return (await doveadm(dovecot, 'sieveList', { user })) as Array<{ script: string; active: string }>;
}

export async function putUserScript(dovecot: DovecotInstance, user: string, name: string, text: string): Promise<void> {
  await doveadm(dovecot, 'sievePut', { user, scriptname: name, file: text, activate: true });
}
