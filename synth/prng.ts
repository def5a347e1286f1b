import { createHash } from 'node:crypto';
import { itemAt } from '../shared/arrays/checked-index.js';

/** A small seeded PRNG (sfc32). Deterministic across platforms; never `Math.random`. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

/**
 * sfc32 seeded from SHA-256 of the seed and labels, so `rngFor(seed, 'inst', 3)` gives an
 * independent stream per institution (and per purpose) that does not depend on the order in which
 * other streams are consumed.
 */
export function rngFor(seed: string | number, ...labels: (string | number)[]): Rng {
  const h = createHash('sha256')
    .update([String(seed), ...labels.map(String)].join('\u0000'))
    .digest();
  let a = h.readUInt32LE(0);
  let b = h.readUInt32LE(4);
  let c = h.readUInt32LE(8);
  let d = h.readUInt32LE(12);
  const u32 = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  const next = (): number => u32() / 4294967296;
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: <T>(xs: readonly T[]): T => itemAt(xs, Math.floor(next() * xs.length)),
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}
