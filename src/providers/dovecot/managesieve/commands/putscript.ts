/** PUTSCRIPT (RFC 5804 §2.6). */
import type { Connection } from '../connection.js';
import { errorFromResponse } from '../errors.js';
import { encodeCommand, encodeLiteral, encodeString } from '../wire.js';
import { assertScriptName } from './script-name.js';

export interface ScriptCheck {
  /** The compiler's warnings, from an OK (WARNINGS) answer (§1.3). */
  warnings?: string;
}

/**
 * Stores (creates or replaces) a script. The server compiles it first and refuses it with kind
 * 'ScriptError' carrying the compiler's messages, or 'Quota'. Storing never activates it.
 */
export async function putscript(connection: Connection, name: string, content: string): Promise<ScriptCheck> {
  assertScriptName(name);
  // Always a literal: scripts are multi-line, and {N+} needs the UTF-8 byte count.
  const response = await connection.exec(encodeCommand('PUTSCRIPT', encodeString(name), encodeLiteral(content)));
  if (response.status !== 'OK') throw errorFromResponse(`PUTSCRIPT "${name}"`, response, 'ScriptError');
  return response.code === 'WARNINGS' && response.text ? { warnings: response.text } : {};
}
