/**
 * How wide a suppressed population's interval can be at most, whatever else is published or
 * suppressed: the institution counts of every row are always published (each institution in a
 * row brings at least one student), and a `min_population` suppression says the row is below
 * the threshold. The audit caps its required width at this (docs/DISCLOSURE.md, "Audit" (b)):
 * no suppression pattern could give more.
 *
 * The bound is computed from a subset of those facts (one relation at a time), so it is never
 * below the exact width they leave: the audit never asks less than the best any release could
 * give. No published value enters.
 */

/** One flat relation: rollup entry `total` = the sum of its cells. */
export interface FlatRelation {
  total: number;
  members: readonly number[];
}

/** Upper bounds on the width institution counts and primary rules leave, per entry of one block. */
export class DesignBounds {
  private readonly sumInst: number[];
  private cellSets: Set<number>[] | null = null;

  /**
   * @param cells number of cell entries (rollups follow)
   * @param flat the flat relations, one per rollup in entry order
   * @param groupsOf per cell, the rollup entries containing it
   * @param institutions published institution count of an entry (0: known zero)
   * @param ruleUpper what an entry's own rule says about its maximum (`min_population`: threshold − 1; otherwise Infinity; 0 for a known zero)
   */
  constructor(
    private readonly cells: number,
    private readonly flat: readonly FlatRelation[],
    private readonly groupsOf: readonly (readonly number[])[],
    private readonly institutions: (e: number) => number,
    private readonly ruleUpper: (e: number) => number,
  ) {
    this.sumInst = flat.map((r) => r.members.reduce((a, m) => a + institutions(m), 0));
  }

  private sets(): Set<number>[] {
    this.cellSets ??= this.flat.map((r) => new Set(r.members));
    return this.cellSets;
  }

  /** An upper bound on the width of entry e's interval given its own bounds `[lo, hi]`. */
  width(e: number, lo: number, hi: number): number {
    let loD = lo;
    let hiD = hi;
    if (e < this.cells) {
      for (const g of this.groupsOf[e] as readonly number[]) {
        const ug = this.ruleUpper(g);
        if (Number.isFinite(ug))
          hiD = Math.min(hiD, ug - ((this.sumInst[g - this.cells] as number) - this.institutions(e)));
      }
    } else {
      const j = e - this.cells;
      const mine = this.flat[j] as FlatRelation;
      loD = Math.max(loD, this.sumInst[j] as number);
      hiD = Math.min(
        hiD,
        mine.members.reduce((a, c) => a + this.ruleUpper(c), 0),
      );
      const sets = this.sets();
      this.flat.forEach((g, k) => {
        if (k === j) return;
        const ug = this.ruleUpper(g.total);
        if (!Number.isFinite(ug) || g.members.length < mine.members.length) return;
        const s = sets[k] as Set<number>;
        if (mine.members.every((c) => s.has(c)))
          hiD = Math.min(hiD, ug - ((this.sumInst[k] as number) - (this.sumInst[j] as number)));
      });
    }
    return Math.max(0, hiD - loD);
  }
}
