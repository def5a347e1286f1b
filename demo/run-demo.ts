import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SbError } from '../shared/errors/sb-error.js';
import type { Thresholds } from '../schemas/manifest.js';
import { synthesize } from '../synth/run-synth.js';
import { DERIVED, formatShare } from '../shared/metrics/derived.js';
import { approveAsPrivacyOfficer } from './approve.js';
import { runMaskedPhases } from './masked-round.js';
import { currentSubmissions } from '../coordinator/index.js';
import {
  closeAndRelease,
  institutionsIn,
  nextLocalRound,
  savePublishedRelease,
  setupLocalRound,
  submitAll,
  writeAllBenchmarks,
  type InstitutionData,
  type LocalRound,
  type LocalRoundOptions,
} from './local-round.js';
import type { Release } from '../schemas/release.js';

export interface DemoOptions {
  out: string;
  institutions: number;
  students: number;
  seed: string;
  year: number;
  /**
   * Several studiejaren, oldest first (`--years 2022,2023,2024`): one round each on the same
   * coordinator, key holder and nodes, on generated data that drifts from year to year
   * (synth `drift`, seeded by `seed`). Absent: one round of `year` (no drift).
   */
  years?: number[];
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
  /** Every round, oldest first: its id, studiejaar, data folder and signed release (JSON file). */
  rounds: { roundId: string; year: number; data: string | null; release: string }[];
  release: string;
  benchmarkHtml: string;
  benchmarkCsv: string;
  comparisons: { id: string; html: string; csv: string }[];
  nodeHomes: { id: string; home: string }[];
  summary: string;
}

/** One studiejaar's institutions: read from `--data`, or generated under out/data (per year when `multi`). */
async function demoData(
  o: DemoOptions,
  out: string,
  multi: boolean,
  year: number,
  log: (line: string) => void,
): Promise<{ codebook: string; institutions: InstitutionData[]; dir: string | null }> {
  if (o.data) {
    const found = institutionsIn(o.data);
    log(`data: ${found.institutions.length} institutions from ${o.data}`);
    return { ...found, dir: null };
  }
  const dir = multi ? join(out, 'data', String(year)) : join(out, 'data');
  log(
    `generating ${o.institutions} synthetic institutions for studiejaar ${year} (about ${o.students} ` +
      `students each, seed ${o.seed}${multi ? ', with year-to-year drift' : ''})`,
  );
  const s = await synthesize({
    out: dir,
    institutions: o.institutions,
    students: o.students,
    seed: o.seed,
    year,
    messy: o.messy,
    progress: false,
    ...(multi ? { drift: o.seed } : {}),
  });
  return {
    codebook: s.codebook,
    dir,
    institutions: s.institutions.map((inst, i) => ({
      id: `inst-${i + 1}`,
      enrolments: inst.enrolments,
      attendance: inst.attendance,
    })),
  };
}

/** The closing summary the demo prints: the round, its protection, its cost, the sector figures and where the files are. */
function summaryLines(x: {
  o: DemoOptions;
  out: string;
  round: LocalRound;
  release: Release;
  result: Awaited<ReturnType<typeof closeAndRelease>>['result'];
  keyHolderMs: number;
  bytes: number;
  t0: number;
  years: number[];
  yearLines: string[];
  published: Awaited<ReturnType<typeof savePublishedRelease>>;
  codebook: string;
}): string[] {
  const { o, out, round, release, result, keyHolderMs, bytes, t0, years, yearLines, published, codebook } = x;
  const multi = years.length > 1;
  const total = release.rollups.total;
  return [
    '',
    `Round ${round.roundId}: ${release.institutions} institutions, ${Object.keys(release.cells).length} cells, release version ${release.release_version}`,
    round.masking
      ? `  masked (secure aggregation, t = ${round.masking.threshold} of ${round.nodes.length}): the ` +
        `key holder decrypted only the masked sum and removed the masks with the survivors' reveals` +
        `${o.drop ? `; ${o.drop} institution(s) dropped out after sharing keys and their masks were recovered` : ''}`
      : '  UNMASKED round: the key holder with k custodians could have decrypted one institution’s contribution',
    `  bytes received by the coordinator: ${bytes.toLocaleString('en-GB')}; time in the key holder: ` +
      `${(keyHolderMs / 1000).toFixed(1)} s; total ${((performance.now() - t0) / 1000).toFixed(1)} ` +
      's',
    `  blocks published: ${result.blocks.published}, suppressed: ${result.blocks.suppressed} (${
      Object.entries(result.blocks.byRule)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ') || 'none'
    })`,
    ...(multi
      ? [
          '',
          `  Series over ${years.length} studiejaren on one coordinator (sector total; the site and every comparison show them as a chart and a table):`,
          ...yearLines,
        ]
      : []),
    '',
    `  Sector (total), studiejaar ${release.studiejaar}`,
    ...DERIVED.map((d) => {
      const v = total ? d.compute(total.slots) : null;
      const text = d.unit === 'per100' ? (v === null ? '—' : (100 * v).toFixed(1).replace('.', ',')) : formatShare(v);
      return `  ${d.label.padEnd(42)} ${text.padStart(7)}`;
    }),
    '',
    `Signed release:      ${published.json}${multi ? ` (studiejaar ${release.studiejaar}; every round's in ${join(out, 'releases')})` : ''}`,
    `Publication site:    ${published.html} (${published.files.length} files: pages per sectorkamer, JSON, CSV, Excel CSV)`,
    `Comparisons:         ${join(out, 'nodes', '<institution>', 'benchmark', 'benchmark.html')} (and .csv, -excel.csv, .json)`,
    `Node homes:          ${join(out, 'nodes')} (database, audit log, outbox)`,
    `  try: node bin/sectorbench.js node audit verify --home ${join(out, 'nodes', round.nodes[0]?.id ?? 'inst-1')}`,
    `       node bin/sectorbench.js node audit show --home ${join(out, 'nodes', round.nodes[0]?.id ?? 'inst-1')}`,
    `       node bin/sectorbench.js node quality --home ${join(out, 'nodes', round.nodes[0]?.id ?? 'inst-1')} --codebook ${codebook} --year ${round.year}`,
    '',
  ];
}

/** Writes one studiejaar's signed release to out/releases and gives its entry and its line in the series summary. */
function saveYearRelease(
  o: DemoOptions,
  out: string,
  multi: boolean,
  roundId: string,
  year: number,
  release: Release,
): { round: DemoResult['rounds'][number]; line: string } {
  const releaseFile = join(out, 'releases', `${roundId}.json`);
  mkdirSync(join(out, 'releases'), { recursive: true });
  writeFileSync(releaseFile, `${JSON.stringify(release, null, 2)}\n`);
  const t = release.rollups.total?.slots;
  const fig = (id: string) => {
    const d = DERIVED.find((x) => x.id === id);
    return formatShare(t && d ? d.compute(t) : null);
  };
  return {
    round: {
      roundId,
      year,
      data: multi ? join(out, 'data', String(year)) : o.data ? null : join(out, 'data'),
      release: releaseFile,
    },
    line:
      `  ${release.studiejaar}  ${roundId.padEnd(14)} verzuim ${fig('absence_rate').padStart(6)} ` +
      ` uitval jaar 1 ${fig('dropout_share').padStart(6)}`,
  };
}

/** `--years` must be distinct and increasing, and runs on generated data only. */
/** The years are usable (distinct, increasing, generated data for a series); returns the first. */
function checkYears(o: DemoOptions, years: readonly number[]): number {
  const [first] = years;
  if (first === undefined) throw new SbError('SB_ERR_USAGE', '--years: give at least one studiejaar.');
  if (years.length > 1 && o.data)
    throw new SbError('SB_ERR_USAGE', '--years runs on generated data; leave out --data (or give one --year).');
  if (new Set(years).size !== years.length || years.some((y, i) => i > 0 && y <= (years[i - 1] ?? y)))
    throw new SbError('SB_ERR_USAGE', `--years ${years.join(',')}: give distinct studiejaren in increasing order.`);
  return first;
}

/**
 * Every node contributes to the round (masked: through the secure-aggregation phases, with
 * `o.drop` dropping out), then the round is closed and released; with the bytes the nodes sent.
 */
async function submitAndRelease(round: LocalRound, o: DemoOptions, masked: boolean) {
  const submitted = new Map<string, { wireBytes: number }>();
  if (masked) {
    await runMaskedPhases(round, { beforeSubmit: o.beforeSubmit ?? approveAsPrivacyOfficer, drop: o.drop ?? 0 });
    for (const s of currentSubmissions(round.coordinator.db, round.roundId))
      submitted.set(s.institutionId, { wireBytes: s.wireBytes });
  } else {
    for (const [id, r] of await submitAll(round, o.beforeSubmit ?? approveAsPrivacyOfficer)) submitted.set(id, r);
  }
  const released = await closeAndRelease(round);
  return { ...released, bytes: [...submitted.values()].reduce((a, r) => a + r.wireBytes, 0) };
}

/** Masked unless asked otherwise; a sector smaller than min_institutions cannot be masked (nor released). */
function runsMasked(o: DemoOptions, count: number, log: (line: string) => void): boolean {
  const minInstitutions = o.thresholds?.min_institutions ?? 3;
  const masked = !o.unmasked && count >= Math.max(2, minInstitutions);
  if (!masked && !o.unmasked)
    log(`${count} institution(s) is fewer than min_institutions ${minInstitutions}: the round runs unmasked`);
  return masked;
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
  const years = o.years ?? [o.year];
  rmSync(join(out, 'releases'), { recursive: true, force: true });
  const multi = years.length > 1;
  const firstYear = checkYears(o, years);
  const dataFor = (year: number) => demoData(o, out, multi, year, log);
  const first = await dataFor(firstYear);
  let { codebook } = first;
  const masked = runsMasked(o, first.institutions.length, log);
  let round = await setupLocalRound({
    out,
    codebook,
    institutions: first.institutions,
    year: firstYear,
    thresholds: o.thresholds,
    log,
    ...(masked ? { masking: {} } : {}),
  });
  try {
    const rounds: DemoResult['rounds'] = [];
    const yearLines: string[] = [];
    const saveYear = (year: number, release: Release) => {
      const saved = saveYearRelease(o, out, multi, round.roundId, year, release);
      rounds.push(saved.round);
      yearLines.push(saved.line);
    };
    let last = await submitAndRelease(round, o, masked);
    saveYear(firstYear, last.release);
    for (const year of years.slice(1)) {
      const d = await dataFor(year);
      codebook = d.codebook;
      round = await nextLocalRound(round, {
        year,
        codebook,
        institutions: d.institutions,
        thresholds: o.thresholds,
        ...(masked ? { masking: {} } : {}),
      });
      last = await submitAndRelease(round, o, masked);
      saveYear(year, last.release);
    }
    const { release, result, keyHolderMs, bytes } = last;
    const published = await savePublishedRelease(round);
    const comparisons = await writeAllBenchmarks(round);
    const lines = summaryLines({
      o,
      out,
      round,
      release,
      result,
      keyHolderMs,
      bytes,
      t0,
      years,
      yearLines,
      published,
      codebook,
    });
    const summary = lines.join('\n');
    return {
      out,
      rounds,
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
