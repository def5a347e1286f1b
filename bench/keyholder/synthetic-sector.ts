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
import { addAt, getAt, itemAt } from '../../shared/arrays/checked-index.js';

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
    const sk = itemAt(SECTORKAMERS, Math.floor(r() * SECTORKAMERS.length));
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
      const e = itemAt(cb.entries, i);
      if (!generalist && !home.has(e.sectorkamerCode) && r() < 0.85) continue;
      if (r() < getAt(popularity, i) / 3) chosen.add(i);
    }
    const cells = new Map<number, { a: number; b: number; absPm: number; dropPm: number }>();
    const perCrebo = size / Math.max(1, chosen.size);
    const absBase = 80 + 60 * r();
    const dropBase = 60 + 80 * r();
    for (const i of chosen) {
      const bbl = r() < (itemAt(cb.entries, i).niveau <= 2 ? 0.55 : 0.3);
      for (const [lw, share] of [
        [0, 1],
        [1, 0.35],
      ] as const) {
        if (lw === 1 && !bbl) continue;
        const a = Math.max(
          1,
          Math.round(perCrebo * share * Math.exp(0.8 * normal(r)) * Math.sqrt(getAt(popularity, i))),
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
  for (const [j, bound] of bounds.entries()) if (pm >= bound) k = j;
  return k;
};

/** Slot name → position in a cell or group row. */
type SlotIndex = Readonly<Record<string, number>>;

/** The position of slot `name` in a row (throws for a slot the layout does not have). */
function slotAt(idx: SlotIndex, name: string): number {
  const k = idx[name];
  if (k === undefined) throw new RangeError(`no slot ${name}`);
  return k;
}

/** Add one institution's block A/B populations and block C (cell and group rows) to a sector vector. */
function addInstitution(cb: Codebook, v: ContributionVector, inst: SyntheticInstitution): void {
  const C = CELL_SLOT_INDEX;
  const G = GROUP_SLOT_INDEX;
  const facts = (row: number[], idx: SlotIndex, a: number, b: number, absPm: number, dropPm: number) => {
    if (a >= 1) addAt(row, slotAt(idx, 'c_contrib_a'), 1);
    if (b >= 1) addAt(row, slotAt(idx, 'c_contrib_b'), 1);
    addAt(row, slotAt(idx, 'c_sq_a'), a * a);
    addAt(row, slotAt(idx, 'c_sq_b'), b * b);
    if (a >= 10) addAt(row, slotAt(idx, `c_abs_bin_${bin(ABS_BINS, absPm)}`), 1);
    if (b >= 10) addAt(row, slotAt(idx, `c_drop_bin_${bin(DROP_BINS, dropPm)}`), 1);
  };
  for (const [i, c] of inst.cells) {
    const row = itemAt(v.cells, i);
    addAt(row, slotAt(C, 'a_enrolments'), c.a);
    addAt(row, slotAt(C, 'a_rated'), c.a);
    addAt(row, slotAt(C, 'b_starters'), c.b);
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
    facts(itemAt(v.groups, j), G, a, b, a ? Math.floor(absW / a) : 0, b ? Math.floor(dropW / b) : 0);
  });
}

/**
 * The other slots of blocks A and B of one institution's cell, filled from its population and
 * rates so that every constraint of `keyholder/disclosure/row-inequalities.ts` holds (whole
 * minutes, a 16-hour signal only with 960 unauthorized minutes, bins that add up, early
 * attendance at each bin's middle). Deterministic from the cell's own figures: the populations
 * and block C do not change, so disclosure control that reads only those decides as before.
 */
function fillSlots(row: number[], c: { a: number; b: number; absPm: number; dropPm: number }, seed: number): void {
  const C: Readonly<Record<string, number>> = CELL_SLOT_INDEX;
  const add = (s: string, x: number) => {
    const k = slotAt(C, s);
    row[k] = (row[k] ?? 0) + x;
  };
  const r = rng(seed);
  const { a, b } = c;
  const absPm = Math.min(900, c.absPm);
  const rated = a - Math.floor(a * 0.03 * r());
  const registered = rated * (4000 + Math.floor(2000 * r()));
  const absent = Math.floor((registered * absPm) / 1000);
  const absU = Math.floor(absent * (0.4 + 0.3 * r()));
  add('a_rated', rated - a); // a_rated was set to a by addInstitution
  add('a_min_planned', registered + rated * Math.floor(200 * r()));
  add('a_min_registered', registered);
  add('a_min_present', registered - absent);
  add('a_min_abs_auth', absent - absU);
  add('a_min_abs_unauth', absU);
  const obs = rated * (60 + Math.floor(40 * r()));
  add('a_obs_registered', obs);
  add('a_late', Math.floor(obs * 0.05 * r()));
  const signal = Math.min(rated, Math.floor(absU / 960), Math.floor((rated * absPm * 1.5) / 1000 + r()));
  add('a_signal16', signal);
  const known = a - Math.floor(a * 0.02 * r());
  const u18 = Math.floor(known * (0.3 + 0.4 * r()));
  add('a_age_known', known);
  add('a_enrolments_u18', u18);
  add('a_signal16_u18', Math.min(u18, Math.floor(signal * 0.6 + r())));
  // Absence shares: most in the low bins, more higher up the higher the institution's rate.
  const w = [0.3, 0.2, 0.15, 0.1, 0.08, 0.08, 0.06, 0.03].map((x, k) => (k === 0 ? x : x * (absPm / 100)));
  const tot = w.reduce((x, y) => x + y, 0);
  let left = rated;
  for (let k = 7; k >= 1; k--) {
    const h = Math.min(left, Math.floor((rated * getAt(w, k)) / tot + r()));
    add(`a_hist_${k}`, h);
    left -= h;
  }
  add('a_hist_0', left);
  if (b === 0) return;
  const dropouts = Math.min(b, Math.floor((b * c.dropPm) / 1000 + r()));
  const leftDiploma = Math.min(b - dropouts, Math.floor(b * 0.03 + r()));
  const retained = b - dropouts - leftDiploma;
  add('b_retained', retained);
  add('b_left_diploma', leftDiploma);
  const switched = Math.floor(retained * 0.08 + r());
  add('b_switched', Math.min(retained, switched));
  add('b_progressed', Math.min(retained - Math.min(retained, switched), Math.floor(retained * 0.04 + r())));
  const n = b - Math.floor(b * 0.05 * r());
  add('b_early_n', n);
  const mids = [600, 750, 850, 925, 975];
  const shares = [0.1, 0.15, 0.25, 0.2, 0.3];
  let rest = n;
  let dropRest = Math.min(dropouts, n);
  let sx = 0;
  let sx2 = 0;
  let sxy = 0;
  for (let k = 0; k < 5; k++) {
    const t = k === 4 ? rest : Math.min(rest, Math.floor(n * getAt(shares, k) + r()));
    rest -= t;
    const d = Math.min(t, dropRest, Math.ceil((dropouts * (5 - k)) / 15));
    dropRest -= d;
    add(`b_early_total_${k}`, t);
    add(`b_early_dropout_${k}`, d);
    const m = getAt(mids, k);
    sx += t * m;
    sx2 += t * m * m;
    sxy += d * m;
  }
  add('b_sum_x', sx);
  add('b_sum_x2', sx2);
  add('b_sum_xy', sxy);
}

/**
 * The sector sum (populations and block C) of the given institutions; with `fullSlots`, every
 * other slot of blocks A and B too ({@link fillSlots}).
 */
export function sectorOf(
  cb: Codebook,
  institutions: readonly SyntheticInstitution[],
  studiejaar = '2024-2025',
  options: { fullSlots?: boolean } = {},
): ContributionVector {
  const v = emptyVector(cb, studiejaar);
  institutions.forEach((inst, k) => {
    addInstitution(cb, v, inst);
    if (options.fullSlots) for (const [i, c] of inst.cells) fillSlots(itemAt(v.cells, i), c, 1_000_003 * (k + 1) + i);
  });
  return v;
}
