/**
 * One view of a mailbox's Sieve scripts over two transports. ManageSieve (RFC 5804) is the standard
 * path and checks a script with the server's own compiler before it is stored. Once a login is
 * disabled (passwd-file nologin=y) Dovecot refuses ManageSieve even through the master user, so
 * the doveadm HTTP API takes over for that mailbox.
 */
import { ManageSieveClient } from './managesieve/client.js';
import type { DoveadmClient } from './doveadm.js';

export interface ScriptInfo {
  name: string;
  active: boolean;
}

export interface SieveScripts {
  list(): Promise<ScriptInfo[]>;
  get(name: string): Promise<string>;
  /** Stores the script; ManageSieve compiles it first and refuses one that does not compile. */
  put(name: string, text: string): Promise<void>;
  /** null deactivates every script. */
  activate(name: string | null): Promise<void>;
  remove(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface ManageSieveLogin {
  host: string;
  port: number;
  secure: boolean;
  adminUser: string;
  adminPassword: string;
}

export async function openManageSieve(login: ManageSieveLogin, mailbox: string): Promise<SieveScripts & { maxRedirects: number | undefined }> {
  const client = await ManageSieveClient.connect({
    host: login.host,
    port: login.port,
    secure: login.secure,
    user: login.adminUser,
    authzid: mailbox,
    password: login.adminPassword,
  });
  return {
    maxRedirects: client.capabilities.maxRedirects,
    list: () => client.listScripts(),
    get: (name) => client.getScript(name),
    async put(name, text) {
      await client.putScript(name, text);
    },
    async activate(name) {
      await client.setActive(name ?? '');
    },
    async remove(name) {
      await client.deleteScript(name);
    },
    async close() {
      await client.logout();
    },
  };
}

export function doveadmScripts(doveadm: DoveadmClient, mailbox: string): SieveScripts {
  return {
    list: () => doveadm.sieveList(mailbox),
    get: (name) => doveadm.sieveGet(mailbox, name),
    put: (name, text) => doveadm.sievePut(mailbox, name, text),
    activate: (name) => (name === null ? doveadm.sieveDeactivate(mailbox) : doveadm.sieveActivate(mailbox, name)),
    remove: (name) => doveadm.sieveDelete(mailbox, name),
    async close() {},
  };
}
