/**
 * The one ManageSieve facade (RFC 5804): connect and log in with `ManageSieveClient.connect`, then
 * call one method per protocol verb. Every method rejects with a ManageSieveError; branch on `kind`.
 */
import type tls from 'node:tls';
import { Connection } from './connection.js';
import { ManageSieveError, errorFromResponse } from './errors.js';
import { authenticate } from './commands/authenticate.js';
import { capability, parseCapabilities, type ManageSieveCapabilities } from './commands/capability.js';
import { checkscript } from './commands/checkscript.js';
import { deletescript } from './commands/deletescript.js';
import { getscript } from './commands/getscript.js';
import { listscripts, type ScriptInfo } from './commands/listscripts.js';
import { logout } from './commands/logout.js';
import { putscript, type ScriptCheck } from './commands/putscript.js';
import { setactive } from './commands/setactive.js';
import { starttls } from './commands/starttls.js';

export interface ManageSieveConnectOptions {
  host: string;
  /** 4190 is the IANA port (RFC 5804 §1.8). */
  port?: number;
  /** Implicit TLS from the first byte. */
  secure?: boolean;
  /** On a plain connection, upgrade with STARTTLS when the server offers it (default true). */
  startTls?: boolean;
  tls?: tls.ConnectionOptions;
  /** The authentication identity: the admin (master) user, or the mailbox owner. */
  user: string;
  /** The mailbox to act as, through the admin user. */
  authzid?: string;
  password: string;
  /** Limit for connecting and for each response; default 10 s. */
  timeoutMs?: number;
}

export class ManageSieveClient {
  private constructor(
    private readonly connection: Connection,
    private caps: ManageSieveCapabilities,
  ) {}

  /** Connects, reads the greeting, upgrades to TLS when offered, logs in and re-reads CAPABILITY. */
  static async connect(options: ManageSieveConnectOptions): Promise<ManageSieveClient> {
    const connection = await Connection.open({
      host: options.host,
      port: options.port ?? 4190,
      secure: options.secure,
      tls: options.tls,
      timeoutMs: options.timeoutMs ?? 10_000,
    });
    try {
      const greeting = await connection.read();
      if (greeting.status !== 'OK') throw errorFromResponse('ManageSieve greeting', greeting);
      let caps = parseCapabilities(greeting.lines);
      if (caps.startTls && !connection.encrypted && options.startTls !== false) caps = await starttls(connection);
      if (!caps.saslMechanisms.includes('PLAIN')) {
        throw new ManageSieveError('ServerError', `ManageSieve server ${options.host} does not offer SASL PLAIN (it offers: ${caps.saslMechanisms.join(' ') || 'nothing'})`, {
          hint: caps.startTls ? 'allow STARTTLS; servers often offer PLAIN only over TLS' : undefined,
        });
      }
      await authenticate(connection, options);
      // Without a SASL security layer the server does not re-announce itself (§2.1), but Dovecot
      // lists some capabilities (MAXREDIRECTS) only to logged-in users, so ask again.
      return new ManageSieveClient(connection, await capability(connection));
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** The capabilities as of login (see `refreshCapabilities`). */
  get capabilities(): ManageSieveCapabilities {
    return this.caps;
  }

  async refreshCapabilities(): Promise<ManageSieveCapabilities> {
    this.caps = await capability(this.connection);
    return this.caps;
  }

  listScripts(): Promise<ScriptInfo[]> {
    return listscripts(this.connection);
  }

  /** The name of the active script, or null when none is active. */
  async activeScript(): Promise<string | null> {
    return (await this.listScripts()).find((script) => script.active)?.name ?? null;
  }

  getScript(name: string): Promise<string> {
    return getscript(this.connection, name);
  }

  putScript(name: string, content: string): Promise<ScriptCheck> {
    return putscript(this.connection, name, content);
  }

  checkScript(content: string): Promise<ScriptCheck> {
    return checkscript(this.connection, content);
  }

  /** Activates `name`; "" (or null) deactivates every script. */
  setActive(name: string | null): Promise<void> {
    return setactive(this.connection, name ?? '');
  }

  deleteScript(name: string): Promise<void> {
    return deletescript(this.connection, name);
  }

  logout(): Promise<void> {
    return logout(this.connection);
  }

  /** Drops the connection without LOGOUT (for cleanup after an error). */
  close(): void {
    this.connection.close();
  }
}

/** Reads host and port from a sieve:// URL (RFC 5804 §3), e.g. "sieve://127.0.0.1:4190". */
export function parseSieveUrl(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'sieve:') throw new ManageSieveError('ConnectionFailed', `"${url}" is not a sieve:// URL`);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port ? Number(parsed.port) : 4190 };
}
