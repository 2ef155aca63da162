/**
 * The export's verification: every finished mbox file is read back from disk, its message count
 * compared with the server's snapshot (EXISTS) and its size with what the writer produced.
 */
import path from 'node:path';
import type { BackupFolder } from '../../core/backup.js';
import type { FileWorker } from './file-worker.js';

/**
 * Reads each finished file back (in the file worker) while the next folder downloads, so by the
 * time the last folder arrives most of the verification is done. Scans are chained, one at a time.
 *
 * It counts messages and bytes; it does not hash again. The sha256 in the manifest is
 * the one taken while writing, of the bytes the exporter produced, so it stays an independent
 * witness: verifyBackup later hashes the file on disk and compares (design.md, Backups).
 */
export class ReadBack {
  private chain: Promise<void> = Promise.resolve();
  private problem: string | undefined;
  private failure: unknown;

  constructor(
    private readonly directory: string,
    private readonly worker: FileWorker,
  ) {}

  check(folder: BackupFolder, serverCount: number): void {
    this.chain = this.chain
      .then(async () => {
        if (this.problem !== undefined || this.failure !== undefined) return;
        const onDisk = await this.worker.count(path.join(this.directory, folder.file));
        if (onDisk.messages !== serverCount) {
          this.problem = `folder ${folder.name}: server has ${serverCount}, backup has ${onDisk.messages}`;
        } else if (onDisk.bytes !== folder.bytes) {
          this.problem = `folder ${folder.name}: file ${folder.file} has ${onDisk.bytes} bytes on disk, ${folder.bytes} were written`;
        }
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      });
  }

  /** The first mismatch, or undefined; rethrows a read failure. */
  async result(): Promise<string | undefined> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
    return this.problem;
  }
}
