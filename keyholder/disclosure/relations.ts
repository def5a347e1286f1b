import type { Codebook } from '../../shared/metrics/codebook.js';

/**
 * One additive relation of the release table: `total = sum of members`, over entries of a
 * block table (cells are entries `0 .. cells-1` in codebook order, rollup groups follow in
 * codebook group order).
 */
export interface Relation {
  /** Human-readable name, e.g. `sectorkamer|HAN = sum of sectorkamer_niveau|HAN|*`. */
  name: string;
  total: number;
  members: readonly number[];
}

/**
 * The hierarchical relations between cells and the rollups of METRICS.md ("Derived figures",
 * blocks A and B are additive over cells): sectorkamer x niveau = its cells; leerweg = its
 * cells; sectorkamer = its sectorkamer x niveau groups; niveau = its sectorkamer x niveau
 * groups; total = the niveaus = the leerwegen = the sectorkamers. They span the same space as
 * "every rollup = the sum of its cells" and are what secondary suppression walks; the audit
 * builds the flat form itself.
 */
export function hierarchicalRelations(codebook: Codebook): Relation[] {
  const nc = codebook.cellKeys.length;
  const idx = new Map(codebook.groupKeys.map((g, j) => [g, nc + j]));
  const cellsOf = (g: string) => [...(codebook.groupCells.get(g) ?? [])];
  const byPrefix = (prefix: string) => codebook.groupKeys.filter((g) => g.startsWith(prefix));
  const rel: Relation[] = [];
  const add = (g: string, members: number[], name: string) => rel.push({ name, total: idx.get(g) as number, members });
  for (const g of codebook.groupKeys) {
    const [kind, a, b] = g.split('|') as [string, string, string | undefined];
    if (kind === 'sectorkamer_niveau' || kind === 'leerweg') add(g, cellsOf(g), `${g} = sum of its cells`);
    else if (kind === 'sectorkamer')
      add(
        g,
        byPrefix(`sectorkamer_niveau|${a}|`).map((x) => idx.get(x) as number),
        `${g} = sum of sectorkamer_niveau|${a}|*`,
      );
    else if (kind === 'niveau')
      add(
        g,
        codebook.groupKeys
          .filter((x) => x.startsWith('sectorkamer_niveau|') && x.split('|')[2] === a)
          .map((x) => idx.get(x) as number),
        `${g} = sum of sectorkamer_niveau|*|${a}`,
      );
    void b;
  }
  if (idx.has('total')) {
    add(
      'total',
      byPrefix('niveau|').map((x) => idx.get(x) as number),
      'total = sum of niveau|*',
    );
    add(
      'total',
      byPrefix('leerweg|').map((x) => idx.get(x) as number),
      'total = sum of leerweg|*',
    );
    add(
      'total',
      byPrefix('sectorkamer|').map((x) => idx.get(x) as number),
      'total = sum of sectorkamer|*',
    );
  }
  return rel;
}

/** For each entry, the indexes of the relations it appears in (as total or member). */
export function relationsByEntry(relations: readonly Relation[], entries: number): number[][] {
  const out: number[][] = Array.from({ length: entries }, () => []);
  relations.forEach((r, k) => {
    (out[r.total] as number[]).push(k);
    for (const m of r.members) (out[m] as number[]).push(k);
  });
  return out;
}
