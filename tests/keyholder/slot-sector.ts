/**
 * Test fixture: a sector sum built from institutions' cell rows given slot by slot (every
 * other slot 0), with block C (`c_contrib_*`, `c_sq_*`) of cell and group rows computed as
 * METRICS.md defines it. Used by the disclosure tests of issue 12.
 */
import { buildCodebook, type Codebook, type CodebookEntry } from '../../shared/metrics/codebook.js';
import { CELL_SLOT_INDEX, GROUP_SLOT_INDEX } from '../../shared/metrics/slots.js';
import { emptyVector, type ContributionVector } from '../../shared/metrics/vector.js';

/** Per institution: cell key (`crebo|niveau|leerweg`) -> slot values. */
export type InstitutionCells = Record<string, Record<string, Record<string, number>>>;

/** A codebook from (crebo, niveau, sectorkamer) triples. */
export function smallCodebook(list: readonly { crebo: string; niveau: number; sectorkamer: string }[]): Codebook {
  return buildCodebook(
    list.map(
      (c): CodebookEntry => ({
        crebo: c.crebo,
        name: `Opleiding ${c.crebo}`,
        niveau: c.niveau as 1 | 2 | 3 | 4,
        sectorkamerCode: c.sectorkamer,
        sectorkamerName: `Sectorkamer ${c.sectorkamer}`,
      }),
    ),
  );
}

/** The sector sum of the institutions' cell rows, with block C per cell and group row. */
export function slotSector(cb: Codebook, institutions: InstitutionCells): ContributionVector {
  const v = emptyVector(cb, '2024-2025');
  const C: Readonly<Record<string, number>> = CELL_SLOT_INDEX;
  const G: Readonly<Record<string, number>> = GROUP_SLOT_INDEX;
  const bump = (row: number[], k: number | undefined, x: number) => {
    const i = k as number;
    row[i] = (row[i] ?? 0) + x;
  };
  const index = new Map(cb.cellKeys.map((k, i) => [k, i]));
  for (const [name, cells] of Object.entries(institutions)) {
    const mine = new Map<number, Record<string, number>>();
    for (const [key, slots] of Object.entries(cells)) {
      const i = index.get(key);
      if (i === undefined) throw new Error(`${name}: no cell ${key} in the codebook`);
      mine.set(i, slots);
      const row = v.cells[i] as number[];
      for (const [s, x] of Object.entries(slots)) bump(row, C[s], x);
      const a = slots.a_enrolments ?? 0;
      const b = slots.b_starters ?? 0;
      if (a >= 1) bump(row, C.c_contrib_a, 1);
      if (b >= 1) bump(row, C.c_contrib_b, 1);
      bump(row, C.c_sq_a, a * a);
      bump(row, C.c_sq_b, b * b);
    }
    cb.groupKeys.forEach((g, j) => {
      let a = 0;
      let b = 0;
      for (const i of cb.groupCells.get(g) ?? []) {
        a += mine.get(i)?.a_enrolments ?? 0;
        b += mine.get(i)?.b_starters ?? 0;
      }
      const row = v.groups[j] as number[];
      if (a >= 1) bump(row, G.c_contrib_a, 1);
      if (b >= 1) bump(row, G.c_contrib_b, 1);
      bump(row, G.c_sq_a, a * a);
      bump(row, G.c_sq_b, b * b);
    });
  }
  return v;
}
