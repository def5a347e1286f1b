/**
 * Issue 12's one exception, measured (docs/DECISIONS.md 97, 98): the zero rule `total_row`, the default (only
 * the total row's zeros are the sector's own fact; other zeros are protected by withholding
 * single slots of published rollups) beside the wider `published_rows` of DECISIONS 42/87, side
 * by side in one process, on the conformance sample and the 20 generated sectors of
 * `disclosure.ts` (400-crebo codebooks, every slot filled). Per sector and rule: the published
 * cell and rollup blocks (of those with institutions), the slots withheld singly, the pairs
 * only slot moves prove, LPs, and the wall and CPU time of suppression + audit.
 *
 *   node --import tsx bench/keyholder/zero-rule.ts [--only K]
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PASSES, discloseAndAudit, disclosureContext } from '../../keyholder/disclosure/index.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { type ContributionVector, type VectorJson, vectorFromJson } from '../../shared/metrics/vector.js';
import { sectorOf, syntheticCodebook, syntheticInstitutions } from './synthetic-sector.js';

const sampleDir = resolve(fileURLToPath(new URL('../../', import.meta.url)), '../shared/sample');
const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg >= 0 ? Number(process.argv[onlyArg + 1]) : null;
type Rule = 'published_rows' | 'total_row';

interface Tally {
  cells: [number, number];
  rollups: [number, number];
  withheld: number;
  slotProven: number;
  lps: number;
  wall: number;
  cpu: number;
  refused: boolean;
}

async function measure(codebook: Codebook, sector: ContributionVector, n: number, zeroRule: Rule): Promise<Tally> {
  const ctx = disclosureContext({ codebook, sector, thresholds: ThresholdsSchema.parse({}), contributions: n });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const out: Tally = {
    cells: [0, 0],
    rollups: [0, 0],
    withheld: 0,
    slotProven: 0,
    lps: 0,
    wall: 0,
    cpu: 0,
    refused: false,
  };
  try {
    const r = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES, zeroRule });
    for (const [rows, decisions, tally] of [
      [ctx.cells, r.decisions.cells, out.cells],
      [ctx.rollups, r.decisions.rollups, out.rollups],
    ] as const)
      for (const row of rows)
        for (const b of ['A', 'B'] as const) {
          if ((row.facts[b === 'A' ? 'c_contrib_a' : 'c_contrib_b'] ?? 0) === 0) continue;
          tally[1]++;
          if (decisions.get(row.key)?.[b].status === 'published') tally[0]++;
        }
    out.withheld = r.audit.pinning.withheldSlots;
    out.slotProven = r.audit.pinning.slotProven;
    out.lps = r.work.lpSolved;
  } catch {
    out.refused = true;
  }
  out.wall = performance.now() - t0;
  const c = process.cpuUsage(cpu0);
  out.cpu = (c.user + c.system) / 1000;
  return out;
}

const cell = (t: Tally) =>
  t.refused
    ? 'REFUSED | | | | |'
    : `${t.cells[0]} / ${t.cells[1]} | ${t.rollups[0]} / ${t.rollups[1]} | ${t.withheld} | ${t.lps} | ` +
      `${Math.round(t.wall)} / ${Math.round(t.cpu)} |`;

console.log(`${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}, node ${process.version}`);
console.log(
  '| sector | institutions | published_rows: cell blocks | rollup blocks | withheld slots | LPs | ms wall / CPU ' +
    '| total_row: cell blocks | rollup blocks | withheld slots | LPs | ms wall / CPU |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
const sums: Record<Rule, Tally[]> = { published_rows: [], total_row: [] };
async function row(name: string, codebook: Codebook, sector: ContributionVector, n: number) {
  const wide = await measure(codebook, sector, n, 'published_rows');
  const literal = await measure(codebook, sector, n, 'total_row');
  sums.published_rows.push(wide);
  sums.total_row.push(literal);
  console.log(`| ${name} | ${n} | ${cell(wide)} ${cell(literal)}`);
}
if (ONLY === null || ONLY === 0) {
  const cb = await readCodebookFile(join(sampleDir, 'codebook.csv'));
  const json = JSON.parse(readFileSync(join(sampleDir, 'expected', 'sector.json'), 'utf8')) as VectorJson;
  await row('sample', cb, vectorFromJson(cb, json), 3);
}
for (let k = 0; k < 20; k++) {
  if (ONLY !== null && ONLY !== k + 1) continue;
  const n = 5 + Math.round((k * 58) / 19);
  const scb = syntheticCodebook(400, 100 + k);
  await row(
    `synthetic ${k + 1}`,
    scb,
    sectorOf(scb, syntheticInstitutions(scb, n, 200 + k), '2024-2025', { fullSlots: true }),
    n,
  );
}
const total = (ts: Tally[]) => {
  const s = (f: (t: Tally) => number) => ts.reduce((a, t) => a + f(t), 0);
  return `${s((t) => t.cells[0])} / ${s((t) => t.cells[1])} | ${s((t) => t.rollups[0])} / ${s((t) => t.rollups[1])} | ${s((t) => t.withheld)} | ${s((t) => t.lps)} | ${Math.round(s((t) => t.wall))} / ${Math.round(s((t) => t.cpu))} |`;
};
console.log(`| all | | ${total(sums.published_rows)} ${total(sums.total_row)}`);
console.log(
  `refused: published_rows ${sums.published_rows.filter((t) => t.refused).length}, total_row ${sums.total_row.filter((t) => t.refused).length}`,
);
