import { z } from 'zod';

/** An email address, lower-cased: mailboxes are compared case-insensitively everywhere. */
export const AddressSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[^\s@"<>(),;:\\[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/, 'is not an email address');

export type Address = z.infer<typeof AddressSchema>;

export type MailboxStatus = 'active' | 'disabled';

export interface ForwardingState {
  targets: string[];
  keepCopy: boolean;
  /** True when Postmaster wrote it; false when the user or another tool did. */
  managed: boolean;
  expiresAt?: string | undefined;
}

export interface AutoReplyState {
  subject: string;
  body: string;
  endDate?: string | undefined;
}

export interface Mailbox {
  address: Address;
  status: MailboxStatus;
  displayName?: string | undefined;
  /** The mail system's own word for the status when it has one (Alibaba Mail: NORMAL or FREEZE). */
  providerStatus?: string | undefined;
  /** Present when the provider can read them cheaply; undefined means "not known", not "none". */
  forwarding?: ForwardingState | undefined;
  autoReply?: AutoReplyState | undefined;
  messages?: number | undefined;
  bytes?: number | undefined;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export function localPartOf(address: string): string {
  return address.slice(0, address.lastIndexOf('@'));
}

/** "alice" means alice@<domain>; a full address stays as it is. Trimmed and lower-cased, not validated. */
export function qualifyAddress(input: string, domain: string): string {
  const trimmed = input.trim().toLowerCase();
  return trimmed && !trimmed.includes('@') ? `${trimmed}@${domain.toLowerCase()}` : trimmed;
}
