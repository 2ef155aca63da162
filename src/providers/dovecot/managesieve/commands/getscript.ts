/** GETSCRIPT (RFC 5804 §2.9). */
import type { Connection } from '../connection.js';
import { ManageSieveError, errorFromResponse } from '../errors.js';
import { encodeCommand, encodeString, stringsOf } from '../wire.js';
import { assertScriptName } from './script-name.js';

/** The script's text, exactly as stored. Throws kind 'NonExistent' when there is no such script. */
export async function getscript(connection: Connection, name: string): Promise<string> {
  assertScriptName(name);
  const response = await connection.exec(encodeCommand('GETSCRIPT', encodeString(name)));
  if (response.status !== 'OK') throw errorFromResponse(`GETSCRIPT "${name}"`, response);
  const [content] = response.lines.flatMap(stringsOf);
  if (content === undefined) throw new ManageSieveError('ProtocolError', `GETSCRIPT "${name}" returned no script text`);
  return content;
}
