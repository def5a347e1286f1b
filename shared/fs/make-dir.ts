import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SbError } from '../errors/sb-error.js';

/**
 * `mkdir -p` that always terminates with a coded error. Node's own `mkdirSync(…, { recursive:
 * true })` loops forever on paths under /proc (it retries ENOENT; issue 13 saw `--home /proc/h`
 * spin for 10 minutes), so the existing ancestor is found first and each missing level is made
 * once, non-recursively.
 *
 * @param role what the folder is, for the message ("the node's home folder")
 * @throws SbError `SB_ERR_HOME_NOT_DIR` when the path or an ancestor is a file,
 *   `SB_ERR_HOME_UNWRITABLE` when a level cannot be created (EACCES, EPERM, EROFS, ENOENT …)
 */
export function makeDir(path: string, mode: number, role: string): void {
  const target = resolve(path);
  const missing: string[] = [];
  let p = target;
  for (;;) {
    const st = statOrNull(p);
    if (st) {
      if (!st.isDirectory()) {
        throw new SbError(
          'SB_ERR_HOME_NOT_DIR',
          `${path}: ${p === target ? 'is' : `its parent ${p} is`} a file, not a folder; ${role} must be a folder. Give another path (or move the file away).`,
          { file: path },
        );
      }
      break;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    const dir = missing[i] as string;
    try {
      mkdirSync(dir, { mode });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
      if (code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw new SbError(
        'SB_ERR_HOME_UNWRITABLE',
        `${path}: cannot create ${role} (${code} on ${dir}). Choose a folder you may write to, or ask an administrator to create it for this user.`,
        { file: path, errno: code },
      );
    }
  }
}

/** stat, or null when the path does not exist (ENOENT) or runs through a file (ENOTDIR). */
function statOrNull(p: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(p, { throwIfNoEntry: false }) ?? null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}
