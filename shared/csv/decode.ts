import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import iconv from 'iconv-lite';
import { CsvError } from './csv-error.js';

export type CsvEncoding = 'utf-8' | 'windows-1252';

/** Bytes read up front to detect the encoding, whatever the chunk size. */
const PROBE_BYTES = 1 << 20;

/**
 * Turns the file's chunks into text (INPUT.md "Formats"): a UTF-8 BOM is dropped; UTF-16, with
 * or without BOM, and other files with NUL bytes are refused as an encoding problem (they are
 * never valid CSV in either accepted encoding); otherwise the given encoding, or in `auto` valid
 * UTF-8 in the first MiB means UTF-8 and anything else Windows-1252. UTF-8 is validated chunk by
 * chunk and an invalid one is refused naming its line.
 */
export class ChunkDecoder {
  encoding: CsvEncoding | undefined;
  bom = false;
  private first = true;
  private pending: Buffer | null = null;

  constructor(
    private readonly path: string,
    private readonly file: string,
    private readonly given: CsvEncoding | 'auto' | undefined,
  ) {
    this.encoding = given === 'auto' ? undefined : given;
  }

  /** True until the first chunk was seen (an empty file). */
  get empty(): boolean {
    return this.first;
  }

  /** Decode one chunk; `lineAt` gives the physical line the chunk starts on (for errors). */
  decode(chunk: Buffer, final: boolean, lineAt: () => number): string {
    if (this.first) chunk = this.start(chunk);
    if (this.encoding === 'windows-1252') return iconv.decode(chunk, 'win1252');
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    if (!final) {
      const cut = utf8CompletePrefix(buf);
      if (cut < buf.length) {
        this.pending = Buffer.from(buf.subarray(cut));
        buf = buf.subarray(0, cut);
      }
    }
    if (!isUtf8(buf)) {
      throw new CsvError(
        'SB_ERR_CSV_ENCODING',
        `the file is not valid UTF-8 here, though ${this.given === 'utf-8' ? 'UTF-8 was given' : 'its start was'}. ` +
          'If it is a Windows-1252 (Excel) export, import it again with --encoding windows-1252.',
        this.file,
        lineAt() + firstInvalidUtf8Line(buf) - 1,
      );
    }
    return buf.toString('utf8');
  }

  /**
   * Decode from the middle of a file whose start another decoder has checked (parallel import):
   * the encoding must have been given; the start-of-file checks (BOM, UTF-16, NUL bytes in the
   * first 64 KiB) are not applied to this reader's first chunk.
   */
  resumeAfterStart(): void {
    if (!this.encoding) throw new Error('resumeAfterStart needs the encoding of the file');
    this.first = false;
  }

  /** Bytes held back at a chunk boundary (an incomplete UTF-8 character). */
  get hasPending(): boolean {
    return this.pending !== null;
  }

  private start(chunk: Buffer): Buffer {
    this.first = false;
    if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
      this.bom = true;
      if (this.encoding === 'windows-1252') {
        throw new CsvError(
          'SB_ERR_CSV_ENCODING',
          'the file starts with a UTF-8 byte-order mark but --encoding windows-1252 was given; omit --encoding or pass utf-8.',
          this.file,
          1,
        );
      }
      this.encoding = 'utf-8';
      chunk = chunk.subarray(3);
    }
    const nul = nulLayout(chunk.subarray(0, Math.min(chunk.length, 64 * 1024)));
    if (nul) {
      const utf16 = nul === 'utf-16le' || nul === 'utf-16be';
      throw new CsvError(
        'SB_ERR_CSV_ENCODING',
        utf16
          ? `the file is UTF-16 (${nul === 'utf-16le' ? 'little' : 'big'}-endian` +
              `${chunk[0] === 0xff || chunk[0] === 0xfe ? '' : ', without byte-order mark'}),` +
              ' which is not supported; save it from Excel as "CSV UTF-8" or "CSV (gescheiden door lijstscheidingsteken)".'
          : 'the file contains NUL bytes, so it is not a text (CSV) file in UTF-8 or Windows-1252. Check that this is the right file; export it again as CSV.',
        this.file,
        utf16 ? 1 : lineOfByte(chunk, chunk.indexOf(0)),
      );
    }
    if (!this.encoding) this.encoding = probeEncoding(this.path) ?? 'utf-8';
    return chunk;
  }
}

/**
 * Where the NUL bytes of the file's start are: UTF-16 text (BOM or not) has a NUL in every
 * other byte for ASCII; any NUL at all rules out CSV in UTF-8 or Windows-1252.
 */
function nulLayout(buf: Buffer): 'utf-16le' | 'utf-16be' | 'binary' | null {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return 'utf-16le';
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return 'utf-16be';
  if (buf.indexOf(0) < 0) return null;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      if (i & 1) odd++;
      else even++;
    }
  }
  const half = buf.length / 2;
  if (odd > half * 0.6 && even < half * 0.1) return 'utf-16le';
  if (even > half * 0.6 && odd < half * 0.1) return 'utf-16be';
  return 'binary';
}

/** Auto-detection: valid UTF-8 in the first MiB means UTF-8, else Windows-1252. */
function probeEncoding(path: string): CsvEncoding | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // reported by the stream
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

/** Line (1-based) of byte `at` in `buf`; CR, LF and CRLF end lines. */
function lineOfByte(buf: Buffer, at: number): number {
  let line = 1;
  for (let i = 0; i < at; i++) {
    const b = buf[i];
    if (b === 0x0a || (b === 0x0d && buf[i + 1] !== 0x0a)) line++;
  }
  return line;
}

/** Line (1-based, relative) of the first invalid UTF-8 line in `buf`; CR, LF and CRLF end lines. */
function firstInvalidUtf8Line(buf: Buffer): number {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= buf.length; i++) {
    const b = buf[i];
    if (i < buf.length && b !== 0x0a && b !== 0x0d) continue;
    if (!isUtf8(buf.subarray(start, i))) return line;
    if (b === 0x0d && buf[i + 1] === 0x0a) i++;
    line++;
    start = i + 1;
  }
  return line;
}
