/** STARTTLS (RFC 5804 §2.2). */
import type { Connection } from '../connection.js';
import { errorFromResponse } from '../errors.js';
import { parseCapabilities, type ManageSieveCapabilities } from './capability.js';

/**
 * Upgrades the connection and returns the capabilities the server re-sends over TLS; those replace
 * the ones read in the clear, which an attacker could have altered (e.g. to hide STARTTLS).
 */
export async function starttls(connection: Connection): Promise<ManageSieveCapabilities> {
  const response = await connection.exec(Buffer.from('STARTTLS\r\n'));
  if (response.status !== 'OK') throw errorFromResponse('STARTTLS', response);
  await connection.upgrade();
  const listing = await connection.read();
  if (listing.status !== 'OK') throw errorFromResponse('STARTTLS', listing);
  return parseCapabilities(listing.lines);
}
