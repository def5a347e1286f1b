import { join, resolve } from 'node:path';
import type { Thresholds } from '../schemas/manifest.js';
import { synthesize } from '../synth/run-synth.js';
import { DERIVED, formatShare } from '../shared/metrics/derived.js';
import { approveAsPrivacyOfficer } from './approve.js';
import { runMaskedPhases } from './masked-round.js';
import { currentSubmissions } from '../coordinator/index.js';
import {
  closeAndRelease,
  institutionsIn,
  savePublishedRelease,
  setupLocalRound,
  submitAll,
  writeAllBenchmarks,
  type InstitutionData,
  type LocalRoundOptions,
} from './local-round.js';

export interface DemoOptions {
  out: string;
  institutions: number;
  students: number;
  seed: string;
  year: number;
  /** A folder laid out like ../shared/sample instead of generated data. */
  data?: string;
  messy?: boolean;
  thresholds?: Partial<Thresholds>;
  beforeSubmit?: LocalRoundOptions['beforeSubmit'];
  /** Institutions that drop out after sharing their keys (secure-aggregation recovery). */
  drop?: number;
  /** Run an unmasked round (the key holder with k custodians could then decrypt one institution's contribution). */
  unmasked?: boolean;
  log?: (line: string) => void;
}

export interface DemoResult {
  out: string;
  release: string;
  benchmarkHtml: string;
  benchmarkCsv: string;
  comparisons: { id: string; html: string; csv: string }[];
  nodeHomes: { id: string; home: string }[];
  summary: string;
}

/**
 * The main job (`npm start`): a complete round on this machine. Synthetic institutions (or
 * `--data`), a key holder and a coordinator on loopback, every node over real HTTP, close,
 * release, publish, and each institution's comparison.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const out = resolve(o.out);
  const t0 = performance.now();
  let codebook: string;
  let institutions: InstitutionData[];
  if (o.data) {
    ({ codebook, institutions } = institutionsIn(o.data));
    log(`data: ${institutions.length} institutions from ${o.data}`);
  } else {
    log(`generating ${o.institutions} synthetic institutions (about ${o.students} students each, seed ${o.seed})`);
    const s = await synthesize({
      out: join(out, 'data'),
      institutions: o.institutions,
      students: o.students,
      seed: o.seed,
      year: o.year,
      messy: o.messy,
      progress: false,
    });
    codebook = s.codebook;
    institutions = s.institutions.map((inst, i) => ({
      id: `inst-${i + 1}`,
      enrolments: inst.enrolments,
      attendance: inst.attendance,
    }));
  }
  // Masked unless asked otherwise; a sector smaller than min_institutions cannot be masked (nor released).
  const minInstitutions = o.thresholds?.min_institutions ?? 3;
  const masked = !o.unmasked && institutions.length >= Math.max(2, minInstitutions);
  if (!masked && !o.unmasked)
    log(
      `${institutions.length} institution(s) is fewer than min_institutions ${minInstitutions}: the round runs unmasked`,
    );
  const round = await setupLocalRound({
    out,
    codebook,
    institutions,
    year: o.year,
    thresholds: o.thresholds,
    log,
    ...(masked ? { masking: {} } : {}),
  });
  try {
    const submitted = new Map<string, { wireBytes: number }>();
    if (masked) {
      await runMaskedPhases(round, { beforeSubmit: o.beforeSubmit ?? approveAsPrivacyOfficer, drop: o.drop ?? 0 });
      for (const s of currentSubmissions(round.coordinator.db, round.roundId))
        submitted.set(s.institutionId, { wireBytes: s.wireBytes });
    } else {
      for (const [id, r] of await submitAll(round, o.beforeSubmit ?? approveAsPrivacyOfficer)) submitted.set(id, r);
    }
    const { release, result, keyHolderMs } = await closeAndRelease(round);
    const published = await savePublishedRelease(round);
    const comparisons = await writeAllBenchmarks(round);
    const bytes = [...submitted.values()].reduce((a, r) => a + r.wireBytes, 0);
    const total = release.rollups.total;
    const lines = [
      '',
      `Round ${round.roundId}: ${release.institutions} institutions, ${Object.keys(release.cells).length} cells, release version ${release.release_version}`,
      round.masking
        ? `  masked (secure aggregation, t = ${round.masking.threshold} of ${round.nodes.length}): the key holder decrypted only the masked sum and removed the masks with the survivors' reveals${o.drop ? `; ${o.drop} institution(s) dropped out after sharing keys and their masks were recovered` : ''}`
        : '  UNMASKED round: the key holder with k custodians could have decrypted one institution’s contribution',
      `  bytes received by the coordinator: ${bytes.toLocaleString('en-GB')}; time in the key holder: ${(keyHolderMs / 1000).toFixed(1)} s; total ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      `  blocks published: ${result.blocks.published}, suppressed: ${result.blocks.suppressed} (${
        Object.entries(result.blocks.byRule)
          .map(([r, n]) => `${r} ${n}`)
          .join(', ') || 'none'
      })`,
      '',
      '  Sector (total)                           ',
      ...DERIVED.map((d) => {
        const v = total ? d.compute(total.slots) : null;
        const text = d.unit === 'per100' ? (v === null ? '—' : (100 * v).toFixed(1).replace('.', ',')) : formatShare(v);
        return `  ${d.label.padEnd(42)} ${text.padStart(7)}`;
      }),
      '',
      `Signed release:      ${published.json}`,
      `Publication site:    ${published.html} (${published.files.length} files: pages per sectorkamer, JSON, CSV, Excel CSV)`,
      `Comparisons:         ${join(out, 'nodes', '<institution>', 'benchmark', 'benchmark.html')} (and .csv, -excel.csv, .json)`,
      `Node homes:          ${join(out, 'nodes')} (database, audit log, outbox)`,
      `  try: node bin/sectorbench.js node audit verify --home ${join(out, 'nodes', round.nodes[0]?.id ?? 'inst-1')}`,
      `       node bin/sectorbench.js node audit show --home ${join(out, 'nodes', round.nodes[0]?.id ?? 'inst-1')}`,
      `       node bin/sectorbench.js node quality --home ${join(out, 'nodes', round.nodes[0]?.id ?? 'inst-1')} --codebook ${codebook} --year ${o.year}`,
      '',
    ];
    const summary = lines.join('\n');
    return {
      out,
      release: published.json,
      benchmarkHtml: published.html,
      benchmarkCsv: published.csv,
      comparisons: [...comparisons.entries()].map(([id, p]) => ({ id, ...p })),
      nodeHomes: round.nodes.map((n) => ({ id: n.id, home: n.home })),
      summary,
    };
  } finally {
    await round.stop();
  }
}
