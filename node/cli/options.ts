import { writeFileSync } from 'node:fs';
import { SbError } from '../../shared/errors/sb-error.js';

/**
 * Parse a whole-number option (`--max-errors`, `--year`); refuses anything else with a coded
 * usage error that quotes the value (options never hold student data).
 *
 * @throws SbError `SB_ERR_USAGE`
 */
export function intOption(name: string, value: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new SbError('SB_ERR_USAGE', `${name} must be a whole number ${range}, not '${value}'.`, { option: name });
  }
  return n;
}

/**
 * Parse `--year S`, the first calendar year of studiejaar S (2024 for 2024-2025). A two-digit
 * year is refused rather than guessed (issue 13: `--year 24` gave a RangeError).
 *
 * @throws SbError `SB_ERR_USAGE`
 */
export function yearOption(value: string): number {
  if (!/^\s*\d{4}\s*$/.test(value)) {
    throw new SbError(
      'SB_ERR_USAGE',
      `--year must be the four-digit first year of the studiejaar (2024 for 2024-2025), not '${value}'.`,
      { option: '--year' },
    );
  }
  return intOption('--year', value, 2000, 2099);
}

/** Write to `out` when given, else to stdout. */
export function writeOutput(out: string | undefined, text: string): void {
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}
