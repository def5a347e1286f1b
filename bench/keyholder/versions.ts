/**
 * A re-release on the real-data path: version 1 of the first N − late institutions, version 2
 * of all N (late contributions only), each through `discloseAndAudit` with the default passes;
 * version 2 audited against version 1 (`earlierAsFacts`, as `keyholder release` does), so the
 * difference table (`keyholder/disclosure/version-table.ts`) runs. Prints wall and CPU time of
 * each, the outcome (signed or the audit's refusal, findings by kind), and the cost of the
 * version checks alone: the audit of version 2's final rows with and without version 1 as facts.
 * Machine shared with other agents: compare CPU times, not wall times.
 *
 *   node --import tsx bench/keyholder/versions.ts [--institutions 63] [--late 3] [--crebos 1200] [--cache DIR]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  auditRelease,
  DEFAULT_PASSES,
  DEFAULT_PROTECTION,
  discloseAndAudit,
  disclosureContext,
  renderReleaseRows,
  runDisclosure,
} from '../../keyholder/disclosure/index.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import type { Release } from '../../schemas/release.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import {
  addVectors,
  type ContributionVector,
  vectorFromJson,
  vectorToJson,
  type VectorJson,
} from '../../shared/metrics/vector.js';
import { nodeSector } from './node-sector.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const N = Number(arg('--institutions') ?? 63);
const LATE = Number(arg('--late') ?? 3);
const CREBOS = Number(arg('--crebos') ?? 1200);
const CACHE = arg('--cache');

async function vectors(): Promise<{ codebook: Codebook; vectors: ContributionVector[] }> {
  if (CACHE && existsSync(join(CACHE, 'vectors.json'))) {
    const codebook = await readCodebookFile(join(CACHE, 'codebook.csv'));
    const json = JSON.parse(readFileSync(join(CACHE, 'vectors.json'), 'utf8')) as VectorJson[];
    return { codebook, vectors: json.map((v) => vectorFromJson(codebook, v)) };
  }
  const work = mkdtempSync(join(tmpdir(), 'sb-bench-versions-'));
  try {
    const s = await nodeSector({ work, institutions: N, students: 150, crebos: CREBOS, seed: 'bench-versions-1' });
    if (CACHE) {
      mkdirSync(CACHE, { recursive: true });
      copyFileSync(join(work, 'data', 'codebook.csv'), join(CACHE, 'codebook.csv'));
      writeFileSync(join(CACHE, 'vectors.json'), JSON.stringify(s.vectors.map((v) => vectorToJson(s.codebook, v))));
    }
    return { codebook: s.codebook, vectors: s.vectors };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const timed = async <T>(f: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { value, wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
};
const ms = (x: number) => `${Math.round(x)} ms`;

const { codebook, vectors: all } = await vectors();
const thresholds = ThresholdsSchema.parse({});
const ctxOf = (vs: ContributionVector[]) =>
  disclosureContext({ codebook, sector: addVectors(codebook, vs), thresholds, contributions: vs.length });
const ctx1 = ctxOf(all.slice(0, N - LATE));
const ctx2 = ctxOf(all);

const one = await timed(() => discloseAndAudit(ctx1, { passes: DEFAULT_PASSES }));
console.log(
  `version 1 (${N - LATE} institutions): ${one.value.blocks.published} blocks published; wall ${ms(one.wall)}, CPU ${ms(one.cpu)}`,
);
const release1 = {
  release_version: 1,
  institutions: N - LATE,
  published_at: '2026-01-01T00:00:00Z',
  cells: one.value.cells,
  rollups: one.value.rollups,
} as unknown as Release;

let rows2 = renderReleaseRows(ctx2, runDisclosure(ctx2, DEFAULT_PASSES).decisions);
try {
  const two = await timed(() =>
    discloseAndAudit(ctx2, { passes: DEFAULT_PASSES, earlier: [release1], earlierAsFacts: true }),
  );
  rows2 = { cells: two.value.cells, rollups: two.value.rollups };
  console.log(
    `version 2 (+${LATE} late): signed; ${two.value.blocks.published} blocks published, ${two.value.work.audits} audits, ` +
      `${two.value.audit.differencesDerived} derived differences; wall ${ms(two.wall)}, CPU ${ms(two.cpu)}`,
  );
} catch (e) {
  if (!isSbError(e)) throw e;
  const findings = (e.details?.findings ?? []) as { kind: string }[];
  const kinds: Record<string, number> = {};
  for (const f of findings) kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
  console.log(`version 2 (+${LATE} late): refused (${e.code}), findings by kind ${JSON.stringify(kinds)}`);
}

const truth = new Map([...ctx2.cells, ...ctx2.rollups].map((r) => [`${r.kind}:${r.key}`, r.values]));
const auditOf = (earlierAsFacts: boolean) =>
  auditRelease({
    codebook,
    thresholds,
    ...rows2,
    trueRow: (_b, kind, key) => truth.get(`${kind}:${key}`) as Readonly<Record<string, number>>,
    protection: DEFAULT_PROTECTION,
    earlier: [release1],
    earlierAsFacts,
  });
for (const facts of [false, true, false, true]) {
  const a = await timed(() => auditOf(facts));
  console.log(
    `audit of version 2's rows, version 1 ${facts ? 'as facts + difference table' : 'published differences only'}: ` +
      `${a.value.findings.length} findings, ${a.value.differencesDerived} derived; wall ${ms(a.wall)}, CPU ${ms(a.cpu)}`,
  );
}
