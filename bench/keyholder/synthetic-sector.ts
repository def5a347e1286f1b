/**
 * Synthetic sectors for the disclosure tests and benchmark: a codebook of any size and
 * institution vectors generated directly (no student records), realistic where disclosure
 * control looks — skewed institution sizes (a few large ROCs, many small schools), each
 * institution offering a size-dependent subset of crebos (small ones specialised in one or two
 * sectorkamers), BBL cells rarer and smaller, starters about a third of enrolments, and block C
 * (`c_contrib_*`, `c_sq_*`, the one-hot rate bins) computed per institution exactly as
 * METRICS.md defines it for cell rows and group rows. Only the slots disclosure control reads
 * are filled (populations and block C); the full node path (synth -> import -> vector) is
 * exercised separately on a few institutions.
 */
import { buildCodebook, type Codebook, type CodebookEntry } from '../../shared/metrics/codebook.js';
import { CELL_SLOT_INDEX, GROUP_SLOT_INDEX } from '../../shared/metrics/slots.js';
import { emptyVector, type ContributionVector } from '../../shared/metrics/vector.js';
import { addAt } from '../../shared/arrays/checked-index.js';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const normal = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

const SECTORKAMERS = ['ALG', 'HAN', 'ICT', 'MTL', 'SPO', 'TGO', 'VGG', 'ZDV', 'ZWS'];

/** A codebook of `crebos` programmes over nine sectorkamers and niveaus 1-4 (mostly 3 and 4). */
export function syntheticCodebook(crebos: number, seed = 1): Codebook {
  const r = rng(seed);
  const entries: CodebookEntry[] = [];
  for (let i = 0; i < crebos; i++) {
    const u = r();
    const niveau = (u < 0.04 ? 1 : u < 0.22 ? 2 : u < 0.52 ? 3 : 4) as 1 | 2 | 3 | 4;
    const sk = SECTORKAMERS[Math.floor(r() * SECTORKAMERS.length)] as string;
    entries.push({
      crebo: String(20000 + i * 7),
      name: `Opleiding ${i}`,
      niveau,
      sectorkamerCode: sk,
      sectorkamerName: `Sectorkamer ${sk}`,
    });
  }
  return buildCodebook(entries);
}

/** One institution's cells: population per cell and its rates (per mille). */
export interface SyntheticInstitution {
  id: string;
  cells: Map<number, { a: number; b: number; absPm: number; dropPm: number }>;
}

/** Institutions of a synthetic sector. */
export function syntheticInstitutions(cb: Codebook, count: number, seed = 1): SyntheticInstitution[] {
  const r = rng(seed * 7919 + count);
  const nCrebo = cb.entries.length;
  const popularity = cb.entries.map(() => Math.exp(1.2 * normal(r)));
  const out: SyntheticInstitution[] = [];
  for (let k = 0; k < count; k++) {
    const size = Math.round(Math.exp(Math.log(2500) + 1.0 * normal(r)));
    const offered = Math.max(3, Math.min(Math.round(nCrebo * 0.5), Math.round(size / 55)));
    const home = new Set([
      SECTORKAMERS[Math.floor(r() * SECTORKAMERS.length)],
      SECTORKAMERS[Math.floor(r() * SECTORKAMERS.length)],
    ]);
    const generalist = offered > 60;
    const chosen = new Set<number>();
    for (let tries = 0; chosen.size < offered && tries < offered * 30; tries++) {
      const i = Math.floor(r() * nCrebo);
      const e = cb.entries[i] as CodebookEntry;
      if (!generalist && !home.has(e.sectorkamerCode) && r() < 0.85) continue;
      if (r() < (popularity[i] as number) / 3) chosen.add(i);
    }
    const cells = new Map<number, { a: number; b: number; absPm: number; dropPm: number }>();
    const perCrebo = size / Math.max(1, chosen.size);
    const absBase = 80 + 60 * r();
    const dropBase = 60 + 80 * r();
    for (const i of chosen) {
      const bbl = r() < ((cb.entries[i] as CodebookEntry).niveau <= 2 ? 0.55 : 0.3);
      for (const [lw, share] of [
        [0, 1],
        [1, 0.35],
      ] as const) {
        if (lw === 1 && !bbl) continue;
        const a = Math.max(
          1,
          Math.round(perCrebo * share * Math.exp(0.8 * normal(r)) * Math.sqrt(popularity[i] as number)),
        );
        const b = Math.max(0, Math.round(a * (0.25 + 0.15 * r())));
        cells.set(2 * i + lw, {
          a,
          b,
          absPm: Math.max(0, Math.round(absBase + 40 * normal(r))),
          dropPm: Math.max(0, Math.round(dropBase + 50 * normal(r))),
        });
      }
    }
    out.push({ id: `SYN${String(k + 1).padStart(3, '0')}`, cells });
  }
  return out;
}

const ABS_BINS = [0, 50, 75, 100, 125, 150, 175, 200, 250, 300];
const DROP_BINS = [0, 50, 100, 150, 200, 250, 300, 350, 400, 500];
const bin = (bounds: number[], pm: number) => {
  let k = 0;
  for (let j = 0; j < bounds.length; j++) if (pm >= (bounds[j] as number)) k = j;
  return k;
};

/** Add one institution's block A/B populations and block C (cell and group rows) to a sector vector. */
function addInstitution(cb: Codebook, v: ContributionVector, inst: SyntheticInstitution): void {
  const C = CELL_SLOT_INDEX;
  const G = GROUP_SLOT_INDEX;
  const facts = (row: number[], idx: Record<string, number>, a: number, b: number, absPm: number, dropPm: number) => {
    if (a >= 1) addAt(row, idx.c_contrib_a as number, 1);
    if (b >= 1) addAt(row, idx.c_contrib_b as number, 1);
    addAt(row, idx.c_sq_a as number, a * a);
    addAt(row, idx.c_sq_b as number, b * b);
    if (a >= 10) addAt(row, idx[`c_abs_bin_${bin(ABS_BINS, absPm)}`] as number, 1);
    if (b >= 10) addAt(row, idx[`c_drop_bin_${bin(DROP_BINS, dropPm)}`] as number, 1);
  };
  for (const [i, c] of inst.cells) {
    const row = v.cells[i] as number[];
    addAt(row, C.a_enrolments as number, c.a);
    addAt(row, C.a_rated as number, c.a);
    addAt(row, C.b_starters as number, c.b);
    facts(row, C, c.a, c.b, c.absPm, c.dropPm);
  }
  cb.groupKeys.forEach((g, j) => {
    let a = 0;
    let b = 0;
    let absW = 0;
    let dropW = 0;
    for (const i of cb.groupCells.get(g) ?? []) {
      const c = inst.cells.get(i);
      if (!c) continue;
      a += c.a;
      b += c.b;
      absW += c.a * c.absPm;
      dropW += c.b * c.dropPm;
    }
    if (a + b === 0) return;
    facts(v.groups[j] as number[], G, a, b, a ? Math.floor(absW / a) : 0, b ? Math.floor(dropW / b) : 0);
  });
}

/** The sector sum (populations and block C) of the given institutions. */
export function sectorOf(
  cb: Codebook,
  institutions: readonly SyntheticInstitution[],
  studiejaar = '2024-2025',
): ContributionVector {
  const v = emptyVector(cb, studiejaar);
  for (const inst of institutions) addInstitution(cb, v, inst);
  return v;
}
