/**
 * Suppression + audit of one sector with CPU time beside wall time (the machine is shared, so
 * wall time alone says little): `discloseAndAudit` with the default passes, `--runs` times in
 * one process, each timed with `performance.now()` and `process.cpuUsage()` (user + system of
 * the whole process, so the SEAL-free disclosure step only). Prints the published share of
 * primary-passing cell blocks, the audits run and the LPs solved over all of them.
 *
 * Sectors: `--real` (default) the lead's real-data round, 63 institutions of about 150 students
 * through the node (synth → import → vector, `node-sector.ts`) on a 1,200-crebo codebook;
 * `--synthetic` the generator's 63 × 1,200 of `disclosure.ts`. `--cache DIR` keeps the real
 * sector's codebook and sum in DIR (`codebook.csv`, `sector.json`) so that later runs skip the
 * node path (about a minute); profile with `node --cpu-prof --import tsx ...`.
 *
 *   node --import tsx bench/keyholder/disclosure-cpu.ts [--runs 3] [--synthetic] [--cache /tmp/sb-real-63]
 *     [--zero-rule published_rows|total_row]
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { type ContributionVector, vectorFromJson, vectorToJson, type VectorJson } from '../../shared/metrics/vector.js';
import { measureSector } from './disclosure-sectors.js';
import { nodeSector } from './node-sector.js';
import { sectorOf, syntheticCodebook, syntheticInstitutions } from './synthetic-sector.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Number(arg('--runs') ?? 3);
const CACHE = arg('--cache');
const SYNTHETIC = process.argv.includes('--synthetic');
const CONTRIBUTOR = arg('--contributor') as 'enforce' | 'measure' | 'off' | undefined;
/** `--zero-rule published_rows` measures the wider rule of DECISIONS 42/87 (default: total_row, DECISIONS 98). */
const ZERO_RULE = arg('--zero-rule') as 'published_rows' | 'total_row' | undefined;

async function realSector(): Promise<{ codebook: Codebook; sector: ContributionVector }> {
  if (CACHE && existsSync(join(CACHE, 'sector.json'))) {
    const codebook = await readCodebookFile(join(CACHE, 'codebook.csv'));
    const json = JSON.parse(readFileSync(join(CACHE, 'sector.json'), 'utf8')) as VectorJson;
    return { codebook, sector: vectorFromJson(codebook, json) };
  }
  const work = mkdtempSync(join(tmpdir(), 'sb-bench-disclosure-cpu-'));
  try {
    const s = await nodeSector({ work, institutions: 63, students: 150, crebos: 1200, seed: 'bench-disclosure-2' });
    if (CACHE) {
      mkdirSync(CACHE, { recursive: true });
      copyFileSync(join(work, 'data', 'codebook.csv'), join(CACHE, 'codebook.csv'));
      writeFileSync(join(CACHE, 'sector.json'), JSON.stringify(vectorToJson(s.codebook, s.sector)));
    }
    return { codebook: s.codebook, sector: s.sector };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const { codebook, sector } = SYNTHETIC
  ? (() => {
      const big = syntheticCodebook(1200, 7);
      return {
        codebook: big,
        sector: sectorOf(big, syntheticInstitutions(big, 63, 9), '2024-2025', { fullSlots: true }),
      };
    })()
  : await realSector();

console.log(
  `${SYNTHETIC ? 'generator' : 'real-data (node path)'} sector, 63 institutions, ` +
    `${codebook.cellKeys.length} cells, ${codebook.groupKeys.length} rollups; ${cpus().length} ` +
    `CPUs, ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
);
for (let r = 0; r < RUNS; r++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const m = await measureSector(codebook, sector, 63, undefined, {
    ...(CONTRIBUTOR ? { contributor: CONTRIBUTOR } : {}),
    ...(ZERO_RULE ? { zeroRule: ZERO_RULE } : {}),
  });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `run ${r + 1}: wall ${Math.round(wall)} ms, CPU ` +
      `${Math.round((cpu.user + cpu.system) / 1000)} ms; published ${m.published} of ` +
      `${m.primaryPassing} primary-passing cell blocks ` +
      `(${((100 * m.published) / Math.max(1, m.primaryPassing)).toFixed(1)}%); audits ` +
      `${m.audits} (blocks audited ${m.blocksAudited}, reused unchanged ${m.blocksReused}); LPs ` +
      `${m.lpSolved} (final audit) / ${m.lpSolvedAll} (all audits); counts ${m.pinningCounts} ` +
      `(contributor ${m.pinning.contributor}, outsider ${m.pinning.outsider}, count by count ` +
      `only ${m.pinning.perCountOnly}; contributor count by count ` +
      `${m.pinning.contributorPerCount}, not proven against the contributor ` +
      `${m.pinning.contributorUnproven}, exempt for the contributor (a published rollup holds ` +
      `the count in single-institution blocks alone) ${m.pinning.contributorExempt}); rules ` +
      `${JSON.stringify(m.rules)}; audit ${m.auditPassed ? 'passed' : 'REFUSED'}`,
  );
}
