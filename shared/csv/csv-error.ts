import { SbError } from '../errors/sb-error.js';

/** A malformed file: the message starts with `file:line:` and says what to do next. */
export class CsvError extends SbError {
  constructor(code: string, message: string, file: string, line: number, extra: Record<string, unknown> = {}) {
    super(code, `${file}:${line}: ${message}`, { file, line, ...extra });
    this.name = 'CsvError';
  }
}
