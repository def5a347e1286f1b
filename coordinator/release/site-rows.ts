/**
 * Table rows of the publication site: the published sector figures of a cell or group in
 * Dutch, with withheld blocks said in words (why) and programmes nobody offers said as such.
 * A published block may have single slots withheld (secondary disclosure control on rollups):
 * exactly the figures needing such a slot say "niet gepubliceerd" with that slot's reason.
 */
import type { Release, ReleaseRow } from '../../schemas/release.js';
import { DERIVED, type DerivedFigure } from '../../shared/metrics/derived.js';
import { BLOCK_POPULATION, blockRules, figureRule } from '../../shared/metrics/withheld.js';
import { nlDec1, nlInt, nlPct } from '../../shared/pages/format-nl.js';
import { escapeHtml as esc } from '../../shared/pages/html.js';
import { ruleSentence } from '../../shared/pages/rules-nl.js';

const FIG = new Map<string, DerivedFigure>(DERIVED.map((d) => [d.id, d]));

/** Columns of block A and B on the site (derived figure ids of shared/metrics/derived.ts). */
export const A_FIGS = ['absence_rate', 'absence_unauthorized_rate', 'chronic_absence_share', 'signal16_share'] as const;
export const B_FIGS = ['dropout_share', 'startersresultaat', 'progression_share'] as const;

/** The header cells after the first column (two header rows). */
export function figureHeader(first: string): string {
  const a = A_FIGS.map((id) => `<th scope="col" class="num">${esc(FIG.get(id)?.label ?? id)}</th>`).join('');
  const b = B_FIGS.map((id) => `<th scope="col" class="num">${esc(FIG.get(id)?.label ?? id)}</th>`).join('');
  return (
    `<tr><th scope="col" rowspan="2">${esc(first)}</th>` +
    `<th scope="colgroup" colspan="${A_FIGS.length + 2}">Verzuim</th>` +
    `<th scope="colgroup" colspan="${B_FIGS.length + 2}">Starters en uitval in jaar 1</th></tr>
<tr><th scope="col" class="num">Instellingen</th><th scope="col" class="num">Inschrijvingen</th>${a}` +
    `<th scope="col" class="num">Instellingen</th><th scope="col" class="num">Starters</th>${b}</tr>`
  );
}

/** Whether any participating institution offers this row (contributed to block A or B). */
export function offered(row: ReleaseRow | undefined): boolean {
  return !!row && (row.institutions.a > 0 || row.institutions.b > 0);
}

/**
 * The rule that withheld block A or B of a row as a whole, or null when the block is published:
 * only a null population slot withholds a block (single withheld slots leave it published).
 */
export function blockRule(row: ReleaseRow, block: 'A' | 'B'): string | null {
  return blockRules(row)[block] ?? null;
}

/** The derived figure of a site column; the columns are fixed ids of `DERIVED`, so a miss is a bug. */
function figure(id: string): DerivedFigure {
  const d = FIG.get(id);
  if (!d) throw new Error(`site column ${id} is not a derived figure of shared/metrics/derived.ts`);
  return d;
}

/** "niet gepubliceerd: <reason>" in the site's words for a withheld block, for one cell or a span. */
function withheldText(rule: string, t: Release['thresholds']): string {
  return `niet gepubliceerd: ${esc(ruleSentence(rule, t))}`;
}

/**
 * One figure's cell of a published block: its value, or "niet gepubliceerd" with the reason when
 * it needs a singly withheld slot, so a missing sum is never read as 0 or shown as a number.
 * `—` stays for a figure without a denominator (nothing to divide by, nothing withheld).
 */
function figureCell(id: string, row: ReleaseRow, t: Release['thresholds']): string {
  const d = figure(id);
  const rule = figureRule(row, id, d.block);
  if (rule) return `<td class="sup">${withheldText(rule, t)}</td>`;
  const v = d.compute(row.slots);
  return `<td class="num">${d.unit === 'per100' ? (v === null ? '—' : nlDec1(100 * v)) : nlPct(v)}</td>`;
}

function block(row: ReleaseRow, b: 'A' | 'B', t: Release['thresholds']): string {
  const figs = b === 'A' ? A_FIGS : B_FIGS;
  const n = b === 'A' ? row.institutions.a : row.institutions.b;
  const span = figs.length + 1;
  const inst = `<td class="num">${nlInt(n)}</td>`;
  if (n === 0) {
    return `${inst}<td colspan="${span}" class="none">${b === 'A' ? 'geen inschrijvingen' : 'geen starters'} bij de deelnemende instellingen</td>`;
  }
  const rule = blockRule(row, b);
  if (rule) return `${inst}<td colspan="${span}" class="sup">${withheldText(rule, t)}</td>`;
  const pop = row.slots[BLOCK_POPULATION[b]] ?? null;
  return `${inst}<td class="num">${nlInt(pop)}</td>${figs.map((id) => figureCell(id, row, t)).join('')}`;
}

/** One table row: a name cell (already HTML) and the figures of both blocks. */
export function figureRow(nameHtml: string, row: ReleaseRow, t: Release['thresholds'], id?: string): string {
  const idAttr = id ? ` id="${esc(id)}"` : '';
  return `<tr${idAttr}><th scope="row">${nameHtml}</th>${block(row, 'A', t)}${block(row, 'B', t)}</tr>`;
}
