import { isSbError, SbError } from '../shared/errors/sb-error.js';

/** File-system error codes and what they mean for the user, with the next step. */
const ERRNO: Record<string, { code: string; what: string; next: string }> = {
  ENOENT: { code: 'SB_ERR_FILE_NOT_FOUND', what: 'does not exist', next: 'Check the path.' },
  EACCES: {
    code: 'SB_ERR_FILE_PERMISSION',
    what: 'may not be used by this user (permission denied)',
    next: 'Choose a path this user may use, or fix the permissions.',
  },
  EPERM: {
    code: 'SB_ERR_FILE_PERMISSION',
    what: 'may not be changed (operation not permitted)',
    next: 'Choose a path this user may use, or fix the permissions.',
  },
  EROFS: { code: 'SB_ERR_FILE_PERMISSION', what: 'is on a read-only file system', next: 'Choose a writable folder.' },
  EEXIST: {
    code: 'SB_ERR_FILE_EXISTS',
    what: 'already exists',
    next: 'Give a path that does not exist yet, or move the existing one away.',
  },
  EISDIR: {
    code: 'SB_ERR_FILE_NOT_FILE',
    what: 'is a folder where a file was expected',
    next: 'Give the path of a file.',
  },
  ENOTDIR: {
    code: 'SB_ERR_HOME_NOT_DIR',
    what: 'has a file where a folder was expected',
    next: 'Check each part of the path.',
  },
  ENOSPC: { code: 'SB_ERR_DISK_FULL', what: 'cannot be written: the disk is full', next: 'Free space and run again.' },
  EMFILE: { code: 'SB_ERR_FILE_LIMIT', what: 'cannot be opened: too many open files', next: 'Run again.' },
  ENAMETOOLONG: { code: 'SB_ERR_FILE_NOT_FOUND', what: 'is too long a path', next: 'Use a shorter path.' },
};

/**
 * Every failure of a command as one coded error (issue 13, "one error path"): SbErrors pass;
 * file-system errors name the path and the next step; SQLite errors that reached here (the
 * coordinator's or key holder's database) are "in use" or "cannot be used"; anything else is
 * `SB_ERR_INTERNAL`, whose own message is not shown (it could hold data from a row) unless
 * `--debug`.
 */
export function toSbError(e: unknown): SbError {
  if (isSbError(e)) return e;
  const err = e as NodeJS.ErrnoException;
  const errno = typeof err?.code === 'string' ? ERRNO[err.code] : undefined;
  if (errno && err instanceof Error) {
    const path = err.path ?? (err as { dest?: string }).dest ?? '(a path)';
    return new SbError(
      errno.code,
      `${path}: ${errno.what} (${err.code}${err.syscall ? ` on ${err.syscall}` : ''}). ${errno.next}`,
      { file: path, errno: err.code },
      { cause: e },
    );
  }
  if (err instanceof Error && err.name === 'SqliteError' && typeof err.code === 'string') {
    const busy = err.code.startsWith('SQLITE_BUSY') || err.code.startsWith('SQLITE_LOCKED');
    return new SbError(
      busy ? 'SB_ERR_DB_IN_USE' : 'SB_ERR_DB_UNREADABLE',
      busy
        ? `the database is in use by another process (${err.code}). Wait until the other sectorbench command has finished and run this again.`
        : `the database cannot be used (${err.code}). Check --home; restore the database from a backup if it was damaged.`,
      { sqlite: err.code },
      { cause: e },
    );
  }
  const kind = err instanceof Error ? err.name : typeof e;
  return new SbError(
    'SB_ERR_INTERNAL',
    `an unexpected ${kind} stopped the command; nothing more is shown because its text could contain ` +
      'data. Run it again with --debug to see the details, and report them (without data) to the ' +
      'maintainers.',
    { kind },
    { cause: e },
  );
}

/** The text printed for an error: `error CODE: message`, and with --debug the chain of causes and stacks. */
export function renderError(e: SbError, debug: boolean): string {
  let out = `error ${e.code}: ${e.message}\n`;
  if (debug) {
    let c: unknown = e;
    while (c instanceof Error) {
      out += `${c.stack ?? String(c)}\n`;
      c = c.cause;
      if (c) out += 'caused by: ';
    }
  }
  return out;
}
