/**
 * The page shell shared by the node's comparison, the coordinator's publication site and the
 * privacy officer's audit view: `lang="nl"`, one h1, a stylesheet with contrast >= 4.5:1
 * everywhere, tables that scroll inside their own box with the first column fixed (usable at
 * 390 px without page-wide horizontal scroll) and a print stylesheet. Static, no script.
 */
import { escapeHtml } from './html.js';

export const PAGE_CSS =
  `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1rem;` +
  `max-width:80rem;color:#1b1b1b;background:#fff;line-height:1.45;overflow-wrap:anywhere}
h1{font-size:1.6rem;line-height:1.2}h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px ` +
  `solid #c8c8c8}h3{font-size:1.1rem;margin-top:1.5rem}
a{color:#0a4ea3}a:visited{color:#5a2d91}
nav.crumbs{font-size:.95rem;margin-bottom:.5rem}
.scroll{overflow-x:auto;max-width:100%;margin:.5rem 0 1rem;border:1px solid #c8c8c8}
table{border-collapse:separate;border-spacing:0;font-size:.9rem;min-width:100%}
th,td{border-bottom:1px solid #d6d6d6;padding:.3rem .5rem;text-align:left;vertical-align:top;` +
  `background:#fff}
thead th{background:#eef2f6;font-weight:600}
tbody th[scope=row],thead th:first-child{position:sticky;left:0;z-index:1;background:#f7f7f7;` +
  `min-width:9rem;max-width:16rem}
thead th:first-child{background:#e6ebf0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
caption{text-align:left;font-weight:600;padding:.3rem .5rem;caption-side:top}
.muted{color:#4d4d4d}
.sup{color:#6b3e00;font-style:italic}
.none{color:#4d4d4d}
.flag{font-weight:600;white-space:nowrap}
.flag-hi{color:#8a1c1c}.flag-lo{color:#0b5d1e}.flag-in{color:#1b1b1b}
figure.chart{margin:1rem 0;max-width:100%}
figure.chart svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.9rem;color:#4d4d4d;max-width:45rem}
.charts{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start}
.charts.trend figure.chart{max-width:23rem;margin:.5rem 0}
.charts.trend h3{font-size:1rem;margin:0 0 .3rem}
dl.meta{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.2rem 1rem}dl.meta ` +
  `dt{font-weight:600}dl.meta dd{margin:0}
code{font-size:.85em;overflow-wrap:anywhere}
.note{background:#f4f6f8;border-left:4px solid #5b6b7b;padding:.5rem .8rem;max-width:50rem}
ul.downloads{padding-left:1.2rem}
footer{margin-top:2rem;font-size:.9rem;color:#4d4d4d}
@media (max-width:40rem){body{padding:.6rem}h1{font-size:1.3rem}dl.meta{grid-template-columns:1fr}dl.meta ` +
  `dd{margin-bottom:.4rem}}
@media print{body{max-width:none;padding:0;font-size:10pt}nav.crumbs,ul.downloads{display:none}.scroll{overflow:visible;` +
  `border:0}
tbody th[scope=row],thead th:first-child{position:static}a{color:#000;text-decoration:none}h2,` +
  `h3{break-after:avoid}figure.chart,tr{break-inside:avoid}}
`;

/**
 * A complete HTML document. `title` and `h1` are plain text (escaped here); `body` is HTML
 * the caller built with escaped text.
 */
export function htmlPage(o: { title: string; h1: string; body: string; crumbs?: string }): string {
  return `<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
${o.crumbs ? `<nav class="crumbs" aria-label="Kruimelpad">${o.crumbs}</nav>\n` : ''}<main>
<h1>${escapeHtml(o.h1)}</h1>
${o.body}
</main>
</body>
</html>
`;
}

/** A table inside its own horizontal scroll box (keyboard reachable, labelled by its caption). */
export function scrollTable(caption: string, thead: string, tbody: string, id?: string): string {
  const cid = id ? ` id="${escapeHtml(id)}"` : '';
  return (
    `<div class="scroll" tabindex="0" role="region" aria-label="${escapeHtml(caption)}"><table${cid}>` +
    `<caption>${escapeHtml(caption)}</caption><thead>${thead}</thead><tbody>${tbody}</tbody></table>` +
    '</div>'
  );
}
