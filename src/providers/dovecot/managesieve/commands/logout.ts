/** LOGOUT (RFC 5804 §2.3). */
import type { Connection } from '../connection.js';

/** Says goodbye and closes; a server that already hung up is not an error here. */
export async function logout(connection: Connection): Promise<void> {
  try {
    if (!connection.closed) await connection.exec(Buffer.from('LOGOUT\r\n'));
  } catch {
    // Some servers answer LOGOUT with BYE or just close; either way the session is over.
  } finally {
    connection.close();
  }
}
