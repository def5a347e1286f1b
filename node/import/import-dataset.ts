import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { CsvEncoding } from '../../shared/csv/read-csv.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { openNodeDb } from '../store/node-db.js';
import { replaceDataset } from '../store/dataset-store.js';
import { readMappingFile, type MappingFile } from './mapping.js';
import { ImportRefusedError, ProblemLog, type Problem } from './problems.js';
import { readAttendance } from './read-attendance.js';
import { readEnrolments } from './read-enrolments.js';

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
  /** Injected clock. */
  now?: () => Date;
}

export interface ImportReport {
  enrolments: { records: number; imported: number; encoding: CsvEncoding; delimiter: string };
  attendance: { records: number; encoding: CsvEncoding; delimiter: string; weeks: number; hasStartTime: boolean };
  rowsSkipped: number;
  observationsDropped: number;
  problemsTotal: number;
  problems: Problem[];
  durationMs: number;
}

/**
 * Import an institution's enrolments and attendance exports into the node's database, all or
 * nothing: every row is validated first, and only a clean (or, with --max-errors, tolerable)
 * read replaces the previous dataset, in one transaction.
 *
 * @see ../../../shared/spec/INPUT.md
 */
export async function importDataset(opts: ImportOptions): Promise<ImportReport> {
  const t0 = performance.now();
  const maxErrors = opts.maxErrors ?? 0;
  if (!Number.isInteger(maxErrors) || maxErrors < 0) {
    throw new SbError('SB_ERR_USAGE', `--max-errors must be a whole number >= 0, not ${opts.maxErrors}.`);
  }
  const mapping: MappingFile | undefined = opts.mapping ? readMappingFile(opts.mapping) : undefined;
  const problems = new ProblemLog();
  const enrFile = basename(opts.enrolments);
  const attFile = basename(opts.attendance);
  const size = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      throw new SbError('SB_ERR_FILE_NOT_FOUND', `${p}: file not found. Check the path.`, { file: p });
    }
  };
  const enrBytes = size(opts.enrolments);
  const attBytes = size(opts.attendance);
  const enrHash = createHash('sha256');
  const attHash = createHash('sha256');
  const progress = opts.onProgress;

  const enr = await readEnrolments(opts.enrolments, enrFile, problems, mapping?.enrolments, {
    encoding: opts.encoding && opts.encoding !== 'auto' ? opts.encoding : (mapping?.enrolments?.encoding ?? 'auto'),
    displayName: enrFile,
    chunkSize: opts.chunkSize,
    onChunk: (c) => enrHash.update(c),
    onProgress: (rows, bytes) => progress?.({ phase: 'enrolments', rows, bytes, totalBytes: enrBytes }),
    progressEvery: 100_000,
  });

  if (opts.codebook) {
    const cb = await readCodebookFile(opts.codebook);
    const t = enr.table;
    for (let i = 0; i < t.crebo.length; i++) {
      const e = cb.byCrebo.get(t.crebo[i] as string);
      if (e && e.niveau !== t.niveau[i]) {
        problems.add({
          file: enrFile,
          line: t.line[i] as number,
          column: 'niveau',
          reason: `niveau ${t.niveau[i]} contradicts the codebook, which has crebo ${t.crebo[i]} at niveau ${e.niveau}`,
        });
        problems.rowsRejected++;
      }
    }
  }

  const att = await readAttendance(
    opts.attendance,
    attFile,
    problems,
    enr,
    mapping?.attendance,
    {
      encoding: opts.encoding && opts.encoding !== 'auto' ? opts.encoding : (mapping?.attendance?.encoding ?? 'auto'),
      displayName: attFile,
      chunkSize: opts.chunkSize,
      onChunk: (c) => attHash.update(c),
      onProgress: (rows, bytes) => progress?.({ phase: 'attendance', rows, bytes, totalBytes: attBytes }),
    },
    attBytes,
  );

  if (problems.rowsRejected > maxErrors || (maxErrors === 0 && problems.total > 0)) {
    throw new ImportRefusedError(problems, maxErrors);
  }

  progress?.({ phase: 'writing', rows: 0 });
  const db = openNodeDb(opts.home);
  try {
    replaceDataset(
      db,
      {
        importedAt: (opts.now?.() ?? new Date()).toISOString(),
        enrolmentsFile: enrFile,
        enrolmentsSha256: enrHash.digest('hex'),
        enrolmentsRecords: enr.records,
        enrolmentsEncoding: enr.header.encoding,
        attendanceFile: attFile,
        attendanceSha256: attHash.digest('hex'),
        attendanceRecords: att.records,
        attendanceEncoding: att.header.encoding,
        rowsSkipped: problems.rowsRejected,
        observationsDropped: att.droppedWithEnrolment,
        problemsTotal: problems.total,
        hasBirthDate: enr.hasBirthDate,
        hasStartTime: att.hasStartTime,
        maxDate:
          Math.max(enr.maxDate ?? -Infinity, att.maxDate ?? -Infinity) === -Infinity
            ? null
            : Math.max(enr.maxDate ?? -Infinity, att.maxDate ?? -Infinity),
      },
      enr.table,
      att.weeks,
      (rows) => progress?.({ phase: 'writing', rows }),
    );
  } finally {
    db.close();
  }
  progress?.({ phase: 'done', rows: enr.records + att.records });
  return {
    enrolments: {
      records: enr.records,
      imported: enr.table.enrolmentId.length,
      encoding: enr.header.encoding,
      delimiter: enr.header.delimiter,
    },
    attendance: {
      records: att.records,
      encoding: att.header.encoding,
      delimiter: att.header.delimiter,
      weeks: att.weeks.rows,
      hasStartTime: att.hasStartTime,
    },
    rowsSkipped: problems.rowsRejected,
    observationsDropped: att.droppedWithEnrolment,
    problemsTotal: problems.total,
    problems: problems.listed,
    durationMs: performance.now() - t0,
  };
}
