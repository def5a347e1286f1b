import { readFileSync } from 'node:fs';
import { SbError } from '../../shared/errors/sb-error.js';
import { MappingFile } from '../../schemas/mapping-file.js';
import { formatZodIssues } from '../../shared/errors/zod-issues.js';

export type { MappingFile };

/** The canonical status codes of INPUT.md, as small integers for the hot path. */
export const STATUS = {
  present: 0,
  late: 1,
  absent_authorized: 2,
  absent_unauthorized: 3,
  not_applicable: 4,
  unregistered: 5,
} as const;
export type StatusCode = (typeof STATUS)[keyof typeof STATUS];

/** Read and validate a mapping file; errors name the file and the field. */
export function readMappingFile(path: string): MappingFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT')
      throw new SbError('SB_ERR_FILE_NOT_FOUND', `${path}: mapping file not found. Check the path.`, { file: path });
    throw new SbError('SB_ERR_MAPPING_INVALID', `${path}: not valid JSON (${err.message}).`, { file: path });
  }
  const r = MappingFile.safeParse(raw);
  if (!r.success) {
    const issues = formatZodIssues(r.error.issues, { prefix: '  ', separator: '\n' });
    throw new SbError(
      'SB_ERR_MAPPING_INVALID',
      `${path}: the mapping file is not valid:\n${issues}\nSee node/mappings/README.md for the format.`,
      { file: path },
    );
  }
  return r.data;
}

/**
 * Resolves a status from the values of the mapping's `from` columns. Keys are matched
 * case-insensitively; '*' matches any part; the key with the fewest wildcards wins. Results are
 * cached per distinct combination (an export has only a handful).
 */
export class StatusResolver {
  private readonly exact = new Map<string, StatusCode>();
  private readonly patterns: { parts: (string | null)[]; code: StatusCode; wild: number }[] = [];
  private readonly cache = new Map<string, StatusCode | null>();

  constructor(
    codes: Record<string, keyof typeof STATUS>,
    readonly width: number,
  ) {
    for (const [key, status] of Object.entries(codes)) {
      const parts = key.split('|').map((p) => p.trim().toLowerCase());
      while (parts.length < width) parts.push('');
      const code = STATUS[status];
      if (parts.includes('*')) {
        const ps = parts.map((p) => (p === '*' ? null : p));
        this.patterns.push({ parts: ps, code, wild: ps.filter((p) => p === null).length });
      } else {
        this.exact.set(parts.join('|'), code);
      }
    }
    this.patterns.sort((a, b) => a.wild - b.wild);
  }

  resolve(values: string[]): StatusCode | null {
    const key = values.join('|').toLowerCase();
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    let code: StatusCode | null = this.exact.get(key) ?? null;
    if (code === null) {
      const lower = values.map((v) => v.toLowerCase());
      for (const p of this.patterns) {
        if (p.parts.every((x, i) => x === null || x === lower[i])) {
          code = p.code;
          break;
        }
      }
    }
    if (this.cache.size < 10_000) this.cache.set(key, code);
    return code;
  }
}
