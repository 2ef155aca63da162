/** LISTSCRIPTS (RFC 5804 §2.7). */
import type { Connection } from '../connection.js';
import { errorFromResponse } from '../errors.js';
import { stringsOf } from '../wire.js';

export interface ScriptInfo {
  name: string;
  active: boolean;
}

/** Every script of the user; at most one is active (none when the user has no active script). */
export async function listscripts(connection: Connection): Promise<ScriptInfo[]> {
  const response = await connection.exec(Buffer.from('LISTSCRIPTS\r\n'));
  if (response.status !== 'OK') throw errorFromResponse('LISTSCRIPTS', response);
  return response.lines.flatMap((line) => {
    const [name] = stringsOf(line);
    if (name === undefined) return [];
    // Each line is: script-name [SP "ACTIVE"], the marker an atom (case-insensitive).
    const active = line.some((token) => token.type === 'atom' && token.value.toUpperCase() === 'ACTIVE');
    return [{ name, active }];
  });
}
