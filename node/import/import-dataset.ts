import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CsvEncoding, CsvWarning } from '../../shared/csv/read-csv.js';
import { SbError } from '../../shared/errors/sb-error.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { nodeDbError, openNodeDb } from '../store/node-db.js';
import { type DatasetMeta, replaceDataset } from '../store/dataset-store.js';
import { readMappingFile, type MappingFile } from './mapping.js';
import { ImportRefusedError, ProblemLog, type Problem } from './problems.js';
import { type AttendanceRead, type ParallelRead, readAttendance } from './read-attendance.js';
import { type EnrolmentsRead, readEnrolments } from './read-enrolments.js';
import type { Clock } from '../../shared/time/clock.js';

export interface ImportProgress {
  phase: 'enrolments' | 'attendance' | 'duplicates' | 'writing' | 'done';
  rows: number;
  bytes?: number;
  totalBytes?: number;
}

export interface ImportOptions {
  /** The node's home folder (holds node.sqlite). */
  home: string;
  enrolments: string;
  attendance: string;
  /** Mapping file (JSON) for SIS column names and codes. */
  mapping?: string;
  /** Skip up to this many bad rows instead of refusing (default 0: strict). */
  maxErrors?: number;
  /** Encoding of both files; default auto-detect per file (or the mapping's setting). */
  encoding?: CsvEncoding | 'auto';
  /** When given, niveaus are checked against this codebook at import. */
  codebook?: string;
  onProgress?: (p: ImportProgress) => void;
  /** Read size in bytes (tests use small chunks to reach encoding and boundary cases). */
  chunkSize?: number;
  /**
   * `refuse` (default): a quoted field that spans lines and holds what parses as whole records
   * refuses the import; `warn` accepts it and counts it (see {@link CsvReadOptions}).
   */
  multilineQuotes?: 'refuse' | 'warn';
  /** Injected clock. */
  now?: Clock;
  /** Reading attendance.csv on two threads (tests force it on small files); see {@link ParallelRead}. */
  parallel?: ParallelRead;
}

export interface ImportReport {
  enrolments: { records: number; imported: number; encoding: CsvEncoding; delimiter: string };
  attendance: { records: number; encoding: CsvEncoding; delimiter: string; weeks: number; hasStartTime: boolean };
  rowsSkipped: number;
  observationsDropped: number;
  problemsTotal: number;
  problems: Problem[];
  /** Accepted structure a person should know about (e.g. quoted fields over lines, `--multiline-quotes warn`). */
  warnings: CsvWarning[];
  durationMs: number;
}

/**
 * Import an institution's enrolments and attendance exports into the node's database, all or
 * nothing: every row is validated first, and only a clean (or, with --max-errors, tolerable)
 * read replaces the previous dataset, in one transaction. An import that would hold no
 * enrolments or no observations is refused too (issue 13): an empty or header-only file, or one
 * whose line ends were not recognised, never replaces a dataset.
 *
 * @throws SbError `SB_ERR_IMPORT_REFUSED` (problems listed), `SB_ERR_IMPORT_EMPTY`, `SB_ERR_CSV_*`,
 *   `SB_ERR_IMPORT_COLUMNS`, `SB_ERR_FILE_*`, `SB_ERR_HOME_*`, `SB_ERR_DB_IN_USE`
 * @see ../../../shared/spec/INPUT.md
 */
export async function importDataset(opts: ImportOptions): Promise<ImportReport> {
  const t0 = performance.now();
  const maxErrors = opts.maxErrors ?? 0;
  if (!Number.isInteger(maxErrors) || maxErrors < 0) {
    throw new SbError('SB_ERR_USAGE', `--max-errors must be a whole number >= 0, not ${opts.maxErrors}.`);
  }
  const sizes = { enrolments: inputSize(opts.enrolments), attendance: inputSize(opts.attendance) };
  const mapping: MappingFile | undefined = opts.mapping ? readMappingFile(opts.mapping) : undefined;
  // Open (or create) the home first: an unusable --home is reported before a long read.
  const db = openNodeDb(opts.home);
  try {
    const read = await readInputs(opts, mapping, sizes, maxErrors);
    opts.onProgress?.({ phase: 'writing', rows: 0 });
    replaceDataset(db, datasetMeta(opts, read), read.enr.table, read.att.weeks, (rows) =>
      opts.onProgress?.({ phase: 'writing', rows }),
    );
    opts.onProgress?.({ phase: 'done', rows: read.enr.records + read.att.records });
    return report(read, performance.now() - t0);
  } catch (e) {
    throw nodeDbError(e, join(opts.home, 'node.sqlite'));
  } finally {
    db.close();
  }
}

interface InputsRead {
  enr: EnrolmentsRead;
  att: AttendanceRead;
  problems: ProblemLog;
  files: { enrolments: string; attendance: string };
  warnings: CsvWarning[];
  sha256: { enrolments: string; attendance: string };
}

/** Size of an input file; refuses a missing path or a folder with a coded error. */
function inputSize(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new SbError('SB_ERR_FILE_NOT_FOUND', `${path}: file not found. Check the path.`, { file: path });
  if (!st.isFile()) {
    throw new SbError('SB_ERR_FILE_NOT_FILE', `${path}: is a folder, not a file. Give the path of the CSV export.`, {
      file: path,
    });
  }
  return st.size;
}

/** Read and validate both files; throws when the import must be refused. */
async function readInputs(
  opts: ImportOptions,
  mapping: MappingFile | undefined,
  sizes: { enrolments: number; attendance: number },
  maxErrors: number,
): Promise<InputsRead> {
  const problems = new ProblemLog();
  const warnings: CsvWarning[] = [];
  const onWarning = (w: CsvWarning) => warnings.push(w);
  const files = { enrolments: basename(opts.enrolments), attendance: basename(opts.attendance) };
  const enrHash = createHash('sha256');
  const attHash = createHash('sha256');
  const progress = opts.onProgress;
  const encodingOf = (m: { encoding?: CsvEncoding | 'auto' } | undefined) =>
    opts.encoding && opts.encoding !== 'auto' ? opts.encoding : (m?.encoding ?? 'auto');

  const enr = await readEnrolments(opts.enrolments, files.enrolments, problems, mapping?.enrolments, {
    encoding: encodingOf(mapping?.enrolments),
    displayName: files.enrolments,
    chunkSize: opts.chunkSize,
    multilineQuotes: opts.multilineQuotes,
    onWarning,
    onChunk: (c) => enrHash.update(c),
    onProgress: (rows, bytes) => progress?.({ phase: 'enrolments', rows, bytes, totalBytes: sizes.enrolments }),
    progressEvery: 100_000,
  });
  // Before attendance is read: an enrolments file without rows would otherwise turn every
  // observation into its own "not in enrolments.csv" problem.
  if (enr.records === 0) throw noRows(files.enrolments, 'enrolments');
  if (opts.codebook) checkNiveaus(enr, await readCodebookFile(opts.codebook), files.enrolments, problems);

  const att = await readAttendance(
    opts.attendance,
    files.attendance,
    problems,
    enr,
    mapping?.attendance,
    {
      encoding: encodingOf(mapping?.attendance),
      displayName: files.attendance,
      chunkSize: opts.chunkSize,
      multilineQuotes: opts.multilineQuotes,
      onWarning,
      onChunk: (c) => attHash.update(c),
      onProgress: (rows, bytes) => progress?.({ phase: 'attendance', rows, bytes, totalBytes: sizes.attendance }),
    },
    sizes.attendance,
    opts.parallel,
  );
  if (att.records === 0) throw noRows(files.attendance, 'attendance');

  if (problems.rowsRejected > maxErrors || (maxErrors === 0 && problems.total > 0)) {
    throw new ImportRefusedError(problems, maxErrors);
  }
  // Under --max-errors every row may have been skipped: still a dataset without rows.
  if (enr.table.enrolmentId.length === 0) throw noRows(files.enrolments, 'enrolments', problems.rowsRejected);
  if (att.weeks.rows === 0) throw noRows(files.attendance, 'attendance', problems.rowsRejected);
  return {
    enr,
    att,
    problems,
    files,
    warnings,
    sha256: { enrolments: enrHash.digest('hex'), attendance: attHash.digest('hex') },
  };
}

/** The refusal of an import that would hold no rows of one file (one message, not one per row). */
function noRows(file: string, what: 'enrolments' | 'attendance', skipped = 0): SbError {
  const why =
    skipped > 0
      ? `every row of ${file} was skipped as bad (${skipped} row(s) skipped under --max-errors)`
      : `${file} has no rows (only a header line, or nothing at all)`;
  return new SbError(
    'SB_ERR_IMPORT_EMPTY',
    `${file}:1: import refused, nothing was changed (the previous dataset is kept): ${why}. An ` +
      `import that would hold no ${what === 'enrolments' ? 'enrolments' : 'observations'} is refused. ` +
      'Check that this is the complete export; if its lines look joined into one, save it again as ' +
      '"CSV UTF-8" (Windows line ends).',
    { file, line: 1 },
  );
}

/** With --codebook: a niveau that contradicts the codebook is a problem of its row. */
function checkNiveaus(enr: EnrolmentsRead, cb: Codebook, file: string, problems: ProblemLog): void {
  const t = enr.table;
  for (let i = 0; i < t.crebo.length; i++) {
    const e = cb.byCrebo.get(t.crebo[i] as string);
    if (e && e.niveau !== t.niveau[i]) {
      problems.add({
        file,
        line: t.line[i] as number,
        column: 'niveau',
        reason: `niveau ${t.niveau[i]} contradicts the codebook, which has crebo ${t.crebo[i]} at niveau ${e.niveau}`,
      });
      problems.rowsRejected++;
    }
  }
}

function datasetMeta(opts: ImportOptions, r: InputsRead): DatasetMeta {
  const maxDate = Math.max(r.enr.maxDate ?? -Infinity, r.att.maxDate ?? -Infinity);
  return {
    importedAt: (opts.now?.() ?? new Date()).toISOString(),
    enrolmentsFile: r.files.enrolments,
    enrolmentsSha256: r.sha256.enrolments,
    enrolmentsRecords: r.enr.records,
    enrolmentsEncoding: r.enr.header.encoding,
    attendanceFile: r.files.attendance,
    attendanceSha256: r.sha256.attendance,
    attendanceRecords: r.att.records,
    attendanceEncoding: r.att.header.encoding,
    rowsSkipped: r.problems.rowsRejected,
    observationsDropped: r.att.droppedWithEnrolment,
    problemsTotal: r.problems.total,
    hasBirthDate: r.enr.hasBirthDate,
    hasStartTime: r.att.hasStartTime,
    maxDate: maxDate === -Infinity ? null : maxDate,
  };
}

function report(r: InputsRead, durationMs: number): ImportReport {
  return {
    enrolments: {
      records: r.enr.records,
      imported: r.enr.table.enrolmentId.length,
      encoding: r.enr.header.encoding,
      delimiter: r.enr.header.delimiter,
    },
    attendance: {
      records: r.att.records,
      encoding: r.att.header.encoding,
      delimiter: r.att.header.delimiter,
      weeks: r.att.weeks.rows,
      hasStartTime: r.att.hasStartTime,
    },
    rowsSkipped: r.problems.rowsRejected,
    observationsDropped: r.att.droppedWithEnrolment,
    problemsTotal: r.problems.total,
    problems: r.problems.listed,
    warnings: r.warnings,
    durationMs,
  };
}
