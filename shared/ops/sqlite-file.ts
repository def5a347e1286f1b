import { closeSync, copyFileSync, chmodSync, existsSync, fsyncSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SbError, errorMessage } from '../errors/sb-error.js';
import { makeDir } from '../fs/make-dir.js';
import type { Check } from './report.js';
import { type Clock, systemClock } from '../time/clock.js';

/**
 * The part of a better-sqlite3 `Database` the operations code uses. `shared/` does not import
 * SQLite (guide: layout), so each role passes an {@link OpenSqlite} that opens its files with
 * better-sqlite3 (the database seam: a handle or an opener, never a global).
 */
export interface SqliteHandle {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  /** The SQLite online backup API (better-sqlite3 `Database#backup`). */
  backup(destination: string): Promise<unknown>;
  close(): unknown;
}

/**
 * Opens a database file that must exist. `readonly` for inspection and backup; read-write only
 * for the restore's in-use probe. Must not migrate, and must not wait for locks (busy timeout 0).
 */
export type OpenSqlite = (file: string, options: { readonly: boolean }) => SqliteHandle;

/** What {@link inspectDatabase} found in a database file. */
export interface DatabaseInspection {
  file: string;
  /** `PRAGMA user_version`: how many schema migrations ran (null when unreadable). */
  version: number | null;
  /** `PRAGMA quick_check` rows: `['ok']` when sound. */
  quickCheck: string[];
  /** `PRAGMA integrity_check` rows (at most 20): `['ok']` when sound. */
  integrityCheck: string[];
  /** Why the file could not be read at all (SQLite's code and message), if so. */
  error?: string;
}

function rows(v: unknown): string[] {
  return (Array.isArray(v) ? v : []).map((r) => String(Object.values(r as Record<string, unknown>)[0]));
}

/**
 * Read a database file's schema version and run SQLite's `quick_check` and `integrity_check`
 * on it, read-only (nothing is migrated or written).
 * @see https://www.sqlite.org/pragma.html#pragma_integrity_check
 */
export function inspectDatabase(file: string, open: OpenSqlite): DatabaseInspection {
  let db: SqliteHandle | undefined;
  try {
    db = open(file, { readonly: true });
    const version = Number(db.pragma('user_version', { simple: true }));
    const quickCheck = rows(db.pragma('quick_check'));
    const integrityCheck = rows(db.pragma('integrity_check(20)'));
    return { file, version, quickCheck, integrityCheck };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return {
      file,
      version: null,
      quickCheck: [],
      integrityCheck: [],
      error: `${typeof code === 'string' ? `${code}: ` : ''}${errorMessage(e)}`,
    };
  } finally {
    db?.close();
  }
}

/** True when the inspection found a sound database of a schema version in 1..known. */
export function isSound(i: DatabaseInspection, known: number): boolean {
  return (
    !i.error &&
    i.quickCheck.join() === 'ok' &&
    i.integrityCheck.join() === 'ok' &&
    i.version !== null &&
    i.version >= 1 &&
    i.version <= known
  );
}

/**
 * The database check of `doctor`: present, readable, `quick_check` and `integrity_check` both
 * `ok`, and a sectorbench schema (user_version at least 1).
 */
export function databaseCheck(i: DatabaseInspection, restoreHint: string): Check {
  if (!existsSync(i.file)) return { name: 'database', status: 'FAIL', detail: `${i.file} is missing. ${restoreHint}` };
  if (i.error)
    return {
      name: 'database',
      status: 'FAIL',
      detail: `${i.file} cannot be read (${i.error}). ${restoreHint}`,
    };
  const bad = [...new Set([...i.quickCheck, ...i.integrityCheck].filter((r) => r !== 'ok'))];
  if (bad.length)
    return {
      name: 'database',
      status: 'FAIL',
      detail:
        `${i.file} is damaged: integrity_check says ${bad.slice(0, 3).join('; ')}${bad.length > 3 ? ` (and ${bad.length - 3} more)` : ''}. ` +
        `${restoreHint}`,
    };
  if (!i.version)
    return {
      name: 'database',
      status: 'FAIL',
      detail: `${i.file} holds no sectorbench schema (user_version 0). Check --home.`,
    };
  return { name: 'database', status: 'OK', detail: `${i.file}: quick_check and integrity_check ok.` };
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** What {@link backupDatabase} wrote. */
export interface BackupResult {
  file: string;
  bytes: number;
  version: number;
}

/**
 * Online backup of a live database with SQLite's backup API (better-sqlite3 `backup`): a
 * consistent copy while the service keeps reading and writing. Written to a temporary name,
 * made 0600 (a node's database holds student-level data), checked with `integrity_check`, then
 * renamed to `out`, so `out` is either absent or a sound backup.
 *
 * @throws SbError `SB_ERR_EXISTS` when `out` exists, `SB_ERR_DB_UNREADABLE` when the live
 *   database cannot be read, `SB_ERR_BACKUP_INVALID` when the copy does not check out
 * @see https://www.sqlite.org/backup.html
 */
export async function backupDatabase(o: {
  live: string;
  out: string;
  open: OpenSqlite;
  /** The schema version this code knows. */
  known: number;
}): Promise<BackupResult> {
  const out = resolve(o.out);
  if (existsSync(out))
    throw new SbError('SB_ERR_EXISTS', `${out} exists already; give a new file name for the backup.`, { file: out });
  if (!existsSync(o.live))
    throw new SbError('SB_ERR_DB_UNREADABLE', `${o.live} does not exist: nothing to back up. Check --home.`, {
      file: o.live,
    });
  // A backup folder is made private: a node's backup holds student-level data.
  makeDir(dirname(out), 0o700, 'the backup folder');
  const tmp = `${out}.partial-${process.pid}`;
  let db: SqliteHandle | undefined;
  try {
    db = o.open(o.live, { readonly: true });
    await db.backup(tmp);
  } catch (e) {
    throw new SbError(
      'SB_ERR_DB_UNREADABLE',
      `cannot back up ${o.live}: ${errorMessage(e)}. Run 'doctor' on this home.`,
      { file: o.live },
      { cause: e },
    );
  } finally {
    db?.close();
  }
  chmodSync(tmp, 0o600);
  // The copy keeps the live database's WAL mode; a backup is one self-contained file, so it is
  // switched to a rollback journal (reading it then leaves no -wal/-shm files beside it).
  const copy = o.open(tmp, { readonly: false });
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  const i = inspectDatabase(tmp, o.open);
  if (!isSound(i, o.known)) {
    throw new SbError(
      'SB_ERR_BACKUP_INVALID',
      `the backup of ${o.live} did not pass integrity_check (${i.error ?? [...i.quickCheck, ...i.integrityCheck].join('; ')});` +
        ` the live database may be damaged: run 'doctor' on this home. The partial copy is ${tmp}.`,
      { file: tmp },
    );
  }
  fsyncPath(tmp);
  renameSync(tmp, out);
  fsyncPath(dirname(out));
  return { file: out, bytes: statSync(out).size, version: i.version as number };
}

/** What {@link restoreDatabase} did. */
export interface RestoreResult {
  /** The restored database. */
  file: string;
  /** Where the database it replaced was kept (null when there was none). */
  keptAs: string | null;
  /** Schema version of the backup (migrated to the current one on the next write). */
  version: number;
}

/**
 * Is another connection (a running service, another command, a DB browser) using the database?
 * Switching a WAL database out of WAL needs it to be the only connection, so the probe asks for
 * `journal_mode=DELETE` without waiting: refused or still `wal` means in use. When it is free the
 * file is left in rollback-journal mode (it is about to be kept aside; sectorbench sets WAL again
 * whenever it opens one).
 */
function inUse(file: string, open: OpenSqlite): boolean {
  let db: SqliteHandle | undefined;
  try {
    db = open(file, { readonly: false });
    const mode = String(db.pragma('journal_mode = DELETE', { simple: true }));
    return mode === 'wal';
  } catch (e) {
    const code = String((e as { code?: unknown }).code ?? '');
    // A damaged file cannot be probed; restoring it is the point, so it does not block.
    return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
  } finally {
    db?.close();
  }
}

/**
 * Restore a database from a backup made by {@link backupDatabase}. Refuses while the database is
 * in use (the service must be stopped), and refuses a backup that fails `integrity_check` or has
 * a schema this code does not know; the database it replaces is kept beside it as
 * `<name>.before-restore-<UTC time>` (with its `-wal`/`-shm`, if any), never deleted.
 *
 * @throws SbError `SB_ERR_BACKUP_INVALID`, `SB_ERR_DB_IN_USE`
 */
export function restoreDatabase(o: {
  live: string;
  from: string;
  open: OpenSqlite;
  known: number;
  /** What stops the service, for the message (e.g. `systemctl stop sectorbench-coordinator`). */
  stopHint: string;
  now?: Clock;
}): RestoreResult {
  const from = resolve(o.from);
  const live = resolve(o.live);
  if (!existsSync(from))
    throw new SbError('SB_ERR_BACKUP_INVALID', `${from} does not exist; give the backup file.`, { file: from });
  const i = inspectDatabase(from, o.open);
  if (!isSound(i, o.known)) {
    const why =
      i.error ??
      (i.version !== null && i.version > o.known
        ? `schema version ${i.version}, this sectorbench knows ${o.known}`
        : i.version === 0
          ? 'no sectorbench schema (user_version 0)'
          : `integrity_check: ${[...new Set([...i.quickCheck, ...i.integrityCheck])].slice(0, 3).join('; ')}`);
    throw new SbError(
      'SB_ERR_BACKUP_INVALID',
      `${from} is not a sound backup of this role (${why}); nothing was changed. Take another backup file.`,
      { file: from },
    );
  }
  if (existsSync(live) && inUse(live, o.open)) {
    throw new SbError(
      'SB_ERR_DB_IN_USE',
      `${live} is in use by another process (the service, or another command); nothing was changed. Stop it first (${o.stopHint}), then restore again.`,
      { file: live },
    );
  }
  const staging = `${live}.restoring-${process.pid}`;
  copyFileSync(from, staging);
  chmodSync(staging, 0o600);
  fsyncPath(staging);
  const copy = inspectDatabase(staging, o.open);
  if (!isSound(copy, o.known))
    throw new SbError(
      'SB_ERR_BACKUP_INVALID',
      `the copy ${staging} of ${from} did not check out; nothing was changed.`,
      {
        file: staging,
      },
    );
  let keptAs: string | null = null;
  if (existsSync(live)) {
    const stamp = (o.now ?? systemClock)().toISOString().replace(/[:.]/g, '-');
    keptAs = `${live}.before-restore-${stamp}`;
    renameSync(live, keptAs);
    for (const side of ['-wal', '-shm']) if (existsSync(live + side)) renameSync(live + side, keptAs + side);
  }
  renameSync(staging, live);
  fsyncPath(dirname(live));
  return { file: live, keptAs, version: i.version as number };
}
