/**
 * Where backups live on disk: BACKUP_DIR/<mailbox>/<run-id>/, and the re-check the delete step
 * runs against the bytes on disk right before it removes a mailbox.
 */
import path from 'node:path';
import type { BackupVault } from '../core/ports.js';
import { verifyBackup } from '../providers/shared/backup-verify.js';

/** A mailbox address is a safe directory name once path separators and dot-segments are ruled out. */
function safeSegment(value: string): string {
  const cleaned = value.replace(/[/\\\0]/g, '_');
  return cleaned === '.' || cleaned === '..' ? `_${cleaned}` : cleaned;
}

export function backupVault(root: string): BackupVault {
  return {
    directoryFor: (mailbox, runId) => path.join(root, safeSegment(mailbox.toLowerCase()), safeSegment(runId)),
    verify: (directory, manifest) => verifyBackup(directory, manifest),
  };
}
