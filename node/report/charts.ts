/**
 * The comparison's charts as Vega-Lite specifications (rendered to static SVG by
 * shared/pages/chart.ts): a funnel plot per figure and the dropout per early-attendance band.
 */
import type { TopLevelSpec } from 'vega-lite';
import { EARLY_BANDS } from '../../shared/metrics/derived.js';
import { renderChartSvg } from '../../shared/pages/chart.js';
import type { Band, FigureComparison } from './comparison.js';
import { funnelGrid, funnelLimits } from './funnel.js';

const LIMIT_NAMES = { '95': '95%-grens', '998': '99,8%-grens' } as const;

/**
 * Funnel plot (Spiegelhalter 2005) of one figure: the 95 % and 99.8 % limits around the sector
 * without us for populations from 1 to beyond ours, the target as a horizontal line, and our
 * own rate at our population as a single point. Solid versus dashed lines tell the limits
 * apart, not colour alone.
 */
export async function funnelChartSvg(f: FigureComparison, ownName: string): Promise<string | null> {
  if (f.withoutUs === null || f.own === null || f.ownN === null || f.ownN < 1) return null;
  const scale = f.unit === 'per100' ? 100 : 1;
  const max = Math.max(f.ownN * 3, 30);
  const target = f.withoutUs;
  const values: { n: number; grens: string; kant: string; y: number }[] = [];
  for (const n of funnelGrid(max)) {
    const l = funnelLimits(n, target);
    if (!l) continue;
    values.push({ n, grens: LIMIT_NAMES['95'], kant: 'onder', y: l.lo95 * scale });
    values.push({ n, grens: LIMIT_NAMES['95'], kant: 'boven', y: l.hi95 * scale });
    values.push({ n, grens: LIMIT_NAMES['998'], kant: 'onder', y: l.lo998 * scale });
    values.push({ n, grens: LIMIT_NAMES['998'], kant: 'boven', y: l.hi998 * scale });
  }
  const yAxis = f.unit === 'share' ? { title: f.label, format: '.0%' } : { title: `${f.label}`, format: ',.1f' };
  const x = {
    field: 'n',
    type: 'quantitative' as const,
    scale: { type: 'log' as const, domain: [1, max] },
    axis: { title: 'Aantal studenten (populatie)', format: ',d', tickCount: 5 },
  };
  const spec: TopLevelSpec & { description: string } = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `Trechterdiagram ${f.label}: ${ownName} tegen de sector zonder ${ownName}`,
    width: 300,
    height: 200,
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
        encoding: {
          x,
          y: { field: 'y', type: 'quantitative', axis: yAxis, scale: { zero: true } },
          color: {
            field: 'grens',
            type: 'nominal',
            scale: { domain: [LIMIT_NAMES['95'], LIMIT_NAMES['998']], range: ['#3b4f66', '#6b2f2f'] },
            legend: { title: null },
          },
          strokeDash: {
            field: 'grens',
            type: 'nominal',
            scale: {
              domain: [LIMIT_NAMES['95'], LIMIT_NAMES['998']],
              range: [
                [1, 0],
                [6, 3],
              ],
            },
            legend: { title: null },
          },
          detail: { field: 'kant', type: 'nominal' },
        },
      },
      {
        data: { values: [{ y: target * scale, wat: 'sector zonder ons' }] },
        mark: { type: 'rule', color: '#1b1b1b', strokeWidth: 1 },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: [{ n: f.ownN, y: f.own * scale, wat: ownName }] },
        mark: { type: 'point', shape: 'diamond', size: 110, filled: true, color: '#b03a00', stroke: '#1b1b1b' },
        encoding: { x, y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
  return renderChartSvg(spec);
}

/**
 * Dropout share per early-attendance band (METRICS.md B7..B16): our own starters beside the
 * sector without us, as grouped bars with the series told apart by position and a legend.
 */
export async function earlyBandChartSvg(own: Band[], withoutUs: Band[], ownName: string): Promise<string | null> {
  const values: { band: string; reeks: string; y: number; order: number }[] = [];
  EARLY_BANDS.forEach((b, i) => {
    const o = own[i]?.rate;
    const w = withoutUs[i]?.rate;
    if (o !== null && o !== undefined) values.push({ band: b, reeks: ownName, y: o, order: 0 });
    if (w !== null && w !== undefined) values.push({ band: b, reeks: 'sector zonder ons', y: w, order: 1 });
  });
  if (values.length === 0) return null;
  const spec: TopLevelSpec & { description: string } = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `Uitval per klasse van aanwezigheid in de eerste zes lesweken: ${ownName} en de sector zonder ${ownName}`,
    data: { values },
    width: 320,
    height: 200,
    mark: { type: 'bar', stroke: '#1b1b1b', strokeWidth: 0.5 },
    encoding: {
      x: {
        field: 'band',
        type: 'ordinal',
        sort: [...EARLY_BANDS],
        axis: { title: 'Aanwezigheid in de eerste 6 lesweken', labelAngle: 0, labelLimit: 70 },
      },
      xOffset: { field: 'reeks', sort: [ownName, 'sector zonder ons'] },
      y: { field: 'y', type: 'quantitative', axis: { title: 'Uitval in jaar 1', format: '.0%' } },
      color: {
        field: 'reeks',
        type: 'nominal',
        sort: [ownName, 'sector zonder ons'],
        scale: { range: ['#b03a00', '#3b4f66'] },
        legend: { title: null },
      },
    },
  };
  return renderChartSvg(spec);
}
