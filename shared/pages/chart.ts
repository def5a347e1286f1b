/**
 * Server-side charts: a Vega-Lite specification compiled with vega-lite and rendered by vega's
 * headless SVG renderer into a static `<svg>` for the page. No chart geometry is written by
 * hand and the page needs no script (works offline and in an archive).
 *
 * @see https://vega.github.io/vega/docs/api/view/#view_toSVG
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { escapeHtml } from './html.js';

/** Dutch number locale for axis labels (decimal comma, thousands point). */
const NL_LOCALE = {
  number: { decimal: ',', thousands: '.', grouping: [3], currency: ['€ ', ''] as [string, string] },
};

/** Shared look: the page's font, dark text (contrast >= 4.5:1 on white), no chart border. */
const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", sans-serif',
  view: { stroke: null },
  axis: { labelColor: '#1b1b1b', titleColor: '#1b1b1b', labelFontSize: 12, titleFontSize: 12, gridColor: '#e3e3e3' },
  legend: { labelColor: '#1b1b1b', titleColor: '#1b1b1b', labelFontSize: 12, titleFontSize: 12, orient: 'bottom' },
  title: { color: '#1b1b1b' },
} as const;

let counter = 0;

/**
 * Render a Vega-Lite spec to an SVG string (async: vega runs its dataflow first). Element ids
 * inside the SVG (clip paths, gradients) get a unique prefix so several charts can share one
 * page. `description` becomes the SVG's accessible name; the caller shows the same figures in
 * words or a table beside it.
 * @throws whatever vega-lite or vega throw for an invalid spec (a programming error)
 */
export async function renderChartSvg(spec: TopLevelSpec & { description: string }): Promise<string> {
  const full = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const compiled = compile(full).spec as vega.Spec;
  compiled.config = { ...(compiled.config ?? {}), locale: NL_LOCALE };
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const p = `ch${++counter}-`;
    return svg
      .replace(/ id="([^"]+)"/g, ` id="${p}$1"`)
      .replace(/url\(#([^)]+)\)/g, `url(#${p}$1)`)
      .replace(/href="#([^"]+)"/g, `href="#${p}$1"`);
  } finally {
    view.finalize();
  }
}

/** A chart in a `<figure>` with a visible caption (the chart's meaning in words). */
export function figureHtml(svg: string, caption: string): string {
  return `<figure class="chart">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}
