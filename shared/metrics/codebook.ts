import { createHash } from 'node:crypto';
import { compareBytes } from './byte-order.js';

/**
 * One programme of a round's codebook.
 * @see ../../../shared/spec/INPUT.md "Codebook"
 */
export interface CodebookEntry {
  crebo: string;
  name: string;
  niveau: 1 | 2 | 3 | 4;
  sectorkamerCode: string;
  sectorkamerName: string;
}

export type Leerweg = 'BOL' | 'BBL';
export const LEERWEGEN: readonly Leerweg[] = ['BOL', 'BBL'];

/** A round's codebook with the derived cell and group orders that fix slot positions. */
export interface Codebook {
  entries: readonly CodebookEntry[];
  byCrebo: ReadonlyMap<string, CodebookEntry>;
  /** Cell keys `crebo|niveau|leerweg`, codebook order, BOL first. */
  cellKeys: readonly string[];
  /** Rollup group keys in METRICS.md order. */
  groupKeys: readonly string[];
  /** For each group key, the indexes (into cellKeys) of its cells. */
  groupCells: ReadonlyMap<string, readonly number[]>;
}

export function cellKey(crebo: string, niveau: number, leerweg: Leerweg): string {
  return `${crebo}|${niveau}|${leerweg}`;
}

/**
 * Build the cell order and rollup groups of METRICS.md ("Group rows") from codebook entries.
 * Groups: total; niveau|1..4; leerweg|BOL, leerweg|BBL; sectorkamer|code (byte order);
 * sectorkamer_niveau|code|niveau for the combinations present.
 */
export function buildCodebook(entries: readonly CodebookEntry[]): Codebook {
  const byCrebo = new Map<string, CodebookEntry>();
  for (const e of entries) {
    if (byCrebo.has(e.crebo)) throw new Error(`crebo ${e.crebo} appears twice in the codebook`);
    byCrebo.set(e.crebo, e);
  }
  const cellKeys: string[] = [];
  const groups = new Map<string, number[]>();
  const add = (g: string, i: number) => {
    const list = groups.get(g);
    if (list) list.push(i);
    else groups.set(g, [i]);
  };
  const codes = new Set<string>();
  const codeNiveaus = new Set<string>();
  for (const e of entries) {
    for (const lw of LEERWEGEN) {
      const i = cellKeys.length;
      cellKeys.push(cellKey(e.crebo, e.niveau, lw));
      add('total', i);
      add(`niveau|${e.niveau}`, i);
      add(`leerweg|${lw}`, i);
      add(`sectorkamer|${e.sectorkamerCode}`, i);
      add(`sectorkamer_niveau|${e.sectorkamerCode}|${e.niveau}`, i);
    }
    codes.add(e.sectorkamerCode);
    codeNiveaus.add(`${e.sectorkamerCode}|${e.niveau}`);
  }
  const sortedCodes = [...codes].sort(compareBytes);
  const groupKeys: string[] = [
    'total',
    'niveau|1',
    'niveau|2',
    'niveau|3',
    'niveau|4',
    'leerweg|BOL',
    'leerweg|BBL',
    ...sortedCodes.map((c) => `sectorkamer|${c}`),
  ];
  for (const c of sortedCodes) {
    for (const n of [1, 2, 3, 4]) {
      if (codeNiveaus.has(`${c}|${n}`)) groupKeys.push(`sectorkamer_niveau|${c}|${n}`);
    }
  }
  const groupCells = new Map<string, readonly number[]>();
  for (const g of groupKeys) groupCells.set(g, groups.get(g) ?? []);
  return { entries, byCrebo, cellKeys, groupKeys, groupCells };
}

/**
 * Canonical digest of a codebook: SHA-256 over the entries as canonical JSON lines, so the
 * digest does not depend on the CSV's quoting, delimiter or encoding.
 */
export function codebookDigest(cb: Codebook): string {
  const h = createHash('sha256');
  for (const e of cb.entries) {
    h.update(`${JSON.stringify([e.crebo, e.name, e.niveau, e.sectorkamerCode, e.sectorkamerName])}\n`);
  }
  return h.digest('hex');
}
