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

/** Words per record unit: 32 bytes, so a record of up to 8 words never straddles a 64-byte cache line. */
const UNIT = 8;

/**
 * Address -> node id, case-insensitive. Interning is most of the audit's analysis time. A JS Map
 * is as quick for 100k mailboxes, but grows slower per edge with the domain (issue 4's benchmark:
 * 4x the domain took 7x the time): each lookup chases bucket, entry and key string to random
 * places in a heap that holds every reading. Here everything a lookup touches besides the address
 * itself is in two compact typed arrays: an open-addressing table (linear probing) of one word per
 * slot, and the records, one per address: [id, length * 2 + wide, its characters packed four to a
 * word (two when one is beyond ASCII)]. A lookup packs the address into words as it hashes it, in
 * its one pass over the characters, then compares words with its slot's record.
 *
 * Both arrays are sized for the memory this code meets: past a few MB every random read here is a
 * trip to DRAM (~170 ns on the benchmark's VM), so a lookup should make one. A slot word holds the
 * record's place and the hash bits the slot's position does not, so probing past a neighbour's slot
 * never reads its record; and records start on 32-byte boundaries, so a typical address's record
 * (up to 24 characters) is one cache line, not two.
 */
export class AddressIndex implements AddressLookup {
  /** Id -> address, lower-cased. */
  readonly addresses: string[] = [];
  /**
   * One word per slot: 0 when empty, else the hash's bits above the slot bits, and below them the
   * record's unit + 1. The slot bits are the hash's own, so the word and the slot together say
   * most of the hash without reading the record.
   */
  private slots: Uint32Array;
  private mask: number;
  /** Records start on unit boundaries: [id, tag (length * 2 + wide), packed characters ...]. */
  private records: Int32Array;
  private unitsEnd = 0;
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
    this.slots = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.records = new Int32Array(Math.max(1024, expected * 10));
  }

  get size(): number {
    return this.addresses.length;
  }

  get(address: string): number | undefined {
    const entry = this.slots[this.findSingle(address)]!;
    return entry === 0 ? undefined : this.records[this.recordOf(entry)];
  }

  /** The id of an address, assigning the next one when it is new. */
  intern(address: string): number {
    const slot = this.findSingle(address);
    const entry = this.slots[slot]!;
    return entry !== 0 ? this.records[this.recordOf(entry)]! : this.insert(slot, this.packedHash, this.packedKey, this.packedTag, this.single, 0);
  }

  /**
   * intern() for each of the first `count` addresses, into ids[at ..]: the same ids, found faster.
   * Each step is a loop over the whole batch that does one kind of memory read and little else:
   * the strings' lengths (which brings each string, cold from wherever the provider's parser left
   * it, into cache), then packing and hashing, then the slots (probing past other addresses'
   * slots), then their records' tags, then the comparisons. The reads for different addresses do
   * not wait on each other, so the CPU has many cache misses in flight at once instead of waiting
   * out each in turn. New ids go out in order.
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
      const high = ~mask;
      for (let i = 0; i < n; i++) {
        const hash = hashes[i]!;
        let record = -1;
        if (hash >= 0) {
          for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
            const entry = slots[slot]!;
            if (entry === 0) break;
            if (((entry ^ hash) & high) === 0) {
              record = ((entry & mask) - 1) * UNIT;
              break;
            }
          }
        }
        found[i] = record;
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
          const entry = this.slots[slot]!;
          id = entry !== 0 ? this.records[this.recordOf(entry)]! : this.insert(slot, hashes[i]!, address, tag, words, wordsAt[i]!);
        }
        ids[at + start + i] = id;
      }
    }
  }

  /** Where the record of a (non-empty) slot word starts. */
  private recordOf(entry: number): number {
    return ((entry & this.mask) - 1) * UNIT;
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
    const high = ~mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot]!;
      if (entry === 0) return slot;
      if (((entry ^ hash) & high) === 0) {
        const record = ((entry & mask) - 1) * UNIT;
        if (this.records[record + 1] === tag && this.sameWords(record, tag, words, at)) return slot;
      }
    }
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
    const unit = this.unitsEnd;
    const record = unit * UNIT;
    const units = (2 + count + UNIT - 1) >> 3;
    if ((unit + units) * UNIT > this.records.length) this.records = grown(this.records, new Int32Array(2 * (unit + units) * UNIT));
    const records = this.records;
    records[record] = id;
    records[record + 1] = tag;
    for (let i = 0; i < count; i++) records[record + 2 + i] = words[at + i]!;
    this.unitsEnd = unit + units;
    this.slots[slot] = ((hash & ~this.mask) | (unit + 1)) >>> 0;
    // At most half full, so a probe rarely goes past its first slot; and a slot word must have room for the next unit.
    if (this.addresses.length * 2 > this.mask || this.unitsEnd >= this.mask) this.grow();
    return id;
  }

  /** Doubles the table; each record's hash is computed again from its words to place it. */
  private grow(): void {
    const old = this.slots;
    const oldMask = this.mask;
    const mask = oldMask * 2 + 1;
    const slots = new Uint32Array(mask + 1);
    for (let i = 0; i < old.length; i++) {
      const entry = old[i]!;
      if (entry === 0) continue;
      const unit = (entry & oldMask) - 1;
      const hash = recordHash(this.records, unit * UNIT);
      let slot = hash & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = ((hash & ~mask) | (unit + 1)) >>> 0;
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
 * case reads each character exactly once, four at a time: per word, one OR collects any byte
 * beyond ASCII and one add-and-mask finds an upper-case letter (a byte from 0x41 to 0x5a is the
 * one whose high bit sets when 0x3f is added and stays clear when 0x25 is).
 */
function packAscii(text: string, out: Int32Array, at: number): number {
  const n = text.length;
  let h = HASH_SEED;
  let k = at;
  let all = 0;
  let upper = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    const word = (c0 << 24) | (c1 << 16) | (c2 << 8) | c3;
    all |= c0 | c1 | c2 | c3;
    upper |= (word + 0x3f3f3f3f) & ~(word + 0x25252525);
    out[k++] = word;
    h = Math.imul(h ^ word, HASH_PRIME);
  }
  if (i < n) {
    let word = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      all |= c;
      word = (word << 8) | c;
    }
    upper |= (word + 0x3f3f3f3f) & ~(word + 0x25252525);
    out[k] = word;
    h = Math.imul(h ^ word, HASH_PRIME);
  }
  if (all > 0x7f || (upper & 0x80808080) !== 0) return -1;
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

/** The hash packAscii or packWide gave the record's address, from its words. */
function recordHash(records: Int32Array, record: number): number {
  const tag = records[record + 1]!;
  const count = wordCount(tag);
  let h = HASH_SEED;
  for (let i = 0; i < count; i++) h = Math.imul(h ^ records[record + 2 + i]!, HASH_PRIME);
  const n = tag >> 1;
  return finalMix(h ^ (tag & 1 ? ~n : n));
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
