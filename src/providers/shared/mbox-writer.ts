/**
 * Writes one mboxrd file (format: see mbox.ts) with bounded memory.
 *
 * Records are copied into fixed buffers; a full buffer moves (no copy) to the file worker, which
 * hashes and writes it while the main thread fills the next one. Only when every buffer is with
 * the worker does the caller wait. The per-message cost is a memcpy (no promise, no stream
 * bookkeeping), which matters at 10,000+ messages per second, and memory is the buffer pool plus
 * the one message the IMAP client holds.
 */
import type { FileWorker } from './file-worker.js';
import { MESSAGE_TRAILER, envelopeSender, quotePositions, separatorText } from './mbox.js';

const BUFFER_SIZE = 1024 * 1024;
/** Three buffers: one filling, up to two queued behind a read-back scan in the worker. */
const POOL_SIZE = 3;
const GT = Buffer.from('>', 'latin1');

/**
 * The buffers a writer fills. One pool serves every folder of an export in turn (a writer has
 * returned them all when close() resolves), so an export allocates them once.
 */
export class BufferPool {
  readonly free: Buffer[] = Array.from({ length: POOL_SIZE }, () => Buffer.allocUnsafeSlow(BUFFER_SIZE));
}

export interface MboxFileSummary {
  messages: number;
  bytes: number;
  sha256: string;
}

export class MboxFileWriter {
  messages = 0;
  bytes = 0;
  private current: Buffer;
  private used = 0;
  /** Buffers with the worker, oldest first; the worker answers in order. */
  private readonly inflight: Promise<Buffer>[] = [];
  private failure: unknown;

  private constructor(
    private readonly worker: FileWorker,
    private readonly file: number,
    private readonly pool: BufferPool,
  ) {
    this.current = pool.free.pop()!;
  }

  static async create(worker: FileWorker, file: string, pool: BufferPool): Promise<MboxFileWriter> {
    return new MboxFileWriter(worker, await worker.open(file), pool);
  }

  /**
   * Appends one message. Returns a promise only when the caller has to wait for the disk
   * (backpressure); otherwise undefined, so the hot path allocates no promise. The caller must
   * await that promise before the next write.
   */
  write(source: Buffer, internalDate: Date): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const separator = separatorText(envelopeSender(source), internalDate);
    const quotes = quotePositions(source);
    const size = separator.length + source.length + quotes.length + MESSAGE_TRAILER.length;
    this.messages++;
    this.bytes += size;
    if (this.used + size > BUFFER_SIZE && !(size <= BUFFER_SIZE && this.rotateNow())) {
      return this.writeSlow(separator, source, quotes);
    }
    const target = this.current;
    let at = this.used;
    at += target.write(separator, at, 'latin1');
    let from = 0;
    for (const quote of quotes) {
      at += source.copy(target, at, from, quote);
      at += GT.copy(target, at);
      from = quote;
    }
    at += source.copy(target, at, from);
    at += MESSAGE_TRAILER.copy(target, at);
    this.used = at;
    return undefined;
  }

  /** Writes what is buffered, waits for the worker, and closes; the summary is what reached the file. */
  async close(): Promise<MboxFileSummary> {
    if (this.used > 0) {
      if (this.pool.free.length === 0) await this.takeBack();
      if (this.failure === undefined) this.send();
    }
    await this.settle();
    this.pool.free.push(this.current);
    if (this.failure !== undefined) {
      await this.worker.discard(this.file);
      throw this.failure;
    }
    const written = await this.worker.close(this.file);
    if (written.bytes !== this.bytes) throw new Error(`wrote ${written.bytes} bytes, expected ${this.bytes}`);
    return { messages: this.messages, bytes: written.bytes, sha256: written.sha256 };
  }

  /** Abandons the file (the caller removes it) and returns the buffers to the pool. */
  async discard(): Promise<void> {
    await this.settle();
    this.pool.free.push(this.current);
    await this.worker.discard(this.file);
  }

  private async settle(): Promise<void> {
    while (this.inflight.length > 0) await this.takeBack();
  }

  /** Sends the current buffer if a free one can replace it right away. */
  private rotateNow(): boolean {
    if (this.pool.free.length === 0) return false;
    this.send();
    return true;
  }

  private send(): void {
    const full = this.current;
    const length = this.used;
    // Callers make sure a free buffer exists, so the pool never grows.
    this.current = this.pool.free.pop()!;
    this.used = 0;
    const back = this.worker.write(this.file, full, length);
    // Never an unhandled rejection: the failure is recorded and reported by the next call.
    back.catch(() => undefined);
    this.inflight.push(back);
  }

  private async takeBack(): Promise<void> {
    const oldest = this.inflight.shift()!;
    try {
      this.pool.free.push(await oldest);
    } catch (error) {
      this.failure ??= error;
      const returned = (error as { returned?: Buffer }).returned;
      if (returned) this.pool.free.push(returned);
    }
  }

  /** Any record that does not fit the current buffer: copied piecewise, waiting for buffers as needed. */
  private async writeSlow(separator: string, source: Buffer, quotes: number[]): Promise<void> {
    const pieces: Buffer[] = [Buffer.from(separator, 'latin1')];
    let from = 0;
    for (const quote of quotes) {
      pieces.push(source.subarray(from, quote), GT);
      from = quote;
    }
    pieces.push(source.subarray(from), MESSAGE_TRAILER);
    for (const piece of pieces) {
      let offset = 0;
      while (offset < piece.length) {
        if (this.used === BUFFER_SIZE) {
          if (this.pool.free.length === 0) await this.takeBack();
          if (this.failure !== undefined) throw this.failure;
          this.send();
        }
        const copied = piece.copy(this.current, this.used, offset);
        this.used += copied;
        offset += copied;
      }
    }
    // Fill-then-send above leaves a full buffer in place; send it if the worker can take it now.
    if (this.used === BUFFER_SIZE && this.pool.free.length > 0) this.send();
    if (this.failure !== undefined) throw this.failure;
  }
}
