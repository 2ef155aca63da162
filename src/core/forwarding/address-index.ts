/**
 * Address -> node id for the forwarding graph: the interning that is most of the audit's analysis
 * time, kept in flat typed arrays (see AddressIndex).
 */
import { grown } from './typed-arrays.js';

/** Looking an address up in a graph. */
export interface AddressLookup {
  /** The node id of an address (any case), or undefined when it was never seen. */
  get(address: string): number | undefined;
}

/**
 * Address -> node id, case-insensitive. Interning is most of the audit's analysis time. A JS Map
 * is as quick for 100k mailboxes, but grows slower per edge with the domain (issue 4's benchmark:
 * 4x the domain took 7x the time): each lookup chases bucket, entry and key string to random
 * places in a heap that holds every reading. Here everything a lookup touches besides the address
 * itself is in two compact typed arrays: an open-addressing table (linear probing) of
 * [hash, record], and the records, one per address: [id, length * 2 + wide, its characters packed
 * four to a word (two when one is beyond ASCII)]. A lookup packs the address into words as it
 * hashes it, in its one pass over the characters, then compares words with its slot's record.
 */
export class AddressIndex implements AddressLookup {
  /** Id -> address, lower-cased. */
  readonly addresses: string[] = [];
  /** Two ints per slot: the address's hash, and its record's offset + 1 (0: the slot is empty). */
  private slots: Int32Array;
  private mask: number;
  private records: Int32Array;
  private recordsEnd = 0;
  /** The packed words of the one address being looked up, and of a batch of them (internAll). */
  private single = new Int32Array(64);
  private batchWords = new Int32Array(INTERN_BATCH * 8);
  private readonly batchAt = new Int32Array(INTERN_BATCH);
  private readonly batchHash = new Int32Array(INTERN_BATCH);
  private readonly batchRecord = new Int32Array(INTERN_BATCH);
  private readonly batchTag = new Int32Array(INTERN_BATCH);
  /** What findSingle() packed: the address lower-cased, its tag (length * 2 + wide) and hash. */
  private packedKey = '';
  private packedTag = 0;
  private packedHash = 0;

  constructor(expected = 0) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * 2);
    this.mask = capacity - 1;
    // A typical address takes 8 words: id, tag, and 22 characters in 6.
    this.records = new Int32Array(Math.max(1024, expected * 10));
  }

  get size(): number {
    return this.addresses.length;
  }

  get(address: string): number | undefined {
    const record = this.slots[this.findSingle(address) * 2 + 1]! - 1;
    return record < 0 ? undefined : this.records[record];
  }

  /** The id of an address, assigning the next one when it is new. */
  intern(address: string): number {
    const slot = this.findSingle(address);
    const record = this.slots[slot * 2 + 1]! - 1;
    return record >= 0 ? this.records[record]! : this.insert(slot, this.packedHash, this.packedKey, this.packedTag, this.single, 0);
  }

  /**
   * intern() for each of the first `count` addresses, into ids[at ..]: the same ids, found faster.
   * Each step is a loop over the whole batch that does one kind of memory read and little else:
   * the strings' lengths (which brings each string, cold from wherever the provider's parser left
   * it, into cache), then packing and hashing, then the first slots, then their records' tags,
   * then the comparisons. The reads for different addresses do not wait on each other, so the CPU
   * has many cache misses in flight at once instead of waiting out each in turn. New ids go out in
   * order.
   */
  internAll(addresses: readonly string[], count: number, ids: Uint32Array, at: number): void {
    const { batchAt: wordsAt, batchHash: hashes, batchRecord: found, batchTag: tags } = this;
    for (let start = 0; start < count; start += INTERN_BATCH) {
      const n = Math.min(INTERN_BATCH, count - start);
      let used = 0;
      for (let i = 0; i < n; i++) {
        wordsAt[i] = used;
        used += (addresses[start + i]!.length + 3) >> 2;
      }
      let words = this.batchWords;
      if (used > words.length) words = this.batchWords = new Int32Array(2 * used);
      for (let i = 0; i < n; i++) hashes[i] = packAscii(addresses[start + i]!, words, wordsAt[i]!);
      const { slots, mask, records } = this;
      for (let i = 0; i < n; i++) {
        const hash = hashes[i]!;
        const slot = (hash & mask) * 2;
        found[i] = hash >= 0 && slots[slot] === hash ? slots[slot + 1]! - 1 : -1;
      }
      for (let i = 0; i < n; i++) {
        const record = found[i]!;
        tags[i] = record >= 0 ? records[record + 1]! : -1;
      }
      for (let i = 0; i < n; i++) {
        const address = addresses[start + i]!;
        const tag = address.length * 2;
        const record = found[i]!;
        let id: number;
        if (tags[i] === tag && this.sameWords(record, tag, words, wordsAt[i]!)) id = this.records[record]!;
        else if (hashes[i]! < 0) id = this.intern(address);
        else {
          const slot = this.slotOf(hashes[i]!, tag, words, wordsAt[i]!);
          const known = this.slots[slot * 2 + 1]! - 1;
          id = known >= 0 ? this.records[known]! : this.insert(slot, hashes[i]!, address, tag, words, wordsAt[i]!);
        }
        ids[at + start + i] = id;
      }
    }
  }

  /** Packs one address into `single` and returns its slot; packedKey, packedTag and packedHash say what it packed. */
  private findSingle(address: string): number {
    if (this.single.length < address.length) this.single = new Int32Array(address.length * 2);
    const hash = packAscii(address, this.single, 0);
    if (hash >= 0) {
      this.packedKey = address;
      this.packedTag = address.length * 2;
      this.packedHash = hash;
    } else this.packLowerCase(address);
    return this.slotOf(this.packedHash, this.packedTag, this.single, 0);
  }

  /** The rare address with an upper-case or non-ASCII character: only toLowerCase() gets every alphabet right. */
  private packLowerCase(address: string): void {
    const key = address.toLowerCase();
    if (this.single.length < key.length) this.single = new Int32Array(key.length * 2);
    this.packedKey = key;
    // Lower-casing can leave only ASCII behind (the Kelvin sign becomes k); then it packs like any ASCII address.
    const hash = packAscii(key, this.single, 0);
    this.packedTag = key.length * 2 + (hash < 0 ? 1 : 0);
    this.packedHash = hash >= 0 ? hash : packWide(key, this.single, 0);
  }

  /** The slot that holds the packed address, or the empty slot where it would go. */
  private slotOf(hash: number, tag: number, words: Int32Array, at: number): number {
    const { slots, mask } = this;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const record = slots[slot * 2 + 1]! - 1;
      if (record < 0 || (slots[slot * 2] === hash && this.matches(record, tag, words, at))) return slot;
    }
  }

  private matches(record: number, tag: number, words: Int32Array, at: number): boolean {
    return this.records[record + 1] === tag && this.sameWords(record, tag, words, at);
  }

  /** The record's characters equal the packed ones; its tag is already known to be `tag`. */
  private sameWords(record: number, tag: number, words: Int32Array, at: number): boolean {
    const records = this.records;
    const count = wordCount(tag);
    for (let i = 0; i < count; i++) if (records[record + 2 + i] !== words[at + i]) return false;
    return true;
  }

  private insert(slot: number, hash: number, key: string, tag: number, words: Int32Array, at: number): number {
    const id = this.addresses.push(key) - 1;
    const count = wordCount(tag);
    const record = this.recordsEnd;
    if (record + 2 + count > this.records.length) this.records = grown(this.records, new Int32Array(2 * (record + 2 + count)));
    const records = this.records;
    records[record] = id;
    records[record + 1] = tag;
    for (let i = 0; i < count; i++) records[record + 2 + i] = words[at + i]!;
    this.recordsEnd = record + 2 + count;
    this.slots[slot * 2] = hash;
    this.slots[slot * 2 + 1] = record + 1;
    // At most half full, so a probe rarely goes past its first slot.
    if (this.addresses.length * 2 > this.mask) this.grow();
    return id;
  }

  /** Doubles the table; the stored hashes are enough to place every entry again. */
  private grow(): void {
    const old = this.slots;
    const mask = this.mask * 2 + 1;
    const slots = new Int32Array((mask + 1) * 2);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      let slot = old[i]! & mask;
      while (slots[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
      slots[slot * 2] = old[i]!;
      slots[slot * 2 + 1] = old[i + 1]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** How many addresses AddressIndex.internAll takes a step at a time. */
const INTERN_BATCH = 64;

const HASH_SEED = 0x811c9dc5 | 0;
const HASH_PRIME = 0x01000193;

/**
 * Packs an address four characters a word into out[at ..] and returns a non-negative hash of
 * the words (FNV-1a, then a final mix so the low bits, the slot, depend on every word); or -1
 * when a character is upper-case or beyond ASCII. Addresses almost never have one, so the common
 * case reads each character exactly once.
 */
function packAscii(text: string, out: Int32Array, at: number): number {
  const n = text.length;
  let h = HASH_SEED;
  let word = 0;
  let k = at;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f || (c >= 0x41 && c <= 0x5a)) return -1;
    word = (word << 8) | c;
    if ((i & 3) === 3) {
      out[k++] = word;
      h = Math.imul(h ^ word, HASH_PRIME);
      word = 0;
    }
  }
  if ((n & 3) !== 0) {
    out[k] = word;
    h = Math.imul(h ^ word, HASH_PRIME);
  }
  return finalMix(h ^ n);
}

/** packAscii for a lower-cased address with a character beyond ASCII: two characters a word. */
function packWide(text: string, out: Int32Array, at: number): number {
  const n = text.length;
  let h = HASH_SEED;
  let word = 0;
  let k = at;
  for (let i = 0; i < n; i++) {
    word = (word << 16) | text.charCodeAt(i);
    if ((i & 1) === 1) {
      out[k++] = word;
      h = Math.imul(h ^ word, HASH_PRIME);
      word = 0;
    }
  }
  if ((n & 1) !== 0) {
    out[k] = word;
    h = Math.imul(h ^ word, HASH_PRIME);
  }
  return finalMix(h ^ ~n);
}

/** How many words a record's characters take: `tag` is length * 2, plus 1 when they are packed two a word. */
function wordCount(tag: number): number {
  return tag & 1 ? (tag + 2) >> 2 : ((tag >> 1) + 3) >> 2;
}

/** MurmurHash3's finalizer, cleared of the sign bit. */
function finalMix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x7fffffff;
}
