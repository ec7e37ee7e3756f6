/**
 * HMAC-SHA1 (RFC 2104 over FIPS 180-4 SHA-1) of one message under many 20-byte keys, in plain
 * JavaScript. A lookup in a hashed known_hosts file computes HMAC-SHA1(salt, name) for every
 * line, as ssh-keygen -F does: 110k HMACs for a 110k-line file. node:crypto's createHmac costs
 * 3.4 us per line (a new OpenSSL context each time), two crypto.hash calls 0.9 us (the crossing
 * into C++ dominates); this, with the name's blocks expanded once per lookup, about 0.6 us.
 * test/unit/known-hosts-hmac-sha1.test.ts holds it to createHmac.
 */

const BLOCK_BYTES = 64;
/** SHA_DIGEST_LENGTH: the MAC, and the salt that keys it, are 20 bytes. */
export const HMAC_SHA1_BYTES = 20;
const INNER_PAD = 0x36363636;
const OUTER_PAD = 0x5c5c5c5c;
/** A 64-byte key block followed by the 20-byte inner hash: the outer message's bit length. */
const OUTER_MESSAGE_BITS = (BLOCK_BYTES + HMAC_SHA1_BYTES) * 8;

/**
 * Scratch state of the computation in progress: the schedule of the block being compressed and
 * the two hash states. Module-wide, because V8 compiles accesses to these fixed arrays tighter
 * than to an instance's fields (a fifth faster here); safe, since compute() runs to its end
 * synchronously and nothing else touches them.
 */
const w = new Int32Array(80);
const inner = new Int32Array(5);
const outer = new Int32Array(5);
/** The message with SHA-1's padding, while setMessage() expands it. */
let padded = new Uint8Array(2 * BLOCK_BYTES);

/** Words 16-79 of the schedule from words 0-15 (FIPS 180-4 6.1.2 step 1). */
function expand(): void {
  for (let t = 16; t < 80; t++) {
    const x = (w[t - 3] as number) ^ (w[t - 8] as number) ^ (w[t - 14] as number) ^ (w[t - 16] as number);
    w[t] = (x << 1) | (x >>> 31);
  }
}

/** The 80 rounds over the expanded schedule in `w`, added into state (steps 2-4). */
function rounds(state: Int32Array): void {
  let a = state[0] as number;
  let b = state[1] as number;
  let c = state[2] as number;
  let d = state[3] as number;
  let e = state[4] as number;
  let t = 0;
  // Four loops of 20 rounds, one per round function, so each loop body stays branch-free.
  for (; t < 20; t++) {
    const next = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + (w[t] as number)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  for (; t < 40; t++) {
    const next = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + (w[t] as number)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  for (; t < 60; t++) {
    const next =
      (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + (w[t] as number)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  for (; t < 80; t++) {
    const next = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + (w[t] as number)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  state[0] = ((state[0] as number) + a) | 0;
  state[1] = ((state[1] as number) + b) | 0;
  state[2] = ((state[2] as number) + c) | 0;
  state[3] = ((state[3] as number) + d) | 0;
  state[4] = ((state[4] as number) + e) | 0;
}

function reset(state: Int32Array): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
  state[4] = 0xc3d2e1f0 | 0;
}

function wordAt(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) << 24) |
    ((bytes[at + 1] as number) << 16) |
    ((bytes[at + 2] as number) << 8) |
    (bytes[at + 3] as number)
  );
}

/**
 * HMAC-SHA1(key, message) for one fixed message and key after key, each key exactly 20 bytes
 * (a known_hosts salt). The message's blocks (after the key block, with SHA-1's padding) are
 * expanded once here, since they are the same for every key.
 */
export class HmacSha1 {
  /** The expanded 80-word schedules of the inner hash's blocks after its key block. */
  readonly #messageBlocks: Int32Array[] = [];
  #blockCount = 0;
  /** computeOnce()'s instance for messages longer than one block, made when first needed. */
  #longMessage: HmacSha1 | undefined;

  constructor(message: Uint8Array) {
    this.setMessage(message);
  }

  /**
   * Makes message[0..messageLength) the one MACed from now on (hashing a file MACs each name
   * once, from a buffer it reuses).
   */
  setMessage(message: Uint8Array, messageLength = message.length): void {
    // message || 0x80 || zeros || 64-bit big-endian bit length of (key block || message).
    const blockCount = Math.ceil((messageLength + 9) / BLOCK_BYTES);
    const length = blockCount * BLOCK_BYTES;
    if (padded.length < length) padded = new Uint8Array(length);
    for (let i = 0; i < messageLength; i++) padded[i] = message[i] as number;
    padded[messageLength] = 0x80;
    padded.fill(0, messageLength + 1, length);
    const bits = (BLOCK_BYTES + messageLength) * 8;
    for (let i = 1; i <= 4; i++) padded[length - i] = (bits >>> (8 * (i - 1))) & 0xff;
    // A name is at most a few kilobytes: the high word of the bit length stays zero.
    for (let block = 0; block < blockCount; block++) {
      for (let i = 0; i < 16; i++) w[i] = wordAt(padded, block * BLOCK_BYTES + 4 * i);
      expand();
      const schedule = (this.#messageBlocks[block] ??= new Int32Array(80));
      schedule.set(w);
    }
    this.#blockCount = blockCount;
  }

  /** Computes the MAC under the 20-byte key at key[keyAt..]; read it with macWord() or writeMac(). */
  compute(key: Uint8Array, keyAt = 0): void {
    reset(inner);
    keyBlock(key, keyAt, INNER_PAD);
    rounds(inner);
    for (let block = 0; block < this.#blockCount; block++) {
      w.set(this.#messageBlocks[block] as Int32Array);
      rounds(inner);
    }
    this.#outerRounds(key, keyAt);
  }

  /** The outer hash over the inner one in `inner`: the key block, then the inner hash's block. */
  #outerRounds(key: Uint8Array, keyAt: number): void {
    reset(outer);
    keyBlock(key, keyAt, OUTER_PAD);
    rounds(outer);
    // The outer message's second block: the inner hash, 0x80, zeros, the bit length.
    for (let i = 0; i < 5; i++) w[i] = inner[i] as number;
    w[5] = 0x80000000 | 0;
    for (let i = 6; i < 15; i++) w[i] = 0;
    w[15] = OUTER_MESSAGE_BITS;
    expand();
    rounds(outer);
  }

  /**
   * compute() for a message MACed once (hashing a file MACs each name under one salt): a message
   * that fits one block with its padding (up to 55 bytes, as host names are) is written straight
   * into the schedule after the key block, instead of being padded, expanded and kept by
   * setMessage() for keys that never come. Longer messages go through a second instance's
   * setMessage(), so the message compute() MACs stays the one this instance was given.
   */
  computeOnce(message: Uint8Array, messageLength: number, key: Uint8Array, keyAt = 0): void {
    if (messageLength > BLOCK_BYTES - 9) {
      const long = (this.#longMessage ??= new HmacSha1(new Uint8Array(0)));
      long.setMessage(message, messageLength);
      // The result is in the module's state, where writeMac() and macWord() read it.
      long.compute(key, keyAt);
      return;
    }
    reset(inner);
    keyBlock(key, keyAt, INNER_PAD);
    rounds(inner);
    // message || 0x80 || zeros || bit length of (key block || message), big-endian words.
    const whole = messageLength & ~3;
    for (let i = 0; i < whole; i += 4) w[i >> 2] = wordAt(message, i);
    // The last word: the message's last 0-3 bytes, then 0x80.
    let last = 0x80 << (24 - 8 * (messageLength & 3));
    for (let i = whole; i < messageLength; i++) last |= (message[i] as number) << (24 - 8 * (i - whole));
    w[whole >> 2] = last;
    for (let i = (whole >> 2) + 1; i < 15; i++) w[i] = 0;
    w[15] = (BLOCK_BYTES + messageLength) * 8;
    expand();
    rounds(inner);
    this.#outerRounds(key, keyAt);
  }

  /** Word i (0-4, big-endian) of the last computed MAC. */
  macWord(i: number): number {
    return outer[i] as number;
  }

  /** The last computed MAC written as 20 bytes at out[at..]. */
  writeMac(out: Uint8Array, at = 0): void {
    for (let i = 0; i < 5; i++) {
      const word = outer[i] as number;
      out[at + 4 * i] = word >>> 24;
      out[at + 4 * i + 1] = (word >>> 16) & 0xff;
      out[at + 4 * i + 2] = (word >>> 8) & 0xff;
      out[at + 4 * i + 3] = word & 0xff;
    }
  }

  /**
   * Whether the MAC under key[keyAt..] is the 20 bytes at mac[macAt..]. Every word is compared
   * (differences or-ed together), so the time does not tell how many bytes agreed.
   */
  matches(key: Uint8Array, keyAt: number, mac: Uint8Array, macAt: number): boolean {
    this.compute(key, keyAt);
    let diff = 0;
    for (let i = 0; i < 5; i++) diff |= (outer[i] as number) ^ wordAt(mac, macAt + 4 * i);
    return diff === 0;
  }
}

/** Words 0-15 of a key block, expanded: the 20 key bytes xor pad, then the pad alone. */
function keyBlock(key: Uint8Array, keyAt: number, pad: number): void {
  for (let i = 0; i < 5; i++) w[i] = wordAt(key, keyAt + 4 * i) ^ pad;
  for (let i = 5; i < 16; i++) w[i] = pad;
  expand();
}
