import { CsvError, type CsvHeader } from '../../shared/csv/read-csv.js';

/**
 * Find the contract's columns in a header: names match case-insensitively after trimming
 * (INPUT.md "Formats"); a mapping renames SIS columns onto contract names. Unknown columns are
 * ignored, which is how names such as `deelnemernaam` are never read into the dataset.
 */
export function locateColumns<K extends string>(
  header: CsvHeader,
  file: string,
  wanted: { name: K; required: boolean }[],
  renames: Partial<Record<K, string>> = {},
): Record<K, number> {
  const out = {} as Record<K, number>;
  const missing: string[] = [];
  let found = 0;
  for (const w of wanted) {
    const sisName = renames[w.name] ?? w.name;
    const key = sisName.trim().toLowerCase();
    const i = header.keys.indexOf(key);
    out[w.name] = i;
    if (i >= 0) found++;
    if (i >= 0 && header.keys.indexOf(key, i + 1) >= 0) {
      throw new CsvError(
        'SB_ERR_IMPORT_COLUMNS',
        `the header has column ${sisName} twice (columns ${i + 1} and ${header.keys.indexOf(key, i + 1) + 1});` +
          ' which one holds the data is not defined. Remove or rename one in the export.',
        file,
        header.line,
        { column: sisName },
      );
    }
    if (i < 0 && w.required) missing.push(sisName === w.name ? w.name : `${w.name} (mapped to '${sisName}')`);
  }
  if (missing.length) {
    // With none of the expected names, line 1 is data (no header line) or not this file at
    // all: its fields may be student data, so they are not echoed.
    const has =
      found === 0
        ? 'None of the expected column names is on the header line, so it is probably not a header (the ' +
          `file must start with one) or this is not the right file; its ${header.names.length} field(s) ` +
          'are not shown.'
        : `The header has: ${header.names.join(', ')}.`;
    throw new CsvError(
      'SB_ERR_IMPORT_COLUMNS',
      [
        `required column(s) missing: ${missing.join(', ')}. ${has} Rename the columns in the export or`,
        'map them in a mapping file (--mapping).',
      ].join(' '),
      file,
      header.line,
      { missing },
    );
  }
  return out;
}

/**
 * A record whose number of fields differs from the header's: shifted columns or two records
 * glued together, which must not be read silently. Extra fields that are all empty (a trailing
 * delimiter) carry nothing and pass. Returns the reason, or null.
 */
export function widthProblem(fields: string[], width: number): string | null {
  if (fields.length === width) return null;
  if (fields.length > width) {
    let extra = false;
    for (let i = width; i < fields.length && !extra; i++) extra = (fields[i] as string).trim() !== '';
    if (!extra) return null;
  }
  return [
    `the row has ${fields.length} field(s) but the header has ${width}:`,
    'a shifted column or a stray delimiter or quote. Check this line of the export.',
  ].join(' ');
}
