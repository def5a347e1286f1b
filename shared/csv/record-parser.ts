import { CsvError } from './csv-error.js';

/** Delimiters INPUT.md allows, in order of preference on a tie. */
export const DELIMITERS = [',', ';', '|', '\t'];
/** A record longer than this is taken as a runaway quote rather than data. */
const MAX_RECORD_CHARS = 1 << 20;

/** What the parser found on the header line. */
export interface ParsedHeader {
  names: string[];
  delimiter: string;
  /** Physical line of the header (2 after an Excel `sep=` line). */
  line: number;
  /** The delimiter came from an Excel `sep=` first line. */
  sepLine: boolean;
}

/** Something the parser accepted but a person should know (e.g. a quoted field over lines). */
export interface CsvWarning {
  file: string;
  line: number;
  message: string;
}

/**
 * How a quoted field that spans lines and holds what parses as whole records is treated
 * (issue 13: a stray quote in a remark swallowed the records up to the next quote, silently).
 * `refuse` (default) throws naming the line where the quote opens; `warn` accepts the field as
 * one value and reports a {@link CsvWarning}; quoted line breaks in ordinary text are always
 * accepted (RFC 4180).
 */
export type MultilineQuotes = 'refuse' | 'warn';

export interface ParserEvents {
  onHeader: (h: ParsedHeader) => void;
  onRecord: (fields: string[], line: number) => void;
  onWarning?: (w: CsvWarning) => void;
}

/** Excel's first line naming the delimiter (`sep=;`), possibly followed by more delimiters. */
const SEP_LINE = /^sep=(.)\s*$/i;

/**
 * Splits decoded text into records (RFC 4180 quoting). Every kind of line end ends a line: LF,
 * CRLF and a lone CR (Excel for Mac "CSV (Macintosh)"), also mixed in one file. Leading blank
 * lines are skipped; an Excel `sep=X` first line names the delimiter, else it is detected from
 * the header line. Blank lines between records are skipped; line numbers are physical lines as
 * an editor shows them.
 */
export class RecordParser {
  /** Undecoded remainder: the start of an incomplete record. */
  private text = '';
  /** Physical line at the start of `text`. */
  private line = 1;
  private delim = '';
  private header: ParsedHeader | undefined;
  private headerWidth = 0;
  private sepSeen = false;
  records = 0;

  constructor(
    private readonly file: string,
    private readonly multiline: MultilineQuotes,
    private readonly events: ParserEvents,
  ) {}

  /** The physical line just after the text parsed or held so far (for decoding errors). */
  lineAtEnd(): number {
    return this.line + countLineBreaks(this.text);
  }

  get hasHeader(): boolean {
    return this.header !== undefined;
  }

  /** True when text is held back: the start of a record not complete yet. */
  get pending(): boolean {
    return this.text.length > 0;
  }

  /**
   * Continue in the middle of a file (parallel import): the header was read elsewhere, with
   * this delimiter and this many columns; the next text starts a record on physical line `line`.
   */
  resume(delimiter: string, headerWidth: number, line: number): void {
    this.delim = delimiter;
    this.header = { names: [], delimiter, line: 0, sepLine: false };
    this.headerWidth = headerWidth;
    this.line = line;
  }

  /** Append decoded text and parse the complete records in it. */
  push(text: string, final: boolean): void {
    this.text += text;
    this.parse(final);
    if (final && this.text.length > 0) {
      throw new CsvError(
        'SB_ERR_CSV_QUOTE',
        'a quoted field opens on this line and is never closed before the end of the file. Check this line for a stray double quote.',
        this.file,
        this.line,
      );
    }
  }

  private parse(final: boolean): void {
    const s = this.text;
    const n = s.length;
    let pos = 0;
    let ln = this.line;
    // Cached positions of the next quote, LF and CR at or after pos (-1: none in this text;
    // -2: not searched yet). Searching anew per record would rescan the chunk in quote-free files.
    let q = -2;
    let lf = -2;
    let cr = -2;
    while (pos < n) {
      if (q !== -1 && q < pos) q = s.indexOf('"', pos);
      if (lf !== -1 && lf < pos) lf = s.indexOf('\n', pos);
      if (cr !== -1 && cr < pos) cr = s.indexOf('\r', pos);
      let lineEnd: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        if (cr + 1 >= n && !final) break; // a CRLF may be split over two chunks
        lineEnd = cr;
        next = s.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      } else if (lf >= 0) {
        lineEnd = lf;
        next = lf + 1;
      } else {
        if (!final) break;
        lineEnd = n;
        next = n;
      }
      if (!this.header && this.preamble(s.slice(pos, lineEnd), ln)) {
        pos = next;
        ln++;
        continue;
      }
      let fields: string[];
      let linesUsed = 1;
      if (q < 0 || q >= lineEnd) {
        // Fast path: no quote on this line.
        if (lineEnd === pos) {
          pos = next;
          ln++;
          continue; // blank line
        }
        fields = s.slice(pos, lineEnd).split(this.delim);
      } else {
        const r = parseQuoted(s, pos, this.delim, final, this.file, ln);
        if (!r) {
          if (n - pos > MAX_RECORD_CHARS) {
            throw new CsvError(
              'SB_ERR_CSV_QUOTE',
              'a quoted field opens on this line and is not closed within 1 MiB. Check this line for a stray double quote.',
              this.file,
              ln,
            );
          }
          break; // incomplete record: wait for more text
        }
        fields = r.fields;
        next = r.next;
        linesUsed = r.lines;
        if (linesUsed > 1 && this.header) this.checkSpan(r.spanning, ln, linesUsed);
      }
      pos = next;
      if (!this.header) this.setHeader(fields, ln);
      else {
        this.records++;
        this.events.onRecord(fields, ln);
      }
      ln += linesUsed;
    }
    this.text = pos >= n ? '' : s.slice(pos);
    this.line = ln;
  }

  /**
   * Lines before the header: blank lines are skipped and an Excel `sep=X` line fixes the
   * delimiter (returns true: consumed). Otherwise the delimiter is detected on this line.
   */
  private preamble(text: string, ln: number): boolean {
    if (text.trim() === '') return true;
    const sep = this.delim ? null : SEP_LINE.exec(text);
    if (sep) {
      const d = sep[1] as string;
      if (!DELIMITERS.includes(d)) {
        throw new CsvError(
          'SB_ERR_CSV_DELIMITER',
          `the first line names the delimiter '${d}' (sep=), which is not one of , ; | or tab. Export the file again with one of those.`,
          this.file,
          ln,
        );
      }
      this.delim = d;
      this.sepSeen = true;
      return true;
    }
    if (!this.delim) this.delim = detectDelimiter(text, this.file, ln);
    return false;
  }

  private setHeader(fields: string[], ln: number): void {
    this.header = {
      names: fields.map((f) => f.trim()),
      delimiter: this.delim,
      line: ln,
      sepLine: this.sepSeen,
    };
    this.headerWidth = fields.length;
    this.events.onHeader(this.header);
  }

  /** A quoted field over several lines whose lines parse as whole records: refuse or warn. */
  private checkSpan(spanning: string[], ln: number, lines: number): void {
    if (this.headerWidth < 2) return;
    let swallowed = 0;
    for (const part of spanning) if (countChar(part, this.delim) >= this.headerWidth - 1) swallowed++;
    if (swallowed === 0) return;
    const what = `a quoted field opens on this line and runs to line ${ln + lines - 1}; ${swallowed} of the lines inside it look like whole records`;
    if (this.multiline === 'warn') {
      this.events.onWarning?.({
        file: this.file,
        line: ln,
        message: `${what}; they were read as one value of this record (--multiline-quotes warn).`,
      });
      return;
    }
    throw new CsvError(
      'SB_ERR_CSV_QUOTE_SPAN',
      `${what}, so they would be swallowed. A stray double quote? Remove or double it ("") in the ` +
        'export and import again; if the field really holds those lines, pass --multiline-quotes warn.',
      this.file,
      ln,
      { through: ln + lines - 1 },
    );
  }
}

/** Pick the delimiter that occurs most often outside quotes on the header line. */
function detectDelimiter(headerLine: string, file: string, ln: number): string {
  let best = '';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    let count = 0;
    let inQ = false;
    for (let i = 0; i < headerLine.length; i++) {
      const c = headerLine[i];
      if (c === '"') inQ = !inQ;
      else if (!inQ && c === d) count++;
    }
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  if (!best) {
    throw new CsvError(
      'SB_ERR_CSV_DELIMITER',
      'cannot detect the delimiter: the header line contains none of , ; | or tab. Check that this is the right file and that it starts with its header line.',
      file,
      ln,
    );
  }
  return best;
}

function countChar(s: string, c: string): number {
  let k = 0;
  for (let i = s.indexOf(c); i >= 0; i = s.indexOf(c, i + 1)) k++;
  return k;
}

/** Line breaks in `s`: LF, CRLF and a lone CR each count once. */
export function countLineBreaks(s: string): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) k++;
    else if (c === 13) {
      k++;
      if (s.charCodeAt(i + 1) === 10) i++;
    }
  }
  return k;
}

interface QuotedRecord {
  fields: string[];
  next: number;
  lines: number;
  /** The lines after the first of every quoted field that spans lines. */
  spanning: string[];
}

/**
 * Parse one record that contains a quote, starting at `pos`. Returns null when the record is
 * incomplete (more text needed) and `final` is false.
 *
 * Left as one function (issue 9): it is the per-character loop of every quoted CSV record, and
 * its state (position, field start, open quote, line count) would otherwise cross calls.
 */
function parseQuoted(
  s: string,
  pos: number,
  delim: string,
  final: boolean,
  file: string,
  ln: number,
): QuotedRecord | null {
  const n = s.length;
  const fields: string[] = [];
  const spanning: string[] = [];
  let i = pos;
  let lines = 1;
  /** End of record at a line end at k (LF, CRLF or CR); null when a CRLF may be split. */
  const endAt = (k: number): QuotedRecord | null => {
    if (s.charCodeAt(k) === 10) return { fields, next: k + 1, lines, spanning };
    if (k + 1 >= n && !final) return null;
    return { fields, next: s.charCodeAt(k + 1) === 10 ? k + 2 : k + 1, lines, spanning };
  };
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
            'a quoted field opens on this line and is never closed before the end of the file. Check this line for a stray double quote.',
            file,
            ln + lines - 1,
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
      const breaks = countLineBreaks(value);
      if (breaks > 0) {
        lines += breaks;
        spanning.push(...value.split(/\r\n|\r|\n/).slice(1));
      }
      // After the closing quote: optional blanks, then delimiter or end of record.
      while (k < n && (s[k] === ' ' || s[k] === '\t') && s[k] !== delim) k++;
      fields.push(value);
      if (k >= n) {
        if (!final) return null;
        return { fields, next: n, lines, spanning };
      }
      const c = s[k];
      if (c === delim) {
        i = k + 1;
        continue;
      }
      if (c === '\n' || c === '\r') return endAt(k);
      throw new CsvError(
        'SB_ERR_CSV_QUOTE',
        `unexpected text after a closing quote in field ${fields.length}; a quote inside a quoted field must be doubled ("").`,
        file,
        ln + lines - 1,
      );
    }
    // Unquoted field: up to the delimiter or the end of the line. A quote inside it is literal.
    let k = i;
    while (k < n) {
      const c = s[k];
      if (c === delim || c === '\n' || c === '\r') break;
      k++;
    }
    if (k >= n && !final) return null;
    fields.push(s.slice(i, k));
    if (k >= n) return { fields, next: n, lines, spanning };
    if (s[k] !== delim) return endAt(k);
    i = k + 1;
  }
}
