/**
 * The comparison's series over studiejaren (issue 16, "Trends"): the institution as a whole
 * beside the sector without it, for every studiejaar in which this node took part (holds a
 * receipt) and whose release it fetched and verified, and the studiejaar of this comparison.
 * Own figures come from the vectors this node sent (kept in its database); nothing leaves.
 */
import type { Sums } from '../../shared/metrics/derived.js';
import { escapeHtml as esc } from '../../shared/pages/html.js';
import { TREND_FIGURES, trendSectionHtml, type TrendYear } from '../../shared/pages/trend.js';
import type { Comparison } from './comparison.js';

/** One studiejaar of the series, from that year's comparison. */
export interface ComparisonTrendPoint {
  year: TrendYear;
  own: Sums | null;
  withoutUs: Sums | null;
  ownIncluded: boolean;
}

/** The series point of a comparison: its `total` row (own and sector without us). */
export function trendPointOf(c: Comparison, metricSpec: string, codebookDigest: string): ComparisonTrendPoint {
  const total = c.rows.find((r) => r.key === 'total');
  return {
    year: {
      studiejaar: c.studiejaar,
      roundId: c.roundId,
      releaseVersion: c.releaseVersion,
      metricSpec,
      codebookDigest,
    },
    own: total?.own.sums ?? null,
    withoutUs: total?.sector.released ? total.withoutUs.sums : null,
    ownIncluded: c.ownIncluded,
  };
}

/** The series section of the comparison page (points oldest first). */
export async function comparisonTrendHtml(points: readonly ComparisonTrendPoint[], name: string): Promise<string> {
  const rounds = points.map((p) => `${p.year.studiejaar}: ronde ${p.year.roundId}, versie ${p.year.releaseVersion}`);
  const notIncluded = points.filter((p) => !p.ownIncluded).map((p) => p.year.studiejaar);
  return (
    `<p>${esc(name)} als geheel naast de sector zonder ${esc(name)}, per studiejaar waarin ${esc(name)} ` +
    'deelnam en waarvan deze node de ondertekende publicatie heeft opgehaald en gecontroleerd. ' +
    'De eigen cijfers komen uit de bijdragen die deze node toen verstuurde; ze staan alleen op ' +
    `deze computer.${
      notIncluded.length
        ? ` In ${esc(notIncluded.join(', '))} zit de eigen bijdrage niet in de sectorsom; daar is de sector zonder ${esc(name)} de hele sector.`
        : ''
    }</p>` +
    `
${await trendSectionHtml({
  years: points.map((p) => p.year),
  lines: [
    { name, sums: points.map((p) => p.own), missing: 'geen eigen cijfer' },
    { name: `Sector zonder ${name}`, sums: points.map((p) => p.withoutUs), missing: 'niet gepubliceerd' },
  ],
  figureIds: TREND_FIGURES,
  subject: `${name} en de sector zonder ${name}`,
  id: 'reeks-tabel',
})}
<p class="muted">Bronnen van de reeks: ${esc(rounds.join('; '))}.</p>`
  );
}
