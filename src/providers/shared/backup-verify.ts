/**
 * Re-reads an export from disk and checks it against its manifest. The delete step runs this
 * right before removing a mailbox, so it trusts nothing but the bytes on disk.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BackupManifestSchema, type BackupFolder, type BackupManifest } from '../../core/backup.js';
import { FileWorker, type ScanResult } from './file-worker.js';

export const MANIFEST_FILE = 'manifest.json';

export type MboxScan = ScanResult;

/** One streaming pass over an mbox file (in the file worker): message count, size and sha256. */
export async function scanMboxFile(file: string, worker?: FileWorker): Promise<MboxScan> {
  if (worker) return worker.scan(file);
  const own = new FileWorker();
  try {
    return await own.scan(file);
  } finally {
    await own.terminate();
  }
}

export type VerifyResult = { ok: true } | { ok: false; problem: string };

/** A manifest names files relative to its directory; anything else would let it point elsewhere. */
function isPlainFileName(file: string): boolean {
  return file !== '' && file !== '.' && file !== '..' && !/[/\\\0]/.test(file);
}

/** Checks one folder's file; returns the problem, or undefined when it matches. */
export async function verifyFolder(directory: string, folder: BackupFolder, worker?: FileWorker): Promise<string | undefined> {
  if (!isPlainFileName(folder.file)) return `folder ${folder.name}: file name "${folder.file}" is not a plain file name`;
  let scan: MboxScan;
  try {
    scan = await scanMboxFile(path.join(directory, folder.file), worker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return `folder ${folder.name}: file ${folder.file} is missing`;
    throw error;
  }
  if (scan.messages !== folder.messages) return `folder ${folder.name}: manifest has ${folder.messages} messages, file ${folder.file} has ${scan.messages}`;
  if (scan.bytes !== folder.bytes) return `folder ${folder.name}: manifest has ${folder.bytes} bytes, file ${folder.file} has ${scan.bytes}`;
  if (scan.sha256 !== folder.sha256) return `folder ${folder.name}: sha256 of ${folder.file} does not match the manifest (file changed or damaged)`;
  return undefined;
}

/**
 * Re-reads every file of an export: message count, size and sha256 against the manifest
 * (manifest.json in `directory` unless one is given). A manifest that was never verified at
 * export time (verifiedAt null) is refused too, so this one call is the whole gate before delete.
 */
export async function verifyBackup(directory: string, manifest?: BackupManifest): Promise<VerifyResult> {
  let checked: BackupManifest;
  if (manifest) {
    checked = manifest;
  } else {
    let text: string;
    try {
      text = await readFile(path.join(directory, MANIFEST_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, problem: `${MANIFEST_FILE} is missing in ${directory}` };
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, problem: `${MANIFEST_FILE} is not valid JSON` };
    }
    const parsed = BackupManifestSchema.safeParse(json);
    if (!parsed.success) return { ok: false, problem: `${MANIFEST_FILE} does not have the manifest shape: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
    checked = parsed.data;
  }
  if (checked.verifiedAt === null) return { ok: false, problem: 'the export was never verified (verifiedAt is null)' };
  const messages = checked.folders.reduce((sum, f) => sum + f.messages, 0);
  const bytes = checked.folders.reduce((sum, f) => sum + f.bytes, 0);
  if (messages !== checked.totalMessages || bytes !== checked.totalBytes) {
    return { ok: false, problem: 'manifest totals do not add up to its folders' };
  }
  const files = new Set<string>();
  for (const folder of checked.folders) {
    if (files.has(folder.file)) return { ok: false, problem: `file ${folder.file} is listed for two folders` };
    files.add(folder.file);
  }
  const worker = new FileWorker();
  try {
    for (const folder of checked.folders) {
      const problem = await verifyFolder(directory, folder, worker);
      if (problem) return { ok: false, problem };
    }
  } finally {
    await worker.terminate();
  }
  return { ok: true };
}
