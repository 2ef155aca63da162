/**
 * A provider whose changes to a mailbox's forwarding, auto-reply and rules hold that mailbox's lock
 * (see Locks). On servers where these live in one script per mailbox (Dovecot's Sieve), each change
 * reads the script, edits it and writes it back: two processes changing one mailbox at once (a run
 * setting the auto-reply in the bot, a rule added from the CLI) would each lose the other's edit.
 */
import type { MailProvider } from './provider.js';
import type { Locks } from './ports.js';

const MAILBOX_CHANGES: ReadonlySet<PropertyKey> = new Set<keyof MailProvider>(['setForwarding', 'clearForwarding', 'setAutoReply', 'clearAutoReply', 'setRules']);

export function withMailboxLocks(provider: MailProvider, locks: Locks): MailProvider {
  return new Proxy(provider, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (!MAILBOX_CHANGES.has(key)) return value.bind(target);
      return (address: string, ...rest: unknown[]) => locks.hold(`mailbox ${address.toLowerCase()}`, () => value.call(target, address, ...rest));
    },
  });
}
