/**
 * A lane is one IMAP connection that exports folders one after another: it takes each folder's
 * snapshot (EXAMINE) and streams its messages. An export runs one lane per connection it has.
 *
 * DirectLane: a cleartext connection of our own (imap-direct-connection.ts). An export opens two
 * when it can, so the server works on two folders at once (Dovecot runs one process per
 * connection, and one process is what the download waits on).
 * ImapflowLane: imapflow's own connection, for TLS or when no direct connection could be set up;
 * it reads by the fastest path imap-fetch.ts finds.
 */
import type { ImapFlow, ListResponse } from 'imapflow';
import type { DirectImapConnection, FolderSnapshot } from './imap-direct-connection.js';
import { fetchMessages, type FetchPath, type MessageSink } from './imap-fetch.js';

export type { FolderSnapshot };

export interface FolderLane {
  /** EXAMINEs `folder` (read-only, \Seen untouched): its EXISTS and UIDNEXT are the snapshot. */
  open(folder: ListResponse): Promise<FolderSnapshot>;
  /** Streams `range` (UIDs when byUid, else sequence numbers) of the folder opened last. */
  fetch(range: string, byUid: boolean, sink: MessageSink): Promise<void>;
}

export class DirectLane implements FolderLane {
  constructor(private readonly connection: DirectImapConnection) {}

  open(folder: ListResponse): Promise<FolderSnapshot> {
    return this.connection.examine(folder.pathAsListed);
  }

  fetch(range: string, byUid: boolean, sink: MessageSink): Promise<void> {
    return this.connection.fetch(range, byUid, sink);
  }
}

export class ImapflowLane implements FolderLane {
  constructor(
    private readonly client: ImapFlow,
    private path: FetchPath,
  ) {}

  async open(folder: ListResponse): Promise<FolderSnapshot> {
    const box = await this.client.mailboxOpen(folder.path, { readOnly: true });
    return { exists: box.exists, uidNext: box.uidNext ?? 0 };
  }

  async fetch(range: string, byUid: boolean, sink: MessageSink): Promise<void> {
    const via = await fetchMessages(this.client, range, byUid, sink, { start: this.path });
    // imapflow's rows did not have the shape the exec path knows: that will not change.
    if (via === 'fetch') this.path = 'fetch';
  }
}
