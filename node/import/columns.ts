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
  for (const w of wanted) {
    const sisName = renames[w.name] ?? w.name;
    const i = header.keys.indexOf(sisName.trim().toLowerCase());
    out[w.name] = i;
    if (i < 0 && w.required) missing.push(sisName === w.name ? w.name : `${w.name} (mapped to '${sisName}')`);
  }
  if (missing.length) {
    throw new CsvError(
      'SB_ERR_IMPORT_COLUMNS',
      `required column(s) missing: ${missing.join(', ')}. The header has: ${header.names.join(', ')}. Rename the columns in the export or map them in a mapping file (--mapping).`,
      file,
      1,
      { missing },
    );
  }
  return out;
}
