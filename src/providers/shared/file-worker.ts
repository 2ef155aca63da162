/**
 * A worker thread that owns the export's file I/O and hashing: it hashes and writes the buffers
 * the main thread fills, and reads finished files back to count their messages and bytes (and to
 * hash them too, for verifyBackup's later re-check).
 *
 * Why a thread: the IMAP client's parsing keeps the main thread busy for the whole download, while
 * Dovecot uses well under one core. Moving sha256, write(2) and the read-back off the main thread
 * lets them run on the idle core instead of lengthening the export.
 *
 * Why source text (eval) rather than a module file: the worker must start the same way under tsx,
 * vitest and compiled JS. A .ts module entry would need the TypeScript loader inside the worker
 * (tsx adds ~30 MB there; vitest's transform does not reach worker threads). This code is plain
 * CommonJS on Node built-ins only; test/unit/mbox-writer.test.ts and the export tests run it.
 */
import { Worker } from 'node:worker_threads';

/** Read size for scans: large reads keep a 100 MB file to ~100 syscalls. */
export const SCAN_READ_SIZE = 1024 * 1024;

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');

const LF_FROM = Buffer.from('\nFrom ', 'latin1');
const KEEP = LF_FROM.length - 1;
// Open output files by id (the id of the 'open' request): an export may write two folders at once.
const files = new Map();
let spareScanBuffer = null;

function reply(id, value, transfer) {
  parentPort.postMessage(Object.assign({ id }, value), transfer);
}

function fail(id, error, extra, transfer) {
  const detail = { message: String((error && error.message) || error), code: error && error.code, syscall: error && error.syscall };
  parentPort.postMessage(Object.assign({ id, error: detail }, extra), transfer);
}

function writeAll(fd, data, position) {
  let done = 0;
  while (done < data.length) {
    const n = fs.writeSync(fd, data, done, data.length - done, position + done);
    if (n === 0) throw new Error('write returned 0 bytes');
    done += n;
  }
}

// One message per "From " at the start of the file or right after LF. The stream is treated as
// if it began with LF, so the first separator needs no special case; 'tail' keeps the last bytes
// of the previous chunk so a separator split across two reads is still seen once. With 'withHash'
// false it only counts (the export's read-back: sha256 was taken while writing, see design.md).
function scan(id, path, withHash) {
  fs.open(path, 'r', (openError, fd) => {
    if (openError) return fail(id, openError);
    const buffer = spareScanBuffer || Buffer.allocUnsafeSlow(${SCAN_READ_SIZE});
    spareScanBuffer = null;
    const hash = withHash ? createHash('sha256') : null;
    let tail = Buffer.from('\n', 'latin1');
    let messages = 0;
    let bytes = 0;
    const finish = (error) => {
      fs.close(fd, () => {
        spareScanBuffer = buffer;
        if (error) fail(id, error);
        else reply(id, hash ? { messages, bytes, sha256: hash.digest('hex') } : { messages, bytes });
      });
    };
    const next = () => {
      fs.read(fd, buffer, 0, buffer.length, null, (readError, n) => {
        if (readError) return finish(readError);
        if (n === 0) return finish(null);
        const chunk = buffer.subarray(0, n);
        if (hash) hash.update(chunk);
        bytes += n;
        const seam = Buffer.concat([tail, chunk.subarray(0, KEEP)]);
        for (let at = seam.indexOf(LF_FROM); at !== -1; at = seam.indexOf(LF_FROM, at + 1)) {
          if (at < tail.length) messages++;
        }
        for (let at = chunk.indexOf(LF_FROM); at !== -1; at = chunk.indexOf(LF_FROM, at + LF_FROM.length)) messages++;
        tail = n >= KEEP ? Buffer.from(chunk.subarray(n - KEEP)) : Buffer.concat([tail, chunk]).subarray(-KEEP);
        next();
      });
    };
    next();
  });
}

function outputFile(id) {
  const file = files.get(id);
  if (!file) throw new Error('no open file ' + id);
  return file;
}

parentPort.on('message', (m) => {
  try {
    switch (m.op) {
      case 'open':
        files.set(m.id, { fd: fs.openSync(m.path, 'w', 0o600), hash: createHash('sha256'), position: 0 });
        return reply(m.id, { file: m.id });
      case 'write': {
        try {
          const out = outputFile(m.file);
          const data = Buffer.from(m.buffer, 0, m.length);
          out.hash.update(data);
          writeAll(out.fd, data, out.position);
          out.position += m.length;
          return reply(m.id, { buffer: m.buffer }, [m.buffer]);
        } catch (error) {
          return fail(m.id, error, { buffer: m.buffer }, [m.buffer]);
        }
      }
      case 'close': {
        const file = outputFile(m.file);
        files.delete(m.file);
        fs.closeSync(file.fd);
        return reply(m.id, { bytes: file.position, sha256: file.hash.digest('hex') });
      }
      case 'discard': {
        const file = files.get(m.file);
        files.delete(m.file);
        if (file) fs.closeSync(file.fd);
        return reply(m.id, {});
      }
      case 'scan':
        return scan(m.id, m.path, m.withHash);
      default:
        return fail(m.id, new Error('unknown op ' + m.op));
    }
  } catch (error) {
    fail(m.id, error);
  }
});
`;

export interface CountResult {
  messages: number;
  bytes: number;
}

export interface ScanResult extends CountResult {
  sha256: string;
}

interface Reply {
  id: number;
  file?: number;
  error?: ErrorDetail;
  buffer?: ArrayBuffer;
  bytes?: number;
  sha256?: string;
  messages?: number;
}

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

interface ErrorDetail {
  message: string;
  code?: string;
  syscall?: string;
}

/** Rebuilds the worker's error with the fields callers branch on (ENOENT, ENOSPC, ...). */
function toError(detail: ErrorDetail): Error {
  const error = new Error(detail.message) as NodeJS.ErrnoException;
  if (detail.code) error.code = detail.code;
  if (detail.syscall) error.syscall = detail.syscall;
  return error;
}

export class FileWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | undefined;

  constructor() {
    // execArgv: [] so a parent started with `--import tsx` does not load the loader again in here.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      waiter.resolve(reply);
    });
    const failAll = (error: Error) => {
      this.dead ??= error;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => failAll(new Error(`file worker exited (code ${code})`)));
  }

  private call(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  private async expect(message: Record<string, unknown>): Promise<Reply> {
    const reply = await this.call(message);
    if (reply.error) throw toError(reply.error);
    return reply;
  }

  /** Creates (truncates) `path` for writing; returns the id the other file calls take. */
  async open(path: string): Promise<number> {
    const reply = await this.expect({ op: 'open', path });
    return reply.file!;
  }

  /**
   * Hands `buffer`'s memory to the worker (no copy), which hashes and appends its first `length`
   * bytes to `file`. Resolves with the same memory, usable again.
   * `buffer` must own its whole ArrayBuffer (Buffer.allocUnsafeSlow), since that is what moves.
   */
  async write(file: number, buffer: Buffer, length: number): Promise<Buffer> {
    const memory = buffer.buffer as ArrayBuffer;
    const reply = await this.call({ op: 'write', file, buffer: memory, length }, [memory]);
    const returned = reply.buffer ? Buffer.from(reply.buffer) : Buffer.allocUnsafeSlow(memory.byteLength);
    if (reply.error) throw Object.assign(toError(reply.error), { returned });
    return returned;
  }

  /** Closes `file`; bytes and sha256 cover everything written to it. */
  async close(file: number): Promise<{ bytes: number; sha256: string }> {
    const reply = await this.expect({ op: 'close', file });
    return { bytes: reply.bytes!, sha256: reply.sha256! };
  }

  async discard(file: number): Promise<void> {
    await this.expect({ op: 'discard', file }).catch(() => undefined);
  }

  /** Counts the mbox messages and bytes of a file and hashes it, reading it from disk. */
  async scan(path: string): Promise<ScanResult> {
    const reply = await this.expect({ op: 'scan', path, withHash: true });
    return { messages: reply.messages!, bytes: reply.bytes!, sha256: reply.sha256! };
  }

  /** Counts the mbox messages and bytes of a file, reading it from disk; no hash. */
  async count(path: string): Promise<CountResult> {
    const reply = await this.expect({ op: 'scan', path, withHash: false });
    return { messages: reply.messages!, bytes: reply.bytes! };
  }

  async terminate(): Promise<void> {
    const stopped = new Error('file worker stopped');
    this.dead ??= stopped;
    this.worker.removeAllListeners('exit');
    for (const waiter of this.pending.values()) waiter.reject(stopped);
    this.pending.clear();
    await this.worker.terminate();
  }
}
