/**
 * A streaming reader for the server's side of `UID FETCH ... (UID INTERNALDATE BODY.PEEK[])`:
 * raw bytes in, one step out per message, plus the command's tagged completion, BYE, other
 * untagged responses and continuation requests (which is all the direct connection's login and
 * EXAMINE need too).
 *
 * Why not imapflow's parser: it builds a token tree with an object per token and turns every
 * response into attribute objects, about 60 µs per message, which was most of the export's time.
 * This reader only understands what the export needs. Message bodies are never decoded: a literal
 * that lies inside one network chunk is handed on as a view of that chunk (no copy), one that
 * spans chunks is assembled in a reused buffer. The small non-literal parts of a response
 * (`* 12 FETCH (UID 12 INTERNALDATE "..." BODY[] {4711}`) are read as latin1 text.
 *
 * What it copes with: literals and lines split anywhere across chunks, FETCH items in any order,
 * extra items (FLAGS lists, literals in lists), `BODY[] NIL` and a quoted BODY[], FETCH responses
 * without BODY[] (unsolicited flag updates), other untagged responses in between (EXISTS, EXPUNGE,
 * `* OK [...]`, anything with literals), tagged responses of other tags. A FETCH response that does
 * not parse is an error: guessing which literal is the body could write wrong data.
 */

const LF = 0x0a;

/** RFC 3501 literal marker at the end of a line: `{123}`; `~{123}` is the RFC 3516 literal8. */
const LITERAL_MARKER = /~?\{(\d{1,19})\}$/;

/** See startUsualFetch(). A date with quotes or backslashes needs unescaping, so it takes the general path. */
const USUAL_FETCH_START = /^\* \d+ FETCH \(UID \d+ INTERNALDATE "([^"\\]*)" BODY\[\] \{(\d{1,15})\}$/;

/** A line (without its literals) longer than this is treated as a broken or hostile server. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Same bound imapflow uses by default; a message above it fails the export instead of the process. */
export const MAX_LITERAL_BYTES = 1024 * 1024 * 1024;
/** The reused assembly buffer is dropped after a message larger than this, so one huge mail does not pin its size. */
const KEEP_ASSEMBLY_BYTES = 4 * 1024 * 1024;

export type FetchStep =
  /** `body` is valid until the next read() call (it may be a view of the chunk or of a reused buffer). */
  | { kind: 'message'; body: Buffer; internalDate: string | undefined }
  /** The completion of our command: status OK, NO or BAD. */
  | { kind: 'tagged'; status: string; text: string }
  | { kind: 'bye'; text: string }
  /**
   * Any other untagged response without literals (`* 3 EXISTS`, `* 2 EXPUNGE`, `* OK [...]`),
   * as its line without CRLF, so the caller can pass it on to whoever tracks mailbox state.
   */
  | { kind: 'untagged'; line: string }
  /** A continuation request (`+ ...`), text after the '+'. */
  | { kind: 'continuation'; text: string };

export class ImapProtocolError extends Error {
  override name = 'ImapProtocolError';
}

type ResponseKind = 'fetch' | 'tagged' | 'bye' | 'untagged' | 'continuation' | 'other';

/** Where the FETCH item list tokenizer is between two lines of one response. */
interface ItemListState {
  /** The item list's '(' was seen; text after its ')' is an error. */
  opened: boolean;
  /** Parenthesis depth: 1 inside the item list, more inside a list value (FLAGS, ENVELOPE...). */
  depth: number;
  /** At depth 1 names and values alternate; true when a name comes next. */
  expectName: boolean;
  /** Upper-cased name of the item whose value comes next. */
  name: string;
  sawBody: boolean;
  body: Buffer | undefined;
  internalDate: string | undefined;
}

export class FetchResponseReader {
  /** Where the last read() stopped in its chunk; read on from here. */
  offset = 0;

  /** The tag whose completion ends the command being read; other tags are skipped. */
  tag: string;
  private inLiteral = false;
  private literalLeft = 0;
  private literalSize = 0;
  private literalIsBody = false;
  /** Bytes of the current body literal copied so far, when it spans chunks. */
  private assembled = 0;
  private assembly: Buffer | undefined;
  /** Pieces of a line that did not end in its chunk. */
  private partialLine: Buffer[] = [];
  private partialBytes = 0;
  /** Kind of the response being read, undefined before its first line. */
  private kind: ResponseKind | undefined;
  private status = '';
  private text = '';
  /** The current response carried a literal (only matters for 'untagged'). */
  private hadLiteral = false;
  private items: ItemListState = FetchResponseReader.freshItems();

  constructor(tag: string) {
    this.tag = tag;
  }

  private static freshItems(): ItemListState {
    return { opened: false, depth: 0, expectName: true, name: '', sawBody: false, body: undefined, internalDate: undefined };
  }

  /**
   * Consumes `chunk` from `start` until a step is complete (returned, with `offset` just after
   * it) or the chunk is used up (undefined, `offset` = chunk.length). Chunks must not be changed
   * after they are passed in: a body may be a view of an earlier chunk.
   */
  read(chunk: Buffer, start: number): FetchStep | undefined {
    let at = start;
    while (at < chunk.length) {
      if (this.inLiteral) {
        at = this.readLiteral(chunk, at);
        continue;
      }
      const lf = chunk.indexOf(LF, at);
      if (lf < 0) {
        this.keepPartialLine(chunk.subarray(at));
        at = chunk.length;
        break;
      }
      const line = this.takeLine(chunk, at, lf);
      at = lf + 1;
      const step = this.onLine(line);
      if (step) {
        this.offset = at;
        return step;
      }
    }
    this.offset = at;
    return undefined;
  }

  /**
   * For callers that reuse one buffer for every read: call before the chunk passed to read() is
   * overwritten. A body that was read whole from it but whose response has not ended yet is
   * still a view of it; that one is copied.
   */
  releaseChunk(chunk: Buffer): void {
    const body = this.items.body;
    if (this.kind !== 'fetch' || body === undefined || !isViewOf(body, chunk)) return;
    if (this.assembly === undefined || this.assembly.length < body.length) this.assembly = Buffer.allocUnsafe(body.length);
    body.copy(this.assembly);
    this.items.body = this.assembly.subarray(0, body.length);
  }

  private readLiteral(chunk: Buffer, at: number): number {
    const take = Math.min(this.literalLeft, chunk.length - at);
    if (this.literalIsBody) {
      if (take === this.literalSize) {
        this.items.body = chunk.subarray(at, at + take);
      } else {
        if (this.assembled === 0 && (this.assembly === undefined || this.assembly.length < this.literalSize)) {
          this.assembly = Buffer.allocUnsafe(this.literalSize);
        }
        this.assembled += chunk.copy(this.assembly!, this.assembled, at, at + take);
        if (this.assembled === this.literalSize) this.items.body = this.assembly!.subarray(0, this.literalSize);
      }
    }
    this.literalLeft -= take;
    if (this.literalLeft === 0) {
      this.inLiteral = false;
      // A literal is one value at depth 1 (the next token is a name) or an element of a list.
      if (this.items.depth === 1) this.items.expectName = true;
    }
    return at + take;
  }

  private keepPartialLine(piece: Buffer): void {
    this.partialBytes += piece.length;
    if (this.partialBytes > MAX_LINE_BYTES) throw new ImapProtocolError(`server sent a line longer than ${MAX_LINE_BYTES} bytes`);
    // A copy: the caller's chunk stays theirs, and partial lines are rare and short.
    this.partialLine.push(Buffer.from(piece));
  }

  /** The line from `start` to `lf` (exclusive), joined with any earlier pieces, CR removed. */
  private takeLine(chunk: Buffer, start: number, lf: number): string {
    let end = lf;
    let line: string;
    if (this.partialLine.length === 0) {
      if (end > start && chunk[end - 1] === 0x0d) end--;
      line = chunk.toString('latin1', start, end);
    } else {
      if (this.partialBytes + (lf - start) > MAX_LINE_BYTES) throw new ImapProtocolError(`server sent a line longer than ${MAX_LINE_BYTES} bytes`);
      this.partialLine.push(chunk.subarray(start, lf));
      line = Buffer.concat(this.partialLine).toString('latin1');
      this.partialLine = [];
      this.partialBytes = 0;
      if (line.endsWith('\r')) line = line.slice(0, -1);
    }
    return line;
  }

  /** Handles one line of a response; returns a step when the line completes the response. */
  private onLine(line: string): FetchStep | undefined {
    if (this.kind === undefined && this.startUsualFetch(line)) return undefined;
    // Most lines end in ')' or text; only test the pattern when the last byte can close a marker.
    const marker = line.charCodeAt(line.length - 1) === 0x7d ? LITERAL_MARKER.exec(line) : null;
    const text = marker ? line.slice(0, marker.index) : line;
    if (this.kind === undefined) this.startResponse(text);
    else if (this.kind === 'fetch') this.readItems(text, 0);
    if (marker) {
      this.hadLiteral = true;
      this.startLiteral(Number(marker[1]));
      return undefined;
    }
    return this.endResponse();
  }

  /**
   * The shape Dovecot sends for every message, `* 12 FETCH (UID 12 INTERNALDATE "..." BODY[] {4711}`,
   * read with one pattern instead of token by token (a third of the reader's time). Anything
   * else goes through the general tokenizer. Leaves the same state readItems() would.
   */
  private startUsualFetch(line: string): boolean {
    const match = USUAL_FETCH_START.exec(line);
    if (!match) return false;
    this.kind = 'fetch';
    const items = FetchResponseReader.freshItems();
    items.opened = true;
    items.depth = 1;
    items.expectName = false;
    items.name = 'BODY[]';
    items.internalDate = match[1];
    this.items = items;
    this.hadLiteral = true;
    this.startLiteral(Number(match[2]));
    return true;
  }

  private startLiteral(size: number): void {
    if (size > MAX_LITERAL_BYTES) throw new ImapProtocolError(`server announced a ${size}-byte literal, above the ${MAX_LITERAL_BYTES}-byte limit`);
    const items = this.items;
    const inItems = this.kind === 'fetch' && items.depth === 1;
    if (inItems && items.expectName) throw new ImapProtocolError('FETCH item name sent as a literal');
    this.literalIsBody = inItems && items.name === 'BODY[]';
    if (this.literalIsBody) {
      items.sawBody = true;
      items.body = size === 0 ? Buffer.alloc(0) : undefined;
    }
    this.inLiteral = size > 0;
    this.literalLeft = size;
    this.literalSize = size;
    this.assembled = 0;
    if (size === 0 && items.depth === 1) items.expectName = true;
  }

  private startResponse(line: string): void {
    if (line.startsWith('* ')) {
      const match = /^\* (?:(\d+) ([A-Za-z]+)|([A-Za-z]+))(?: |$)/.exec(line);
      const type = (match?.[2] ?? match?.[3] ?? '').toUpperCase();
      if (match?.[1] !== undefined && type === 'FETCH') {
        this.kind = 'fetch';
        this.items = FetchResponseReader.freshItems();
        this.readItems(line, match[0].length);
      } else if (type === 'BYE') {
        this.kind = 'bye';
        this.text = line.slice(match![0].length);
      } else {
        this.kind = 'untagged';
        this.text = line;
      }
      return;
    }
    const space = line.indexOf(' ');
    if (space > 0 && line.slice(0, space) === this.tag) {
      const rest = line.slice(space + 1);
      const cut = rest.indexOf(' ');
      this.kind = 'tagged';
      this.status = (cut < 0 ? rest : rest.slice(0, cut)).toUpperCase();
      this.text = cut < 0 ? '' : rest.slice(cut + 1);
      return;
    }
    if (line === '+' || line.startsWith('+ ')) {
      this.kind = 'continuation';
      this.text = line.slice(2);
      return;
    }
    // Tags of other commands are not ours to answer.
    this.kind = 'other';
  }

  private endResponse(): FetchStep | undefined {
    const kind = this.kind;
    const hadLiteral = this.hadLiteral;
    this.kind = undefined;
    this.hadLiteral = false;
    switch (kind) {
      case 'fetch': {
        const items = this.items;
        if (!items.opened) throw new ImapProtocolError('FETCH response without an item list');
        if (items.depth !== 0 || !items.expectName) throw new ImapProtocolError('FETCH response ended inside its item list');
        this.dropLargeAssembly();
        // NIL (the message vanished) and responses without BODY[] (a flag update) carry no message.
        if (!items.sawBody || items.body === undefined) return undefined;
        return { kind: 'message', body: items.body, internalDate: items.internalDate };
      }
      case 'tagged':
        return { kind: 'tagged', status: this.status, text: this.text };
      case 'bye':
        return { kind: 'bye', text: this.text };
      case 'untagged':
        return hadLiteral ? undefined : { kind: 'untagged', line: this.text };
      case 'continuation':
        return { kind: 'continuation', text: this.text };
      default:
        return undefined;
    }
  }

  /** The body handed out keeps its memory alive until the caller is done with it. */
  private dropLargeAssembly(): void {
    if (this.assembly && this.assembly.length > KEEP_ASSEMBLY_BYTES) this.assembly = undefined;
  }

  /**
   * Tokenizes FETCH item text from `from`: names and values at depth 1, skipping over list
   * values. Lines end either at the end of the response or right before a literal.
   */
  private readItems(line: string, from: number): void {
    const items = this.items;
    let i = from;
    const n = line.length;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 0x20) {
        i++;
      } else if (items.depth === 0) {
        if (c !== 0x28 /* ( */ || items.opened) throw new ImapProtocolError(`FETCH response text outside its item list: ${clip(line)}`);
        items.opened = true;
        items.depth = 1;
        i++;
      } else if (c === 0x28 /* ( */) {
        if (items.depth === 1 && items.expectName) throw new ImapProtocolError(`FETCH item name expected: ${clip(line)}`);
        items.depth++;
        i++;
      } else if (c === 0x29 /* ) */) {
        if (items.depth === 1 && !items.expectName) throw new ImapProtocolError(`FETCH item without a value: ${clip(line)}`);
        items.depth--;
        // A list value just closed: the next token at depth 1 is a name.
        if (items.depth === 1) items.expectName = true;
        i++;
      } else if (c === 0x22 /* " */) {
        const end = quotedEnd(line, i);
        if (end < 0) throw new ImapProtocolError(`unterminated quoted string in FETCH response: ${clip(line)}`);
        if (items.depth === 1) {
          if (items.expectName) throw new ImapProtocolError(`FETCH item name expected: ${clip(line)}`);
          this.onValue(line, i, end + 1, true);
        }
        i = end + 1;
      } else {
        const end = atomEnd(line, i);
        if (items.depth === 1) {
          if (items.expectName) {
            items.name = line.slice(i, end).toUpperCase();
            items.expectName = false;
          } else {
            this.onValue(line, i, end, false);
          }
        }
        i = end;
      }
    }
  }

  private onValue(line: string, start: number, end: number, quoted: boolean): void {
    const items = this.items;
    const name = items.name;
    items.expectName = true;
    if (name === 'BODY[]') {
      items.sawBody = true;
      if (quoted) items.body = Buffer.from(unquote(line, start, end), 'latin1');
      else if (line.slice(start, end).toUpperCase() === 'NIL') items.body = undefined;
      else throw new ImapProtocolError(`BODY[] is neither a string nor NIL: ${clip(line)}`);
    } else if (name === 'INTERNALDATE' && quoted) {
      items.internalDate = unquote(line, start, end);
    }
  }
}

function isViewOf(part: Buffer, whole: Buffer): boolean {
  return part.buffer === whole.buffer && part.byteOffset >= whole.byteOffset && part.byteOffset < whole.byteOffset + whole.length;
}

/** Index of the closing quote of the quoted string opening at `start`, or -1. */
function quotedEnd(line: string, start: number): number {
  for (let i = start + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/** Contents of the quoted string line[start..end) (quotes included), escapes resolved. */
function unquote(line: string, start: number, end: number): string {
  const inner = line.slice(start + 1, end - 1);
  return inner.includes('\\') ? inner.replace(/\\(.)/g, '$1') : inner;
}

/**
 * End of an atom such as `UID`, `12` or `NIL`, or of a name with a section and partial like
 * `BODY[HEADER.FIELDS (FROM)]<0>`: inside [...] and <...> spaces and parentheses belong to it.
 */
function atomEnd(line: string, start: number): number {
  let i = start;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c === 0x5b /* [ */) {
      const close = line.indexOf(']', i + 1);
      if (close < 0) throw new ImapProtocolError(`unterminated section in FETCH response: ${clip(line)}`);
      i = close + 1;
    } else if (c === 0x3c /* < */) {
      const close = line.indexOf('>', i + 1);
      if (close < 0) throw new ImapProtocolError(`unterminated partial in FETCH response: ${clip(line)}`);
      i = close + 1;
    } else if (c === 0x20 || c === 0x28 || c === 0x29 || c === 0x22) {
      break;
    } else {
      i++;
    }
  }
  return i;
}

/** Enough of a line to recognise it in an error message, never a message body. */
function clip(line: string): string {
  return line.length > 120 ? `${line.slice(0, 120)}...` : line;
}
