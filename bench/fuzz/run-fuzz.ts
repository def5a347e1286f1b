/**
 * The import fuzz harness (issue 13): imports each mutant into a node home that holds the base
 * dataset and checks, per mutant:
 *  - no crash: the import resolves, or rejects with a coded SbError (anything else is a crash);
 *  - no partial import: after a refusal the stored dataset is still the one before it (same
 *    file digests and record counts);
 *  - every refusal names the file and a line (`file.csv:N` in the message, and in its problems);
 *  - no refusal echoes a student id, birth date or name of the base data, whole or in part;
 *  - every accepted mutant's vector equals the reference (bench/fuzz/reference.ts: csv-parse
 *    and the DuckDB rendering of METRICS.md) computed on the same mutant's records.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importDataset } from '../../node/import/import-dataset.js';
import { ImportRefusedError } from '../../node/import/problems.js';
import { loadDataset } from '../../node/store/dataset-store.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { computeNodeVector } from '../../node/vector/node-vector.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { type BaseDataset, baseDataset, mutant } from './csv-mutants.js';
import { referenceRuns, referenceVector } from './reference.js';

export interface FuzzFailure {
  i: number;
  kind: string;
  what: 'crash' | 'partial-import' | 'no-file-line' | 'echo' | 'vector-differs';
  detail: string;
}

export interface FuzzResult {
  mutants: number;
  accepted: number;
  refused: number;
  /** Refusals by error code. */
  codes: Record<string, number>;
  failures: FuzzFailure[];
  referenceRuns: number;
  ms: number;
}

/** Read sizes in turn: small ones put chunk boundaries inside characters, quotes and line ends. */
const CHUNK_SIZES = [13, 64, 257, 4096, 1 << 20];

/** Substrings (5 or more characters) of the secrets that a message must never contain. */
function secretFragments(base: BaseDataset): string[] {
  const out = new Set<string>();
  for (const s of [...base.secrets.ids, ...base.secrets.birthDates, ...base.secrets.names]) {
    for (let i = 0; i + 5 <= s.length; i++) out.add(s.slice(i, i + 5));
  }
  return [...out];
}

function datasetKey(home: string): string {
  const db = openNodeDb(home, { mode: 'existing' });
  try {
    const m = loadDataset(db)?.meta;
    return m ? `${m.enrolmentsSha256}/${m.attendanceSha256}/${m.enrolmentsRecords}/${m.attendanceRecords}` : 'none';
  } finally {
    db.close();
  }
}

/**
 * Run `count` mutants from `seed`, starting at mutant `from`, in `dir` (a scratch folder).
 * `onProgress` sees the number done so far.
 */
export async function runFuzz(opts: {
  dir: string;
  count: number;
  seed?: string | number;
  from?: number;
  codebook: string;
  onProgress?: (done: number) => void;
}): Promise<FuzzResult> {
  const t0 = performance.now();
  const seed = opts.seed ?? 'fuzz';
  const base = baseDataset(seed);
  const fragments = secretFragments(base);
  const home = join(opts.dir, 'home');
  const enrPath = join(opts.dir, 'enrolments.csv');
  const attPath = join(opts.dir, 'attendance.csv');
  const res: FuzzResult = { mutants: 0, accepted: 0, refused: 0, codes: {}, failures: [], referenceRuns: 0, ms: 0 };

  writeFileSync(enrPath, base.enrolments);
  writeFileSync(attPath, base.attendance);
  await importDataset({ home, enrolments: enrPath, attendance: attPath });
  let baseKey = datasetKey(home);

  const from = opts.from ?? 0;
  for (let i = from; i < from + opts.count; i++) {
    // Every mutant counts, refused ones too (they `continue` below).
    if (i > from) opts.onProgress?.(i - from);
    const m = mutant(base, seed, i);
    const fail = (what: FuzzFailure['what'], detail: string) => res.failures.push({ i, kind: m.kind, what, detail });
    writeFileSync(enrPath, m.enrolments);
    writeFileSync(attPath, m.attendance);
    res.mutants++;
    let error: unknown = null;
    try {
      await importDataset({
        home,
        enrolments: enrPath,
        attendance: attPath,
        codebook: opts.codebook,
        chunkSize: CHUNK_SIZES[i % CHUNK_SIZES.length],
      });
    } catch (e) {
      error = e;
    }
    if (error) {
      res.refused++;
      if (!isSbError(error)) {
        fail('crash', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        continue;
      }
      res.codes[error.code] = (res.codes[error.code] ?? 0) + 1;
      if (datasetKey(home) !== baseKey) fail('partial-import', `${error.code}: the stored dataset changed`);
      const msg = error.message;
      const lines =
        error instanceof ImportRefusedError
          ? error.problems.listed.every((p) => /\.csv$/.test(p.file) && p.line >= 1)
          : /^(enrolments|attendance)\.csv:\d+: /.test(msg) ||
            (/(enrolments|attendance)\.csv:\d+/.test(msg) && typeof error.details.line === 'number');
      if (!lines) fail('no-file-line', msg.slice(0, 300));
      const text = `${msg}\n${JSON.stringify(error.details)}`;
      const leaked = fragments.find((f) => text.includes(f));
      if (leaked) fail('echo', `${error.code} contains '${leaked}…': ${msg.slice(0, 200)}`);
      continue;
    }
    res.accepted++;
    try {
      const node = (await computeNodeVector({ home, codebook: opts.codebook, year: 2024 })).json;
      const ref = await referenceVector(m, opts.codebook, 2024, opts.dir);
      const a = JSON.stringify({ cells: node.cells, groups: node.groups, excluded: node.excluded_crebos ?? {} });
      const b = JSON.stringify({ cells: ref.cells, groups: ref.groups, excluded: ref.excluded_crebos ?? {} });
      if (a !== b) fail('vector-differs', `node ${a.length} chars, reference ${b.length} chars`);
    } catch (e) {
      fail('crash', `after acceptance: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    baseKey = datasetKey(home); // the next refusal must leave this dataset
  }
  opts.onProgress?.(res.mutants);
  res.referenceRuns = referenceRuns();
  res.ms = performance.now() - t0;
  return res;
}
