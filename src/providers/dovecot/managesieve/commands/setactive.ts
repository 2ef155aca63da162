/** SETACTIVE (RFC 5804 §2.8). */
import type { Connection } from '../connection.js';
import { errorFromResponse } from '../errors.js';
import { encodeCommand, encodeString } from '../wire.js';
import { assertScriptName } from './script-name.js';

/**
 * Makes `name` the one active script. The empty name deactivates every script (§2.8), after which
 * delivery runs no personal Sieve at all.
 */
export async function setactive(connection: Connection, name: string): Promise<void> {
  if (name !== '') assertScriptName(name);
  const response = await connection.exec(encodeCommand('SETACTIVE', encodeString(name)));
  if (response.status !== 'OK') throw errorFromResponse(name ? `SETACTIVE "${name}"` : 'SETACTIVE ""', response);
}
