import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { SbError } from '../errors/sb-error.js';

/**
 * Streaming reader for the delimited files of INPUT.md ("Formats the node must accept"):
 * delimiter `,` `;` `|` or tab detected from the header line; UTF-8 with or without BOM, or
 * Windows-1252, detected or given; RFC 4180 quoting (quoted delimiters, doubled quotes, quoted
 * newlines); CRLF or LF.
 *
 * Hand-written because it is the import's hot path: 15-25 million rows per file, where
 * csv-parse (about 470k rows/s here) alone would exceed the ingest budget. csv-parse is the
 * oracle in the differential tests (tests/shared/read-csv.test.ts).
 *
 * @see ../../../shared/spec/INPUT.md
 */

export type CsvEncoding = 'utf-8' | 'windows-1252';

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
}

export interface CsvHeader {
  /** Column names as written (trimmed). */
  names: string[];
  /** Column names trimmed and lower-cased, for matching. */
  keys: string[];
  delimiter: string;
  encoding: CsvEncoding;
  bom: boolean;
}

export interface CsvSummary {
  header: CsvHeader;
  /** Data records (header excluded, blank lines excluded). */
  records: number;
  bytes: number;
}

/** Called per data record; `line` is the 1-based physical line where the record starts. */
export type CsvRecordHandler = (fields: string[], line: number) => void;

const CANDIDATES = [',', ';', '|', '\t'];
/** Bytes read up front to detect the encoding, whatever the chunk size. */
const PROBE_BYTES = 1 << 20;

/** Auto-detection: valid UTF-8 in the first MiB means UTF-8, else Windows-1252. */
function probeEncoding(path: string): CsvEncoding | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // reported as not found by the stream
  }
  try {
    const buf = Buffer.alloc(PROBE_BYTES);
    const n = readSync(fd, buf, 0, PROBE_BYTES, 0);
    const probe = n < PROBE_BYTES ? buf.subarray(0, n) : buf.subarray(0, utf8CompletePrefix(buf));
    return isUtf8(probe) ? 'utf-8' : 'windows-1252';
  } finally {
    closeSync(fd);
  }
}
/** A record longer than this is taken as a runaway quote rather than data. */
const MAX_RECORD_CHARS = 1 << 20;

export class CsvError extends SbError {
  constructor(code: string, message: string, file: string, line: number, extra: Record<string, unknown> = {}) {
    super(code, `${file}:${line}: ${message}`, { file, line, ...extra });
    this.name = 'CsvError';
  }
}

function detectDelimiter(headerLine: string, file: string): string {
  let best = '';
  let bestCount = 0;
  for (const d of CANDIDATES) {
    let n = 0;
    let inQ = false;
    for (let i = 0; i < headerLine.length; i++) {
      const c = headerLine[i];
      if (c === '"') inQ = !inQ;
      else if (!inQ && c === d) n++;
    }
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  if (!best) {
    throw new CsvError(
      'SB_ERR_CSV_DELIMITER',
      'cannot detect the delimiter: the header line contains none of , ; | or tab. Check that this is the right file and that it has a header line.',
      file,
      1,
    );
  }
  return best;
}

/** Length of the longest prefix of `buf` that ends on a UTF-8 character boundary. */
function utf8CompletePrefix(buf: Buffer): number {
  const n = buf.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = buf[n - back] as number;
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    if (b < 0x80) return n;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return back >= need ? n : n - back;
  }
  return n;
}

/** Line (1-based, relative) of the first invalid UTF-8 line in `buf`. */
function firstInvalidUtf8Line(buf: Buffer): number {
  let line = 1;
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    if (!isUtf8(buf.subarray(start, end))) return line;
    line++;
    start = end + 1;
  }
  return line;
}

/**
 * Read a delimited file record by record. The header is returned, not passed to `onRecord`.
 * Throws {@link CsvError} naming file and line on malformed input.
 */
export async function readCsv(
  path: string,
  onHeader: (header: CsvHeader) => void,
  onRecord: CsvRecordHandler,
  options: CsvReadOptions = {},
): Promise<CsvSummary> {
  const file = options.displayName ?? path;
  const chunkSize = options.chunkSize ?? 4 * 1024 * 1024;
  const progressEvery = options.progressEvery ?? 500_000;
  let encoding: CsvEncoding | undefined = options.encoding === 'auto' ? undefined : options.encoding;
  let bom = false;
  let first = true;
  let pendingBytes: Buffer | null = null;
  let text = ''; // undecoded remainder: start of an incomplete record
  let line = 1; // physical line at the start of `text`
  let header: CsvHeader | undefined;
  let delim = ',';
  let records = 0;
  let bytesRead = 0;
  let nextProgress = progressEvery;

  const decode = (chunk: Buffer, final: boolean): string => {
    if (first) {
      first = false;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        bom = true;
        chunk = chunk.subarray(3);
        if (encoding === 'windows-1252') {
          throw new CsvError(
            'SB_ERR_CSV_ENCODING',
            'the file starts with a UTF-8 byte-order mark but --encoding windows-1252 was given; omit --encoding or pass utf-8.',
            file,
            1,
          );
        }
        encoding = 'utf-8';
      } else if (
        chunk.length >= 2 &&
        ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
      ) {
        throw new CsvError(
          'SB_ERR_CSV_ENCODING',
          'the file is UTF-16, which is not supported; save it from Excel as "CSV UTF-8" or "CSV (gescheiden door lijstscheidingsteken)".',
          file,
          1,
        );
      }
      if (!encoding) encoding = probeEncoding(path) ?? 'utf-8';
    }
    if (encoding === 'windows-1252') return iconv.decode(chunk, 'win1252');
    let buf = pendingBytes ? Buffer.concat([pendingBytes, chunk]) : chunk;
    pendingBytes = null;
    if (!final) {
      const cut = utf8CompletePrefix(buf);
      if (cut < buf.length) {
        pendingBytes = Buffer.from(buf.subarray(cut));
        buf = buf.subarray(0, cut);
      }
    }
    if (!isUtf8(buf)) {
      // Count the lines before this chunk plus the lines of the chunk up to the bad one.
      const before = line + countNewlines(text);
      throw new CsvError(
        'SB_ERR_CSV_ENCODING',
        `the file is not valid UTF-8 here, though ${options.encoding === 'utf-8' ? 'UTF-8 was given' : 'its start was'}. If it is a Windows-1252 (Excel) export, import it again with --encoding windows-1252.`,
        file,
        before + firstInvalidUtf8Line(buf) - 1,
      );
    }
    return buf.toString('utf8');
  };

  /** Parse complete records out of `text`; keep the incomplete tail. */
  const parse = (final: boolean): void => {
    const s = text;
    const n = s.length;
    let pos = 0;
    let ln = line;
    // Position of the next quote at or after pos (-1: none in this text); cached, because
    // searching anew per record would rescan the whole chunk when a file has no quotes.
    let q = -2;
    while (pos < n) {
      // Header: detect the delimiter on the first physical line.
      const nl = s.indexOf('\n', pos);
      if (nl < 0 && !final) break;
      const lineEnd = nl < 0 ? n : nl;
      if (q !== -1 && q < pos) q = s.indexOf('"', pos);
      let fields: string[];
      let next: number;
      let linesUsed = 1;
      if (!header) {
        const hl = s.slice(pos, lineEnd).replace(/\r$/, '');
        delim = detectDelimiter(hl, file);
      }
      if (q < 0 || q >= lineEnd) {
        // Fast path: no quotes on this line.
        let end = lineEnd;
        if (end > pos && s.charCodeAt(end - 1) === 13) end--;
        next = lineEnd + 1;
        if (end === pos) {
          pos = next;
          ln++;
          continue; // blank line
        }
        fields = s.slice(pos, end).split(delim);
      } else {
        const r = parseQuoted(s, pos, delim, final, file, ln);
        if (!r) {
          if (n - pos > MAX_RECORD_CHARS) {
            throw new CsvError(
              'SB_ERR_CSV_QUOTE',
              'a quoted field is never closed (no matching " before the end of the record). Check this line for a stray double quote.',
              file,
              ln,
            );
          }
          break; // incomplete record: wait for more text
        }
        fields = r.fields;
        next = r.next;
        linesUsed = r.lines;
      }
      pos = next;
      if (!header) {
        const names = fields.map((f) => f.trim());
        header = {
          names,
          keys: names.map((x) => x.toLowerCase()),
          delimiter: delim,
          encoding: encoding as CsvEncoding,
          bom,
        };
        onHeader(header);
      } else {
        records++;
        onRecord(fields, ln);
      }
      ln += linesUsed;
    }
    text = pos >= n ? '' : s.slice(pos);
    line = ln;
    if (records >= nextProgress && options.onProgress) {
      options.onProgress(records, bytesRead);
      nextProgress = records + progressEvery;
    }
  };

  const stream = createReadStream(path, { highWaterMark: chunkSize });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      options.onChunk?.(chunk);
      text += decode(chunk, false);
      parse(false);
    }
    if (first) {
      throw new CsvError('SB_ERR_CSV_EMPTY', 'the file is empty; it needs a header line.', file, 1);
    }
    if (pendingBytes) text += decode(Buffer.alloc(0), true);
    parse(true);
    if (text.length > 0) {
      throw new CsvError(
        'SB_ERR_CSV_QUOTE',
        'a quoted field is never closed before the end of the file. Check this line for a stray double quote.',
        file,
        line,
      );
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SbError('SB_ERR_FILE_NOT_FOUND', `${file}: file not found. Check the path.`, { file });
    }
    throw e;
  } finally {
    stream.destroy();
  }
  if (!header) throw new CsvError('SB_ERR_CSV_EMPTY', 'the file is empty; it needs a header line.', file, 1);
  options.onProgress?.(records, bytesRead);
  return { header, records, bytes: bytesRead };
}

function countNewlines(s: string): number {
  let c = 0;
  let i = -1;
  while ((i = s.indexOf('\n', i + 1)) >= 0) c++;
  return c;
}

/**
 * Parse one record that contains a quote, starting at `pos`. Returns null when the record is
 * incomplete (more text needed) and `final` is false.
 */
function parseQuoted(
  s: string,
  pos: number,
  delim: string,
  final: boolean,
  file: string,
  ln: number,
): { fields: string[]; next: number; lines: number } | null {
  const n = s.length;
  const fields: string[] = [];
  let i = pos;
  let lines = 1;
  for (;;) {
    // Start of a field. Leading blanks before an opening quote are allowed (SIS exports write `; "x"`).
    let j = i;
    while (j < n && (s[j] === ' ' || s[j] === '\t') && s[j] !== delim) j++;
    if (j < n && s[j] === '"') {
      let k = j + 1;
      let value = '';
      for (;;) {
        const close = s.indexOf('"', k);
        if (close < 0) {
          if (!final) return null;
          throw new CsvError(
            'SB_ERR_CSV_QUOTE',
            'a quoted field is never closed before the end of the file. Check this line for a stray double quote.',
            file,
            ln,
          );
        }
        value += s.slice(k, close);
        if (close + 1 < n && s[close + 1] === '"') {
          value += '"';
          k = close + 2;
          continue;
        }
        if (close + 1 >= n && !final) return null;
        k = close + 1;
        break;
      }
      lines += countNewlines(value);
      // After the closing quote: optional blanks, then delimiter or end of record.
      while (k < n && (s[k] === ' ' || s[k] === '\t') && s[k] !== delim) k++;
      fields.push(value);
      if (k >= n) {
        if (!final) return null;
        return { fields, next: n, lines };
      }
      const c = s[k];
      if (c === delim) {
        i = k + 1;
        continue;
      }
      if (c === '\n') return { fields, next: k + 1, lines };
      if (c === '\r' && (k + 1 >= n ? final : true)) {
        if (k + 1 < n && s[k + 1] === '\n') return { fields, next: k + 2, lines };
        if (k + 1 >= n) return { fields, next: n, lines };
      }
      if (c === '\r' && k + 1 >= n && !final) return null;
      throw new CsvError(
        'SB_ERR_CSV_QUOTE',
        `unexpected text after a closing quote in field ${fields.length}; a quote inside a quoted field must be doubled ("").`,
        file,
        ln + lines - 1,
      );
    }
    // Unquoted field: up to the delimiter or end of line. A quote inside it is taken literally.
    let k = i;
    while (k < n) {
      const c = s[k];
      if (c === delim || c === '\n') break;
      k++;
    }
    if (k >= n && !final) return null;
    let end = k;
    if (end > i && s.charCodeAt(end - 1) === 13 && (k >= n || s[k] === '\n')) end--;
    fields.push(s.slice(i, end));
    if (k >= n) return { fields, next: n, lines };
    if (s[k] === '\n') return { fields, next: k + 1, lines };
    i = k + 1;
  }
}
