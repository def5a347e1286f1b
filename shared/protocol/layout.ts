import { SbError } from '../errors/sb-error.js';
import type { Codebook } from '../metrics/codebook.js';
import { CELL_SLOTS, CELL_WIDTH, GROUP_SLOTS, GROUP_WIDTH, METRIC_SPEC } from '../metrics/slots.js';
import { emptyVector, type ContributionVector } from '../metrics/vector.js';
import { PLAIN_MODULUS, SLOTS_PER_CIPHERTEXT } from '../crypto/he-params.js';

/**
 * Slot layout v1 of the encrypted vector:
 * - cell rows first, in codebook cell order (`codebook.cellKeys`), 64 slots each in METRICS.md
 *   order (A1..A21, B1..B19, C1..C24): slot `i * 64 + s`;
 * - then the group rows in `codebook.groupKeys` order, 24 slots each: slot
 *   `cells * 64 + j * 24 + s`;
 * - packed 4,096 slots per BFV ciphertext in that order (slot k goes to ciphertext
 *   `floor(k / 4096)`, position `k % 4096`); the last ciphertext is padded with zeros.
 * All values are integers modulo the plain modulus t.
 *
 * @see ../../../shared/spec/METRICS.md "The contribution vector of one institution"
 */
export const SLOT_LAYOUT_VERSION = 'sb-layout-v1' as const;

/** Number of slots of the vector of a codebook. */
export function layoutLength(codebook: Codebook): number {
  return codebook.cellKeys.length * CELL_WIDTH + codebook.groupKeys.length * GROUP_WIDTH;
}

/** Number of ciphertexts a contribution of this codebook takes. */
export function layoutCiphertexts(codebook: Codebook): number {
  return Math.max(1, Math.ceil(layoutLength(codebook) / SLOTS_PER_CIPHERTEXT));
}

/**
 * Largest value + 1 a single institution may put in any slot when up to `maxParticipants`
 * contributions are summed: `floor((t - 1) / maxParticipants)` (METRICS.md "Largest values").
 * Values must be strictly below it, so the sector sum can never wrap modulo t.
 */
export function valueBound(maxParticipants: number): bigint {
  if (!Number.isInteger(maxParticipants) || maxParticipants < 1) {
    throw new SbError(
      'SB_ERR_MAX_PARTICIPANTS',
      `max_participants must be a positive integer, not ${maxParticipants}; fix the round manifest.`,
    );
  }
  return (PLAIN_MODULUS - 1n) / BigInt(maxParticipants);
}

/** Where a slot index lies in the layout: `cell <key> slot <name>` or `group <key> slot <name>`. */
export function describeSlot(codebook: Codebook, k: number): { row: 'cell' | 'group'; key: string; slot: string } {
  const cellSlots = codebook.cellKeys.length * CELL_WIDTH;
  if (k < cellSlots) {
    return {
      row: 'cell',
      key: codebook.cellKeys[Math.floor(k / CELL_WIDTH)] as string,
      slot: CELL_SLOTS[k % CELL_WIDTH] as string,
    };
  }
  const g = k - cellSlots;
  return {
    row: 'group',
    key: codebook.groupKeys[Math.floor(g / GROUP_WIDTH)] as string,
    slot: GROUP_SLOTS[g % GROUP_WIDTH] as string,
  };
}

/**
 * Flatten a contribution vector into layout v1, with the range check of the round: every
 * value an integer in [0, valueBound(maxParticipants)). Throws `SB_ERR_SLOT_RANGE` naming the
 * cell or group and the slot, or `SB_ERR_LAYOUT_SHAPE` when rows do not match the codebook.
 */
export function flatten(
  codebook: Codebook,
  vector: ContributionVector,
  options: { maxParticipants: number },
): BigUint64Array {
  const bound = valueBound(options.maxParticipants);
  const boundN = Number(bound); // < 2^53, exact
  if (vector.cells.length !== codebook.cellKeys.length || vector.groups.length !== codebook.groupKeys.length) {
    throw new SbError(
      'SB_ERR_LAYOUT_SHAPE',
      `the vector has ${vector.cells.length} cell rows and ${vector.groups.length} group rows; the ` +
        `round's codebook needs ${codebook.cellKeys.length} and ${codebook.groupKeys.length}. Recompute ` +
        "the vector with the round's codebook.",
    );
  }
  const out = new BigUint64Array(layoutLength(codebook));
  let k = 0;
  const put = (
    rows: number[][],
    width: number,
    kind: 'cell' | 'group',
    keys: readonly string[],
    names: readonly string[],
  ) => {
    rows.forEach((row, r) => {
      if (row.length !== width) {
        throw new SbError(
          'SB_ERR_LAYOUT_SHAPE',
          `${kind} ${keys[r]} has ${row.length} slots, not ${width}; recompute the vector.`,
          { row: kind, key: keys[r] },
        );
      }
      for (let s = 0; s < width; s++) {
        const v = row[s] as number;
        if (!Number.isSafeInteger(v) || v < 0 || v >= boundN) {
          throw new SbError(
            'SB_ERR_SLOT_RANGE',
            `${kind} ${keys[r]} slot ${names[s]} is ${v}; every value must be an integer from 0 to ${boundN - 1} ` +
              `(floor((t - 1) / max_participants) - 1 for max_participants = ${options.maxParticipants}) ` +
              `so the sector sum cannot wrap. Check the input data for this ${kind}.`,
            { row: kind, key: keys[r], slot: names[s], value: v, bound: boundN },
          );
        }
        out[k++] = BigInt(v);
      }
    });
  };
  put(vector.cells, CELL_WIDTH, 'cell', codebook.cellKeys, CELL_SLOTS);
  put(vector.groups, GROUP_WIDTH, 'group', codebook.groupKeys, GROUP_SLOTS);
  return out;
}

/**
 * Inverse of {@link flatten} (for decrypted sums): accepts the decrypted slots (possibly
 * padded to whole ciphertexts; the padding must be zero) and returns the vector.
 */
export function unflatten(codebook: Codebook, slots: BigUint64Array, studiejaar: string): ContributionVector {
  const n = layoutLength(codebook);
  if (slots.length < n)
    throw new SbError(
      'SB_ERR_LAYOUT_SHAPE',
      `${slots.length} slots given, the codebook's layout has ${n}; decrypt all ciphertexts of the sum.`,
    );
  for (let k = n; k < slots.length; k++) {
    if (slots[k] !== 0n)
      throw new SbError(
        'SB_ERR_LAYOUT_PADDING',
        `padding slot ${k} is ${slots[k]}, not 0: the sum does not follow layout ${SLOT_LAYOUT_VERSION}. Check the contributions' layout version.`,
      );
  }
  const v = emptyVector(codebook, studiejaar);
  if (v.metricSpec !== METRIC_SPEC) throw new Error('unreachable');
  let k = 0;
  for (const row of v.cells) for (let s = 0; s < CELL_WIDTH; s++) row[s] = Number(slots[k++] as bigint);
  for (const row of v.groups) for (let s = 0; s < GROUP_WIDTH; s++) row[s] = Number(slots[k++] as bigint);
  return v;
}

/** (a + b) mod t, slot-wise, into a new array (additive masks use this; values must be < t). */
export function addModT(a: BigUint64Array, b: BigUint64Array): BigUint64Array {
  if (a.length !== b.length) throw new RangeError('length mismatch');
  const out = new BigUint64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const s = (a[i] as bigint) + (b[i] as bigint);
    out[i] = s >= PLAIN_MODULUS ? s - PLAIN_MODULUS : s;
  }
  return out;
}

/** (a - b) mod t, slot-wise. */
export function subModT(a: BigUint64Array, b: BigUint64Array): BigUint64Array {
  if (a.length !== b.length) throw new RangeError('length mismatch');
  const out = new BigUint64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as bigint;
    const y = b[i] as bigint;
    out[i] = x >= y ? x - y : x + PLAIN_MODULUS - y;
  }
  return out;
}
