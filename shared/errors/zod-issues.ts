/**
 * The one formatter of zod validation issues for error messages: `path: message` per issue,
 * the path dotted (`pinned.coordinator.url`, array indices as numbers), an empty path as `(root)`.
 */

/** What the formatter needs of a zod issue (zod 4's `$ZodIssue` has both fields). */
export interface ZodIssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Options of {@link formatZodIssues}. */
export interface FormatZodIssuesOptions {
  /** At most this many issues (default all). */
  limit?: number;
  /** Between issues; default `'; '`. */
  separator?: string;
  /** Before each issue, e.g. an indent for one issue per line; default none. */
  prefix?: string;
}

/**
 * Render zod issues as text for an `SbError` message. Issue messages are zod's own (they name the
 * expected type or value, never echo the input), so the text is safe to print.
 */
export function formatZodIssues(issues: readonly ZodIssueLike[], options: FormatZodIssuesOptions = {}): string {
  const { limit = issues.length, separator = '; ', prefix = '' } = options;
  return issues
    .slice(0, limit)
    .map((i) => `${prefix}${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join(separator);
}
