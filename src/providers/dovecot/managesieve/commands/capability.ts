/**
 * CAPABILITY (RFC 5804 §2.4), and the parser for the capability listing that also forms the
 * greeting (§1.7) and the answer to STARTTLS.
 */
import type { Connection } from '../connection.js';
import { errorFromResponse } from '../errors.js';
import { stringsOf, type Token } from '../wire.js';

export interface ManageSieveCapabilities {
  implementation?: string;
  /** Sieve extensions the server supports: "fileinto", "vacation", "copy", "include"... */
  sieveExtensions: string[];
  saslMechanisms: string[];
  startTls: boolean;
  /**
   * How many redirects one delivery may perform (Pigeonhole's sieve_max_redirects). Dovecot lists
   * it only after authentication, and drops every redirect past the limit at delivery.
   */
  maxRedirects?: number;
  notifyMethods: string[];
  version?: string;
  /** Every capability as sent, keyed by upper-cased name; null when it has no value. */
  raw: Record<string, string | null>;
}

export function parseCapabilities(lines: Token[][]): ManageSieveCapabilities {
  const raw: Record<string, string | null> = {};
  for (const line of lines) {
    const [name, value] = stringsOf(line);
    if (name !== undefined) raw[name.toUpperCase()] = value ?? null;
  }
  const words = (key: string) => (raw[key] ?? '').split(/\s+/).filter(Boolean);
  const maxRedirects = raw.MAXREDIRECTS == null ? undefined : Number.parseInt(raw.MAXREDIRECTS, 10);
  return {
    implementation: raw.IMPLEMENTATION ?? undefined,
    // RFC 5804 §1.7: extension names are case-insensitive; Sieve's require uses lower case.
    sieveExtensions: words('SIEVE').map((word) => word.toLowerCase()),
    saslMechanisms: words('SASL').map((word) => word.toUpperCase()),
    startTls: 'STARTTLS' in raw,
    maxRedirects: Number.isFinite(maxRedirects) ? maxRedirects : undefined,
    notifyMethods: words('NOTIFY'),
    version: raw.VERSION ?? undefined,
    raw,
  };
}

/** Asks the server for its current capabilities. */
export async function capability(connection: Connection): Promise<ManageSieveCapabilities> {
  const response = await connection.exec(Buffer.from('CAPABILITY\r\n'));
  if (response.status !== 'OK') throw errorFromResponse('CAPABILITY', response);
  return parseCapabilities(response.lines);
}
