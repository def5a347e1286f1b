import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Check } from './report.js';

/** The oldest Node.js sectorbench runs on (package.json `engines`, DECISIONS: Node 20.19+). */
export const MIN_NODE = [20, 19] as const;

/**
 * sectorbench's own version, read from the package.json of the checkout or installation this
 * module belongs to (found by walking up from this file, so it works from the sources and
 * from `dist/`).
 */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sectorbench') return pkg.version ?? 'unknown';
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

/**
 * The versions check: Node.js runtime (FAIL below {@link MIN_NODE}), sectorbench, and the
 * database schema version against the one this code knows (`found` from `PRAGMA user_version`;
 * null when the database could not be read, which the database check reports).
 */
export function versionsCheck(
  schema: { found: number | null; known: number },
  runtime: string = process.versions.node,
): Check {
  const [major = 0, minor = 0] = runtime.split('.').map(Number);
  const tooOld = major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1]);
  const base = `Node.js ${runtime}, sectorbench ${packageVersion()}`;
  if (tooOld)
    return {
      name: 'versions',
      status: 'FAIL',
      detail: `${base}: Node.js ${MIN_NODE.join('.')} or newer is needed; install a newer Node.js (Debian: nodejs from NodeSource or the backports).`,
    };
  const { found, known } = schema;
  if (found === null)
    return { name: 'versions', status: 'OK', detail: `${base}; schema version unknown (see database).` };
  if (found > known)
    return {
      name: 'versions',
      status: 'FAIL',
      detail:
        `${base}: the database has schema version ${found}, this sectorbench knows ${known}; install ` +
        'the sectorbench that wrote it (or newer), or restore a backup made by this version.',
    };
  if (found < known)
    return {
      name: 'versions',
      status: 'WARN',
      detail:
        `${base}: schema version ${found}, this sectorbench migrates it to ${known} the next time a ` +
        'command opens it for writing; make a backup first (docs/OPERATIONS.md "Migrations").',
    };
  return { name: 'versions', status: 'OK', detail: `${base}, schema version ${found} (current).` };
}

/**
 * A secret file (identity key, TLS key, sealed key): present, a regular file, and readable by
 * its owner only (no group or other bits, i.e. 0600 or 0400). Returns null when it is fine, else
 * the problem as a sentence with the fix.
 */
export function secretFileProblem(path: string, what: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st)
    return `${what} ${path} is missing; restore it from the backup of the keys (it cannot be recreated: a new key means enrolling again).`;
  if (!st.isFile()) return `${what} ${path} is not a regular file.`;
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0)
    return (
      `${what} ${path} has mode ${mode.toString(8).padStart(4, '0')}: group or others can read it;` +
      ` run 'chmod 600 ${path}' and find out who read it (a key others could read must be treated ` +
      'as leaked).'
    );
  if (typeof process.getuid === 'function' && st.uid !== process.getuid())
    return `${what} ${path} belongs to uid ${st.uid}, not to this user (uid ${process.getuid()}); run the service as the user that owns its home, or chown it.`;
  return null;
}

/** A public file the role needs (a `.pub`, a certificate): present and a regular file. */
export function publicFileProblem(path: string, what: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return `${what} ${path} is missing.`;
  if (!st.isFile()) return `${what} ${path} is not a regular file.`;
  return null;
}

/**
 * A folder that holds data others may not read (the node's home holds student-level data):
 * no group or other access. Returns null when it is fine.
 */
export function privateFolderProblem(path: string, what: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return `${what} ${path} is not a folder.`;
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0)
    return `${what} ${path} has mode ${mode.toString(8).padStart(4, '0')}: group or others can enter it; run 'chmod 700 ${path}'.`;
  return null;
}

/** Thresholds of {@link diskCheck}, in bytes. */
export interface DiskThresholds {
  /** FAIL below this much free space (default 256 MiB, or twice the database, whichever is more). */
  failBelow?: number;
  /** WARN below this much free space (default 2 GiB, or five times the database, whichever is more). */
  warnBelow?: number;
}

/** Free space in bytes for this user on the file system holding `path` (statfs `bavail`). */
export function freeBytes(path: string): number {
  const s = statfsSync(path);
  return Number(s.bavail) * Number(s.bsize);
}

function mib(n: number): string {
  return n >= 10 * 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(0)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;
}

/**
 * Free disk space on the home's file system against the database size: a backup needs about one
 * database more, SQLite's WAL and a restore another, an import of a new dataset writes it anew.
 */
export function diskCheck(home: string, databaseBytes: number, t: DiskThresholds = {}, free = freeBytes(home)): Check {
  const failBelow = t.failBelow ?? Math.max(256 * 1024 ** 2, 2 * databaseBytes);
  const warnBelow = t.warnBelow ?? Math.max(2 * 1024 ** 3, 5 * databaseBytes);
  const base = `${mib(free)} free on the file system of ${home}; database ${mib(databaseBytes)}`;
  if (free < failBelow)
    return {
      name: 'disk',
      status: 'FAIL',
      detail: `${base}: below ${mib(failBelow)}, writes (receipts, imports, backups) may fail; free space or move the home.`,
    };
  if (free < warnBelow)
    return {
      name: 'disk',
      status: 'WARN',
      detail: `${base}: below ${mib(warnBelow)}; free space before the next round.`,
    };
  return { name: 'disk', status: 'OK', detail: `${base}.` };
}

/** Size in bytes of a database with its WAL (0 when missing). */
export function databaseBytes(file: string): number {
  let n = 0;
  for (const f of [file, `${file}-wal`]) n += statSync(f, { throwIfNoEntry: false })?.size ?? 0;
  return n;
}
