import { SbError } from '../../shared/errors/sb-error.js';
import { SHAPE_LEGEND } from './value-shape.js';

/** One rejected row: file, line, column and reason (INPUT.md "Bad input"). */
export interface Problem {
  file: string;
  line: number;
  column: string;
  reason: string;
}

/** How many problems a report lists; the total is always counted. */
export const PROBLEMS_LISTED = 100;

/**
 * Collects problems while reading. Keeps the first {@link PROBLEMS_LISTED} and counts all, so a
 * file with a million bad rows still reports quickly and in bounded memory.
 */
export class ProblemLog {
  readonly listed: Problem[] = [];
  total = 0;
  /** Rows rejected (a row with several problems counts once). */
  rowsRejected = 0;

  add(p: Problem): void {
    this.total++;
    if (this.listed.length < PROBLEMS_LISTED) this.listed.push(p);
  }

  /** Render for a terminal: one line per problem, then the total. */
  render(): string {
    const lines = this.listed.map((p) => `  ${p.file}:${p.line} column ${p.column}: ${p.reason}`);
    const more = this.total > this.listed.length ? `\n  … and ${this.total - this.listed.length} more` : '';
    const legend = this.listed.some((p) => p.reason.includes('a value shaped')) ? `\n${SHAPE_LEGEND}` : '';
    return `${lines.join('\n')}${more}\n${this.total} problem(s) in ${this.rowsRejected} row(s).${legend}`;
  }
}

/** The import was refused: nothing was written, the previous dataset is untouched. */
export class ImportRefusedError extends SbError {
  readonly problems: ProblemLog;
  constructor(problems: ProblemLog, maxErrors: number) {
    const hint =
      maxErrors === 0
        ? 'Fix the rows in the export (or the mapping file) and import again; --max-errors N skips up to N bad rows instead.'
        : `More than --max-errors ${maxErrors} rows are bad. Fix the export (or the mapping file) and import again.`;
    super(
      'SB_ERR_IMPORT_REFUSED',
      `import refused, nothing was changed (the previous dataset is kept):\n${problems.render()}\n${hint}`,
      { total: problems.total, rowsRejected: problems.rowsRejected, listed: problems.listed },
    );
    this.name = 'ImportRefusedError';
    this.problems = problems;
  }
}
