import { PLAIN_MODULUS } from '../crypto/he-params.js';
import { SbError } from '../errors/sb-error.js';
import { type MaskGraph, neighbours } from './graph.js';
import type { PeerKeys, RoundSecrets } from './keys.js';
import { type MaskPool, maskPool } from './mask-pool.js';
import { addMasks, type MaskTask } from './mask-tasks.js';

/**
 * Sign of the pairwise mask of `a` with `b` in a's masked input: +1 when a < b (JavaScript
 * string order), -1 otherwise. For the pair (i, j) with i < j, i adds and j subtracts, so the
 * two cancel in the sum.
 */
export function pairSign(a: string, b: string): 1 | -1 {
  return a < b ? 1 : -1;
}

/** Options of {@link maskInput}. */
export interface MaskInputOptions {
  secrets: RoundSecrets;
  /** The flattened vector (shared/protocol/layout.ts `flatten`), values in [0, t); not changed. */
  slots: BigUint64Array;
  /** Verified advertisements of the round. */
  peers: ReadonlyMap<string, PeerKeys>;
  /**
   * The set U2 the coordinator relayed at the end of the share phase: the nodes whose shares
   * were delivered (this node included). The node masks with its neighbours in U2 and must hold
   * shares from each of them; the same set goes into its survivor-set signature.
   */
  shared: readonly string[];
  /** Every participant id of the manifest. */
  participants: readonly string[];
  graph: MaskGraph;
}

/** t as a double (t < 2^40, exact). */
const T = Number(PLAIN_MODULUS);
const TWO32 = 4294967296;
/**
 * Whether 64-bit array elements are stored little-endian (x86 and ARM as Node runs them), so a
 * BigUint64Array can be read and written as pairs of 32-bit words (low word first) without
 * making a BigInt per slot: about ten times faster on 154,728 slots. Big-endian hosts take the
 * BigInt path.
 */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The first `length` slots (BigUint64Array, values < t; default all) as doubles (exact: t < 2^40).
 * @param onRange called with the index of the first slot >= t; must throw (default:
 *   `SB_ERR_PLAIN_RANGE` naming the slot)
 */
export function toDoubles(
  slots: BigUint64Array,
  length: number = slots.length,
  onRange: (slot: number) => never = rangeError,
): Float64Array {
  const out = new Float64Array(length);
  if (LITTLE_ENDIAN) {
    const w = new Uint32Array(slots.buffer, slots.byteOffset, 2 * length);
    for (let i = 0; i < length; i++) {
      // A high word >= 2^8 gives a value >= 2^40 > t; the double may round, but never below t.
      const v = (w[2 * i + 1] as number) * TWO32 + (w[2 * i] as number);
      if (v >= T) onRange(i);
      out[i] = v;
    }
    return out;
  }
  for (let i = 0; i < length; i++) {
    const v = slots[i] as bigint;
    if (v >= PLAIN_MODULUS) onRange(i);
    out[i] = Number(v);
  }
  return out;
}

function rangeError(slot: number): never {
  throw new SbError(
    'SB_ERR_PLAIN_RANGE',
    `slot ${slot} is not below the plain modulus; flatten the vector with the round's range checks first.`,
    { slot },
  );
}

/**
 * Doubles (exact integers in [0, t)) into slots: into `out` from index 0 when given (its other
 * slots are left as they are), else into a new BigUint64Array of the same length.
 */
export function fromDoubles(acc: Float64Array, out: BigUint64Array = new BigUint64Array(acc.length)): BigUint64Array {
  if (out.length < acc.length) throw new RangeError('fromDoubles: the output is shorter than the input');
  if (LITTLE_ENDIAN) {
    const w = new Uint32Array(out.buffer, out.byteOffset, 2 * acc.length);
    for (let i = 0; i < acc.length; i++) {
      const v = acc[i] as number;
      const hi = Math.floor(v / TWO32);
      w[2 * i] = v - hi * TWO32;
      w[2 * i + 1] = hi;
    }
    return out;
  }
  for (let i = 0; i < acc.length; i++) out[i] = BigInt(acc[i] as number);
  return out;
}

/**
 * The peers a node masks with: its neighbours in the graph that are in U2 (`shared`).
 * @throws SbError `SB_ERR_SECAGG_PARAMS` when the node itself is not in U2
 */
export function maskPeers(
  roundId: string,
  me: string,
  shared: readonly string[],
  participants: readonly string[],
  graph: MaskGraph,
): string[] {
  if (!shared.includes(me))
    throw new SbError(
      'SB_ERR_SECAGG_PARAMS',
      `${me} is not in the set of nodes whose shares were delivered; it cannot send a masked input in round ${roundId}.`,
    );
  const inShared = new Set(shared);
  return neighbours(roundId, participants, graph, me).filter((p) => inShared.has(p));
}

/**
 * The masks of a node's masked input, in order: its self mask (+1) first, then one pairwise mask
 * per peer of {@link maskPeers} with sign {@link pairSign}. The tasks refer to `secrets`' own
 * bytes (no copies).
 * @throws SbError as {@link maskInput}, before any mask is expanded
 */
export function maskTasks(options: MaskInputOptions): MaskTask[] {
  const { secrets, peers } = options;
  const me = secrets.institutionId;
  const tasks: MaskTask[] = [{ kind: 'self', id: me, seed: secrets.selfSeed, sign: 1 }];
  for (const j of maskPeers(secrets.roundId, me, options.shared, options.participants, options.graph)) {
    const peer = peers.get(j);
    if (!peer)
      throw new SbError('SB_ERR_SECAGG_KEYS', `${j} is in the share set but advertised no verified keys.`, {
        institution: j,
      });
    tasks.push({
      kind: 'pair',
      a: me,
      b: j,
      secretKey: secrets.maskSecretKey,
      publicKey: peer.maskPublicKey,
      sign: pairSign(me, j),
    });
  }
  return tasks;
}

/**
 * Round 2, masked input: `slots + PRG(self seed) + Σ_j ±PRG(pair key with j)` modulo the BFV
 * plain modulus t, over the vector's slots only (the padding of the last ciphertext stays 0).
 * j runs over {@link maskPeers}; the sign is {@link pairSign}. Deterministic in its inputs,
 * so `audit verify --deep` can recompute it from the logged plaintext and the round secrets.
 * All in the calling thread; {@link maskInputParallel} gives the same bits on several threads.
 *
 * @returns the masked slots, same length as `slots`, values in [0, t)
 * @throws SbError `SB_ERR_PLAIN_RANGE` for a slot >= t, `SB_ERR_SECAGG_KEYS` when a peer in U2
 *   has no verified advertisement or its key is low-order, `SB_ERR_SECAGG_PARAMS` when this node
 *   is not in U2
 * @see Bonawitz et al., CCS 2017, Figure 4, round 2 (MaskedInputCollection)
 */
export function maskInput(options: MaskInputOptions): BigUint64Array {
  const tasks = maskTasks(options);
  const acc = toDoubles(options.slots);
  addMasks(options.secrets.roundId, tasks, acc);
  return fromDoubles(acc, new BigUint64Array(acc.length));
}

/**
 * {@link maskInput} with the masks spread over a {@link MaskPool}: the self mask and the first
 * run of pairwise masks in the calling thread, the other runs on worker threads, which get the
 * node's mask secret key and their peers' public keys only (not the self-mask seed, not the
 * vector). Same result, bit for bit, for every pool size.
 *
 * @param pool default: the process-wide pool (shared/secagg/mask-pool.ts `maskPool`)
 * @throws SbError as {@link maskInput}; `SB_ERR_MASK_WORKER` when a worker thread stopped
 */
export async function maskInputParallel(
  options: MaskInputOptions,
  pool: MaskPool = maskPool(),
): Promise<BigUint64Array> {
  const tasks = maskTasks(options);
  const acc = toDoubles(options.slots);
  await pool.addMasks(options.secrets.roundId, tasks, acc);
  return fromDoubles(acc, new BigUint64Array(acc.length));
}
