/**
 * SENSITIVE_MAILBOXES: mailboxes that never forward outside the domain. Entries are addresses or
 * globs (`finance-*@example.test`, `*@hr.example.test`); `*` is any run of characters and `?` one
 * character, neither crossing the `@`, so `ceo*` can never reach into another domain.
 */
import { badInput } from '../errors.js';

export type SensitiveMatcher = (address: string) => boolean;

const ENTRY = /^[^\s@"<>(),;:\\[\]]+@[a-z0-9*?](?:[a-z0-9.*?-]*[a-z0-9*?])?$/;

/**
 * Builds the matcher from the setting's raw text (comma-separated) or from a list. A bare local
 * part ("ceo") means that mailbox in `domain`. Throws BadInput naming the first entry that is
 * neither an address nor a glob, so config validation can report it as is.
 */
export function sensitiveMatcher(list: string | readonly string[], domain?: string): SensitiveMatcher {
  const entries = (typeof list === 'string' ? list.split(',') : [...list]).map((entry) => entry.trim().toLowerCase()).filter(Boolean);
  const exact = new Set<string>();
  const globs: string[] = [];
  for (const raw of entries) {
    const entry = raw.includes('@') || domain === undefined ? raw : `${raw}@${domain.toLowerCase()}`;
    if (!ENTRY.test(entry)) {
      throw badInput(`SENSITIVE_MAILBOXES entry "${raw}" is not an address or a glob`, 'write addresses or globs like finance-*@example.test, separated by commas');
    }
    if (/[*?]/.test(entry)) globs.push(entry.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^@]*').replace(/\?/g, '[^@]'));
    else exact.add(entry);
  }
  const pattern = globs.length ? new RegExp(`^(?:${globs.join('|')})$`) : undefined;
  if (!pattern && exact.size === 0) return () => false;
  return (address) => {
    const key = address.trim().toLowerCase();
    return exact.has(key) || (pattern !== undefined && pattern.test(key));
  };
}
