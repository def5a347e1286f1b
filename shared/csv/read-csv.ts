import { createReadStream } from 'node:fs';
import { SbError } from '../errors/sb-error.js';
import { CsvError } from './csv-error.js';
import { ChunkDecoder, type CsvEncoding } from './decode.js';
import { type CsvWarning, type MultilineQuotes, RecordParser } from './record-parser.js';

/**
 * Streaming reader for the delimited files of INPUT.md ("Formats the node must accept"):
 * delimiter `,` `;` `|` or tab detected from the header line (or named by an Excel `sep=` first
 * line); UTF-8 with or without BOM, or Windows-1252, detected or given; RFC 4180 quoting
 * (quoted delimiters, doubled quotes, quoted newlines); LF, CRLF or lone-CR line ends.
 *
 * Structure the contract does not define is never resolved silently (issue 13): UTF-16 and NUL
 * bytes are encoding errors, a quoted field spanning lines that look like records is refused
 * (or, explicitly, a warning), a quote never closed is refused naming the line it opens on.
 *
 * Hand-written because it is the import's hot path: 15-25 million rows per file, where
 * csv-parse (about 470k rows/s here) alone would exceed the ingest budget. csv-parse is the
 * oracle in the differential tests (tests/shared/read-csv.test.ts). The parts: decode.ts (bytes
 * to text), record-parser.ts (text to records), this file (the stream and its errors).
 *
 * @see ../../../shared/spec/INPUT.md
 */

export { CsvError } from './csv-error.js';
export type { CsvEncoding } from './decode.js';
export type { CsvWarning, MultilineQuotes } from './record-parser.js';

export interface CsvReadOptions {
  /** `auto` (default) detects: BOM or valid UTF-8 in the first MiB gives UTF-8, else Windows-1252. */
  encoding?: CsvEncoding | 'auto';
  /** Only for display in errors; defaults to the path. */
  displayName?: string;
  /** Chunk size in bytes (tests use small chunks to exercise boundaries). */
  chunkSize?: number;
  /** Called about every `progressEvery` records with the count so far and bytes read. */
  onProgress?: (records: number, bytesRead: number) => void;
  progressEvery?: number;
  /** Sees every raw chunk as read (e.g. to hash the file in the same pass). */
  onChunk?: (chunk: Buffer) => void;
  /** Quoted fields over lines that look like records: `refuse` (default) or `warn`. */
  multilineQuotes?: MultilineQuotes;
  /** Receives the warnings of `multilineQuotes: 'warn'`. */
  onWarning?: (w: CsvWarning) => void;
}

export interface CsvHeader {
  /** Column names as written (trimmed). */
  names: string[];
  /** Column names trimmed and lower-cased, for matching. */
  keys: string[];
  delimiter: string;
  encoding: CsvEncoding;
  bom: boolean;
  /** Physical line of the header (2 after an Excel `sep=` line). */
  line: number;
}

export interface CsvSummary {
  header: CsvHeader;
  /** Data records (header excluded, blank lines excluded). */
  records: number;
  bytes: number;
}

/** Called per data record; `line` is the 1-based physical line where the record starts. */
export type CsvRecordHandler = (fields: string[], line: number) => void;

/**
 * Read a delimited file record by record. The header is returned, not passed to `onRecord`.
 *
 * @throws CsvError naming file and line on malformed input (`SB_ERR_CSV_*`); SbError
 *   `SB_ERR_FILE_NOT_FOUND`, `SB_ERR_FILE_NOT_FILE`, `SB_ERR_FILE_UNREADABLE`
 */
export async function readCsv(
  path: string,
  onHeader: (header: CsvHeader) => void,
  onRecord: CsvRecordHandler,
  options: CsvReadOptions = {},
): Promise<CsvSummary> {
  const reader = new CsvReader(path, onHeader, onRecord, options);
  await reader.read(0, undefined, true);
  return reader.summary();
}

/** Where a {@link CsvReader} that reads the rest of a file starts (parallel import). */
export interface CsvResume {
  /** The header the first part of the file found (delimiter, encoding, column count). */
  header: CsvHeader;
  /** Physical line the reader's first byte is on; lines are counted from here. */
  line: number;
}

/**
 * {@link readCsv} in byte ranges, for reading one file in parts on several threads: `read`
 * parses `[start, end)` and may be called again for the next range with the same reader, which
 * then continues exactly as one sequential read would (text held back at the end of a range,
 * e.g. an unfinished quoted field, is completed by the next). With `resume`, the reader starts
 * in the middle of a file: after the header, with its delimiter and encoding, counting lines
 * from `resume.line` (the start-of-file checks, BOM and NUL bytes, are not repeated).
 * `incomplete` says whether text is held back, i.e. whether a record crosses the range's end.
 */
export class CsvReader {
  readonly file: string;
  private readonly decoder: ChunkDecoder;
  private readonly parser: RecordParser;
  private header: CsvHeader | undefined;
  private bytesRead = 0;
  private nextProgress: number;

  constructor(
    private readonly path: string,
    onHeader: (header: CsvHeader) => void,
    onRecord: CsvRecordHandler,
    private readonly options: CsvReadOptions = {},
    resume?: CsvResume,
  ) {
    this.file = options.displayName ?? path;
    this.nextProgress = options.progressEvery ?? 500_000;
    this.decoder = new ChunkDecoder(path, this.file, resume ? resume.header.encoding : options.encoding);
    this.parser = new RecordParser(this.file, options.multilineQuotes ?? 'refuse', {
      onHeader: (h) => {
        this.header = {
          names: h.names,
          keys: h.names.map((x) => x.toLowerCase()),
          delimiter: h.delimiter,
          encoding: this.decoder.encoding as CsvEncoding,
          bom: this.decoder.bom,
          line: h.line,
        };
        onHeader(this.header);
      },
      onRecord,
      onWarning: options.onWarning,
    });
    if (resume) {
      this.header = resume.header;
      this.decoder.resumeAfterStart();
      this.parser.resume(resume.header.delimiter, resume.header.names.length, resume.line);
    }
  }

  /** Data records so far. */
  get records(): number {
    return this.parser.records;
  }

  /** The physical line just after what was parsed or held back so far. */
  lineAtEnd(): number {
    return this.parser.lineAtEnd();
  }

  /** True when text is held back: a record (or a character) crosses the end of the last range. */
  get incomplete(): boolean {
    return this.parser.pending || this.decoder.hasPending;
  }

  /** The header, once read (or given to resume). */
  get headerFound(): CsvHeader | undefined {
    return this.header;
  }

  /**
   * Parse bytes `[start, end)` (`end` undefined: to the end of the file). With `final`, the end
   * is the end of the file: a record without line end is complete, an open quote an error.
   * @throws as {@link readCsv}
   */
  async read(start: number, end: number | undefined, final: boolean): Promise<void> {
    const { options, decoder, parser } = this;
    const lineAt = () => parser.lineAtEnd();
    if (end !== undefined && end <= start) {
      if (final) await this.finish();
      return;
    }
    const stream = createReadStream(this.path, {
      highWaterMark: options.chunkSize ?? 4 * 1024 * 1024,
      start,
      ...(end !== undefined ? { end: end - 1 } : {}),
    });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        this.bytesRead += chunk.length;
        options.onChunk?.(chunk);
        parser.push(decoder.decode(chunk, false, lineAt), false);
        if (parser.records >= this.nextProgress && options.onProgress) {
          options.onProgress(parser.records, this.bytesRead);
          this.nextProgress = parser.records + (options.progressEvery ?? 500_000);
        }
      }
      if (final) await this.finish();
    } catch (e) {
      throw fileError(e, this.path, this.file);
    } finally {
      stream.destroy();
    }
  }

  private async finish(): Promise<void> {
    const { decoder, parser } = this;
    if (decoder.empty) throw emptyFile(this.file);
    parser.push(decoder.hasPending ? decoder.decode(Buffer.alloc(0), true, () => parser.lineAtEnd()) : '', true);
  }

  /** The summary of a complete read. @throws CsvError `SB_ERR_CSV_EMPTY` when no header was found. */
  summary(): CsvSummary {
    if (!this.header) throw emptyFile(this.file);
    this.options.onProgress?.(this.parser.records, this.bytesRead);
    return { header: this.header, records: this.parser.records, bytes: this.bytesRead };
  }
}

function emptyFile(file: string): CsvError {
  return new CsvError('SB_ERR_CSV_EMPTY', 'the file is empty; it needs a header line and rows.', file, 1);
}

/** File-system errors of the stream as coded errors naming the file; others unchanged. */
function fileError(e: unknown, path: string, file: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new SbError('SB_ERR_FILE_NOT_FOUND', `${file}: file not found. Check the path.`, { file });
  if (code === 'EISDIR') {
    return new SbError('SB_ERR_FILE_NOT_FILE', `${path}: is a folder, not a file. Give the path of the CSV export.`, {
      file,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new SbError(
      'SB_ERR_FILE_UNREADABLE',
      `${path}: this user may not read the file (${code}). Copy the export somewhere readable or fix its permissions.`,
      { file },
    );
  }
  return e;
}
