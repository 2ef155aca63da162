import { z } from 'zod';

/** One folder of an export: its mbox file and what was checked about it. */
export const BackupFolderSchema = z.object({
  name: z.string(),
  /** Path of the mbox file, relative to the manifest's directory. */
  file: z.string(),
  messages: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** sha256 (hex) of the whole mbox file. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** manifest.json, written next to the mbox files of one export. */
export const BackupManifestSchema = z.object({
  mailbox: z.string(),
  runId: z.string(),
  createdAt: z.string(),
  /** Set only once the files were read back and matched the server's counts. */
  verifiedAt: z.string().nullable(),
  totalMessages: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative(),
  folders: z.array(BackupFolderSchema),
});

export type BackupFolder = z.infer<typeof BackupFolderSchema>;
export type BackupManifest = z.infer<typeof BackupManifestSchema>;

export interface ExportProgress {
  folder: string;
  folderIndex: number;
  folderCount: number;
  messagesDone: number;
  messagesTotal: number;
  bytesDone: number;
}
