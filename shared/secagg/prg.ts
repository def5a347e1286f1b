import { createCipheriv, hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { PLAIN_MODULUS } from '../crypto/he-params.js';
import { SbError } from '../errors/sb-error.js';

/** t as a double (t < 2^40, exact). */
const T = Number(PLAIN_MODULUS);
const TWO32 = 4294967296;

/**
 * HKDF-SHA256 (RFC 5869, node:crypto hkdfSync) of a 32-byte secret into a 32-byte AES-256 key,
 * with an empty salt and a domain-separated info string.
 */
function hkdf32(secret: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), info, 32));
}

/**
 * PRG key of a node's self mask: HKDF-SHA256(selfSeed, info =
 * `sectorbench/v1/secagg/self-mask\n<round>\n<institution>`).
 */
export function selfMaskKey(roundId: string, institutionId: string, selfSeed: Uint8Array): Uint8Array {
  return hkdf32(selfSeed, `sectorbench/v1/secagg/self-mask\n${roundId}\n${institutionId}`);
}

/**
 * PRG key of the pairwise mask of nodes a and b: X25519 (nacl.scalarMult) of one's mask secret
 * key with the other's mask public key, then HKDF-SHA256 with info
 * `sectorbench/v1/secagg/pair-mask\n<round>\n<lo>\n<hi>` (lo < hi the two ids in string order),
 * so both ends derive the same key and no two rounds or pairs share one.
 *
 * @throws SbError `SB_ERR_SECAGG_KEYS` when the agreement gives the all-zero point (a low-order
 *   public key: the peer's advertisement is hostile)
 */
export function pairMaskKey(
  roundId: string,
  a: string,
  b: string,
  ownMaskSecretKey: Uint8Array,
  peerMaskPublicKey: Uint8Array,
): Uint8Array {
  const shared = nacl.scalarMult(ownMaskSecretKey, peerMaskPublicKey);
  if (shared.every((x) => x === 0))
    throw new SbError(
      'SB_ERR_SECAGG_KEYS',
      `the mask key agreement of ${a} and ${b} gives the zero point: a low-order public key was advertised. Stop and tell the coordinator.`,
      { a, b },
    );
  const [lo, hi] = a < b ? [a, b] : [b, a];
  const key = hkdf32(shared, `sectorbench/v1/secagg/pair-mask\n${roundId}\n${lo}\n${hi}`);
  shared.fill(0);
  return key;
}

/** Candidates per keystream piece: 3,276 x 5 = 16,380 bytes. */
const PIECE_VALUES = 3276;
const PIECE_BYTES = 5 * PIECE_VALUES;
/**
 * The plaintext the keystream is drawn over (AES-CTR of zeros is the keystream itself). One
 * piece of 16,380 bytes, reused: the stream is drawn piece by piece, not in one call. Why:
 * node:crypto's AES-256-CTR ran about 3 times faster here in pieces of about 16 KiB than in one
 * 774 KB call (the output stays in the CPU caches while the loop reads it, and no large buffer
 * is allocated per key); the piece is a multiple of 5 so no 5-byte candidate straddles two
 * pieces. Splitting the call does not change the stream (CTR is a function of the position).
 */
const ZEROS = new Uint8Array(PIECE_BYTES);

/**
 * Size of the block {@link keepFreedPages} allocates: just under 32 MiB, glibc's largest dynamic
 * mmap threshold on 64-bit hosts (DEFAULT_MMAP_THRESHOLD_MAX).
 */
const MMAP_PRIMER_BYTES = 31 * 2 ** 20;
let primed = false;

/**
 * Keep the keystream pieces' freed memory in the process instead of returning it to the kernel
 * after every garbage collection. Why: each mask allocates 774 KB of `Cipher.update` output
 * (47 pieces of 16 KiB); V8 frees them in batches of about 64 MB (its external-memory trigger),
 * glibc's malloc then gives the top of its heap back to the kernel (trim threshold 128 KiB by
 * default) and the next pieces fault fresh pages in again. On the 2-core VM of
 * docs/PERFORMANCE.md a page fault costs about 20 µs, and the key holder's 924 masks at 63 made
 * 50,000-120,000 of them (1.5-3 s of its 3.8 s); how many depended on what the process had
 * allocated before (e.g. Shamir shares). glibc raises its trim threshold to twice the size of a
 * freed mmap-ed block (mallopt(3), "dynamic mmap threshold"), so one untouched 31 MiB block,
 * allocated here and left to the garbage collector, lets the process keep up to 62 MiB of freed
 * heap: the faults drop to about 8,000 (one per new page of the working set). The block is never
 * written, so it costs no page faults; other allocators just allocate and free it.
 */
function keepFreedPages(): void {
  if (primed) return;
  primed = true;
  Buffer.allocUnsafeSlow(MMAP_PRIMER_BYTES);
}

/** The AES-256-CTR keystream of `key` (zero IV), as a function giving the next 16,380-byte piece. */
function keystream(key: Uint8Array): () => DataView {
  keepFreedPages();
  const cipher = createCipheriv('aes-256-ctr', key, new Uint8Array(16));
  return () => {
    const b = cipher.update(ZEROS);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  };
}

/**
 * Expand a 32-byte PRG key into `length` values uniform in [0, t): AES-256-CTR (node:crypto)
 * with a zero IV over zero bytes (the key is used for this one stream only); each 5 bytes,
 * little-endian, give a 40-bit candidate, kept when below t (rejection sampling: t < 2^40, so
 * the kept values are exactly uniform; a candidate is rejected with probability
 * (2^40 - t) / 2^40 ≈ 1.3e-7).
 *
 * `apply(i, v)` is called once per slot in order; callers add or subtract in place, which keeps
 * the masking loop free of temporary arrays.
 */
export function expandMask(key: Uint8Array, length: number, apply: (i: number, v: number) => void): void {
  const values = new Float64Array(length);
  accumulateMask(key, values, 1);
  for (let i = 0; i < length; i++) apply(i, values[i] as number);
}

/**
 * Add (`sign` = 1) or subtract (`sign` = -1) the mask of `key` into `acc` in place, modulo t.
 * `acc` holds values in [0, t) as doubles (t < 2^40, so every intermediate is an exact integer).
 * Same stream as {@link expandMask}, without a call per slot.
 */
export function accumulateMask(key: Uint8Array, acc: Float64Array, sign: 1 | -1): void {
  const length = acc.length;
  const next = keystream(key);
  let i = 0;
  while (i < length) {
    const dv = next();
    // A candidate is the 5 bytes at `off`, little-endian: a 32-bit word and a high byte.
    for (let off = 0; off < PIECE_BYTES && i < length; off += 5) {
      const v = dv.getUint32(off, true) + dv.getUint8(off + 4) * TWO32;
      if (v < T) {
        const a = acc[i] as number;
        if (sign === 1) {
          const s = a + v;
          acc[i] = s >= T ? s - T : s;
        } else {
          acc[i] = a >= v ? a - v : a + T - v;
        }
        i++;
      }
    }
  }
}

/**
 * Add `sign` x the mask of `key` into `acc` WITHOUT reducing mod t (the masking loop's fast path):
 * `acc` may then hold any integer of magnitude below 2^53; a caller that adds at most 8,000 masks
 * to values below t stays exact, and reduces once at the end with {@link reduceModT}. Same stream
 * and values as {@link accumulateMask}.
 */
export function addMaskUnreduced(key: Uint8Array, acc: Float64Array, sign: 1 | -1): void {
  const length = acc.length;
  const next = keystream(key);
  let i = 0;
  while (i < length) {
    const dv = next();
    for (let off = 0; off < PIECE_BYTES && i < length; off += 5) {
      const v = dv.getUint32(off, true) + dv.getUint8(off + 4) * TWO32;
      if (v < T) {
        acc[i] = (acc[i] as number) + sign * v;
        i++;
      }
    }
  }
}

/** Reduce every entry of `acc` (integers of magnitude below 2^53) into [0, t), in place. */
export function reduceModT(acc: Float64Array): void {
  for (let i = 0; i < acc.length; i++) {
    const r = (acc[i] as number) % T;
    acc[i] = r < 0 ? r + T : r;
  }
}

/** {@link expandMask} into a new Float64Array of values in [0, t) (tests, audit). */
export function maskVector(key: Uint8Array, length: number): Float64Array {
  const out = new Float64Array(length);
  expandMask(key, length, (i, v) => {
    out[i] = v;
  });
  return out;
}
