import { readCsv, CsvError, type CsvReadOptions } from '../csv/read-csv.js';
import { buildCodebook, type Codebook, type CodebookEntry } from './codebook.js';

const COLUMNS = ['crebo', 'name', 'niveau', 'sectorkamer_code', 'sectorkamer_name'] as const;

/**
 * Read a round's codebook file (`crebo, name, niveau, sectorkamer_code, sectorkamer_name`).
 * @see ../../../shared/spec/INPUT.md "Codebook"
 */
export async function readCodebookFile(path: string, options: CsvReadOptions = {}): Promise<Codebook> {
  const file = options.displayName ?? path;
  const entries: CodebookEntry[] = [];
  const seen = new Map<string, number>();
  let idx: number[] = [];
  await readCsv(
    path,
    (h) => {
      idx = COLUMNS.map((c) => h.keys.indexOf(c));
      const missing = COLUMNS.filter((_, i) => idx[i] === -1);
      if (missing.length) {
        throw new CsvError(
          'SB_ERR_CODEBOOK_COLUMNS',
          `the codebook lacks column(s) ${missing.join(', ')}; it needs ${COLUMNS.join(', ')}.`,
          file,
          1,
        );
      }
    },
    (f, line) => {
      const get = (i: number) => (f[idx[i] as number] ?? '').trim();
      const crebo = get(0);
      if (!/^\d{5}$/.test(crebo))
        throw new CsvError(
          'SB_ERR_CODEBOOK_VALUE',
          `column crebo: '${crebo}' is not a 5-digit crebo code.`,
          file,
          line,
          { column: 'crebo' },
        );
      const niveau = Number(get(2));
      if (!['1', '2', '3', '4'].includes(get(2)))
        throw new CsvError('SB_ERR_CODEBOOK_VALUE', `column niveau: '${get(2)}' is not 1, 2, 3 or 4.`, file, line, {
          column: 'niveau',
        });
      const code = get(3);
      if (!code)
        throw new CsvError('SB_ERR_CODEBOOK_VALUE', 'column sectorkamer_code is empty.', file, line, {
          column: 'sectorkamer_code',
        });
      const prev = seen.get(crebo);
      if (prev !== undefined)
        throw new CsvError(
          'SB_ERR_CODEBOOK_VALUE',
          `column crebo: ${crebo} appears again (first on line ${prev}); a crebo appears once.`,
          file,
          line,
          { column: 'crebo' },
        );
      seen.set(crebo, line);
      entries.push({
        crebo,
        name: get(1),
        niveau: niveau as 1 | 2 | 3 | 4,
        sectorkamerCode: code,
        sectorkamerName: get(4),
      });
    },
    options,
  );
  return buildCodebook(entries);
}
