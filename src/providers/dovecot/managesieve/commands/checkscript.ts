/** CHECKSCRIPT (RFC 5804 §2.12). */
import type { Connection } from '../connection.js';
import { errorFromResponse } from '../errors.js';
import { encodeCommand, encodeLiteral } from '../wire.js';
import type { ScriptCheck } from './putscript.js';

/** Compiles a script without storing it; throws kind 'ScriptError' with the compiler's messages. */
export async function checkscript(connection: Connection, content: string): Promise<ScriptCheck> {
  const response = await connection.exec(encodeCommand('CHECKSCRIPT', encodeLiteral(content)));
  if (response.status !== 'OK') throw errorFromResponse('CHECKSCRIPT', response, 'ScriptError');
  return response.code === 'WARNINGS' && response.text ? { warnings: response.text } : {};
}
