/** DELETESCRIPT (RFC 5804 §2.10). */
import type { Connection } from '../connection.js';
import { errorFromResponse } from '../errors.js';
import { encodeCommand, encodeString } from '../wire.js';
import { assertScriptName } from './script-name.js';

/** Deletes a script; the active one is refused with kind 'Active' (deactivate or switch first). */
export async function deletescript(connection: Connection, name: string): Promise<void> {
  assertScriptName(name);
  const response = await connection.exec(encodeCommand('DELETESCRIPT', encodeString(name)));
  if (response.status !== 'OK') throw errorFromResponse(`DELETESCRIPT "${name}"`, response);
}
