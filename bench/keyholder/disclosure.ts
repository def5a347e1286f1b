/**
 * Benchmark and measurement of disclosure control (issues 5 and 12; synthetic sectors with every
 * slot filled, `sectorOf(..., { fullSlots: true })`):
 * 1. the three sample institutions and 20 generated sectors of 5 to 63 institutions
 *    (bench/keyholder/synthetic-sector.ts, 400-crebo codebooks): audit verdict, published share of
 *    the cells that pass the primary rules, cell blocks suppressed per rule;
 * 2. suppression + audit for a 63-institution release of a 1,200-crebo codebook (median of runs);
 * 3. real-data sectors: synthetic institutions through the node (synth → import → vector,
 *    bench/keyholder/node-sector.ts), by default 6 × 150 students / 60 crebos, 20 × 150 / 300 and
 *    63 × 150 / 1,200 (the lead's round): suppression + audit with exchange certificates, and
 *    with LPs only (the method before them) for comparison. `--no-real` skips this part.
 *
 *   node --import tsx bench/keyholder/disclosure.ts [--runs 5] [--no-real] [--real-only] [--no-lp-only]
 *
 * `--real-only` skips parts 1 and 2; `--no-lp-only` skips the LP-only comparison of part 3.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { vectorFromJson, type VectorJson } from '../../shared/metrics/vector.js';
import { measureSector, type SectorMeasure } from './disclosure-sectors.js';
import { nodeSector } from './node-sector.js';
import { sectorOf, syntheticCodebook, syntheticInstitutions } from './synthetic-sector.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 5;
const sampleDir = resolve(fileURLToPath(new URL('../../', import.meta.url)), '../shared/sample');

const pct = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
const CELL_RULES = ['min_institutions', 'min_population', 'dominance', 'secondary'];
const ruleShares = (m: SectorMeasure) => CELL_RULES.map((r) => pct(m.cellRules[r] ?? 0, m.cellBlocks)).join(' | ');
const line = (name: string, m: SectorMeasure) =>
  `| ${name} | ${m.institutions} | ${m.cellBlocks} | ${m.primaryPassing} | ` +
  `${pct(m.published, m.primaryPassing)} | ${ruleShares(m)} ` +
  `| ${m.distributions.published} | ${m.lpSolved} | ${m.pinningCounts} | ` +
  `${pct(m.pinning.contributor, m.pinningCounts)} | ` +
  `${pct(m.pinning.perCountOnly, m.pinningCounts)} | ${m.pinning.exemptZero} | ` +
  `${m.auditPassed ? 'passed' : 'REFUSED'} | ${Math.round(m.ms)} |`;

const realOnly = process.argv.includes('--real-only');
if (!realOnly) {
  console.log(
    '| sector | institutions | cell blocks | pass primary | published of those | ' +
      'min_institutions | min_population | dominance | secondary | distributions shown | LPs | ' +
      'counts checked | proven against a contributor (whole model) | proven count by count only ' +
      '| exempt (group zero) | audit | ms |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const cb = await readCodebookFile(join(sampleDir, 'codebook.csv'));
  const sample = vectorFromJson(
    cb,
    JSON.parse(readFileSync(join(sampleDir, 'expected', 'sector.json'), 'utf8')) as VectorJson,
  );
  console.log(line('sample', await measureSector(cb, sample, 3)));
  const all: SectorMeasure[] = [];
  for (let k = 0; k < 20; k++) {
    const n = 5 + Math.round((k * 58) / 19);
    const scb = syntheticCodebook(400, 100 + k);
    const m = await measureSector(
      scb,
      sectorOf(scb, syntheticInstitutions(scb, n, 200 + k), '2024-2025', { fullSlots: true }),
      n,
    );
    all.push(m);
    console.log(line(`synthetic ${k + 1}`, m));
  }
  const sum = (f: (m: SectorMeasure) => number) => all.reduce((a, m) => a + f(m), 0);
  console.log(
    `| 20 synthetic | ${sum((m) => m.institutions)} | ${sum((m) => m.cellBlocks)} | ${sum((m) => m.primaryPassing)} | ${pct(
      sum((m) => m.published),
      sum((m) => m.primaryPassing),
    )} (min ${pct(Math.min(...all.map((m) => m.published / m.primaryPassing)) * 100, 100)}) | ${[
      'min_institutions',
      'min_population',
      'dominance',
      'secondary',
    ]
      .map((r) =>
        pct(
          sum((m) => m.cellRules[r] ?? 0),
          sum((m) => m.cellBlocks),
        ),
      )
      .join(
        ' | ',
      )} | ${sum((m) => m.distributions.published)} | ${sum((m) => m.lpSolved)} | ${sum((m) => m.pinningCounts)} | ${pct(
      sum((m) => m.pinning.contributor),
      sum((m) => m.pinningCounts),
    )} | ${pct(
      sum((m) => m.pinning.perCountOnly),
      sum((m) => m.pinningCounts),
    )} | ${sum((m) => m.pinning.exemptZero)} | ${all.every((m) => m.auditPassed) ? 'all passed' : 'REFUSED'} | ${Math.round(sum((m) => m.ms))} |`,
  );

  const big = syntheticCodebook(1200, 7);
  const bigSector = sectorOf(big, syntheticInstitutions(big, 63, 9), '2024-2025', { fullSlots: true });
  const times: number[] = [];
  let last: SectorMeasure | null = null;
  for (let r = 0; r < RUNS; r++) {
    last = await measureSector(big, bigSector, 63);
    times.push(last.ms);
  }
  times.sort((a, b) => a - b);
  console.log(
    `\n63 institutions, 1,200 crebos (${big.cellKeys.length} cells, ${big.groupKeys.length} ` +
      'rollups): suppression + audit median ' +
      `${Math.round(times[Math.floor(times.length / 2)] as number)} ms (min ` +
      `${Math.round(times[0] as number)}, max ${Math.round(times[times.length - 1] as number)}) ` +
      `over ${RUNS} runs (first includes loading GLPK); ${last!.lpSolved} LPs; counts checked ` +
      `${last!.pinningCounts} (contributor ` +
      `${pct(last!.pinning.contributor, last!.pinningCounts)}, count by count only ` +
      `${pct(last!.pinning.perCountOnly, last!.pinningCounts)}, exempt ` +
      `${last!.pinning.exemptZero}); published ${pct(last!.published, last!.primaryPassing)} of ` +
      `primary-passing cell blocks; rules ${JSON.stringify(last!.rules)}`,
  );
}

if (!process.argv.includes('--no-real')) {
  console.log('\nReal-data sectors (synth → node import → node vector → sum); suppression + audit, median of runs:\n');
  console.log(
    '| institutions × students | crebos | cells | pass primary | published of those | rules ' +
      '(all blocks) | intervals | certified exactly | LPs | counts: contributor / count by count ' +
      'only / exempt | audit | ms | LP only: LPs | LP only: ms |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const work = mkdtempSync(join(tmpdir(), 'sb-bench-disclosure-'));
  try {
    const configs = (
      [
        [6, 150, 60],
        [20, 150, 300],
        [63, 150, 1200],
      ] as const
    ).filter(([n]) => !realOnly || n === 63);
    for (const [k, [n, students, crebos]] of configs.entries()) {
      const s = await nodeSector({
        work: join(work, String(k)),
        institutions: n,
        students,
        crebos,
        seed: `bench-disclosure-${k}`,
      });
      const median = async (exchange: boolean) => {
        const runs: SectorMeasure[] = [];
        for (let r = 0; r < (exchange ? RUNS : Math.min(RUNS, 2)); r++)
          runs.push(await measureSector(s.codebook, s.sector, n, undefined, { exchange }));
        runs.sort((a, b) => a.ms - b.ms);
        return runs[Math.floor((runs.length - 1) / 2)] as SectorMeasure;
      };
      const m = await median(true);
      const lp = process.argv.includes('--no-lp-only') ? m : await median(false);
      console.log(
        `| ${n} × ${students} | ${crebos} | ${s.codebook.cellKeys.length} | ${m.primaryPassing} | ` +
          `${pct(m.published, m.primaryPassing)} | ${JSON.stringify(m.rules)} | ` +
          `${m.intervalsChecked} | ${m.exchangeCertified} | ${m.lpSolved} | ` +
          `${pct(m.pinning.contributor, m.pinningCounts)} / ` +
          `${pct(m.pinning.perCountOnly, m.pinningCounts)} / ${m.pinning.exemptZero} | ` +
          `${m.auditPassed ? 'passed' : 'REFUSED'} | ${Math.round(m.ms)} | ${lp.lpSolved} | ` +
          `${Math.round(lp.ms)} |`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
