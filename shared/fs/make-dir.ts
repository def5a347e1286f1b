import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SbError } from '../errors/sb-error.js';

/** Error codes of {@link makeDir}: a home folder, or any other folder (output, shares, bundle). */
const CODES = {
  home: { notDir: 'SB_ERR_HOME_NOT_DIR', unwritable: 'SB_ERR_HOME_UNWRITABLE' },
  folder: { notDir: 'SB_ERR_DIR_NOT_DIR', unwritable: 'SB_ERR_DIR_UNWRITABLE' },
} as const;

/**
 * `mkdir -p` that always terminates with a coded error. Node's own `mkdirSync(…, { recursive:
 * true })` loops forever on paths under /proc (it retries ENOENT; issue 13 saw `--home /proc/h`
 * spin for 10 minutes), so the existing ancestor is found first and each missing level is made
 * once, non-recursively. Every home and output folder of every role is made with this.
 *
 * @param mode permission bits of each created level (e.g. 0o700)
 * @param role what the folder is, for the message ("the node's home folder")
 * @param kind `home` (default) or `folder`: which pair of codes is thrown
 * @returns the levels it created, outermost first (empty when the folder existed), for
 *   {@link removeMadeDirs} when the command fails after it
 * @throws SbError `SB_ERR_HOME_NOT_DIR` / `SB_ERR_DIR_NOT_DIR` when the path or an ancestor is
 *   a file, `SB_ERR_HOME_UNWRITABLE` / `SB_ERR_DIR_UNWRITABLE` when a level cannot be created
 *   (EACCES, EPERM, EROFS, ENOENT …); nothing is left behind on a refusal
 */
export function makeDir(path: string, mode: number, role: string, kind: keyof typeof CODES = 'home'): string[] {
  const codes = CODES[kind];
  const target = resolve(path);
  const missing: string[] = [];
  let p = target;
  for (;;) {
    const st = statOrNull(p);
    if (st) {
      if (!st.isDirectory()) {
        throw new SbError(
          codes.notDir,
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
  const created: string[] = [];
  for (let i = missing.length - 1; i >= 0; i--) {
    const dir = missing[i] as string;
    try {
      mkdirSync(dir, { mode });
      created.push(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
      if (code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      removeMadeDirs(created);
      throw new SbError(
        codes.unwritable,
        `${path}: cannot create ${role} (${code} on ${dir}). Choose a folder you may write to, or ask an administrator to create it for this user.`,
        { file: path, errno: code },
      );
    }
  }
  return created;
}

/**
 * Undo {@link makeDir} after a failed command: remove the outermost level it created, with
 * everything in it (all of which this command wrote, since the level did not exist before).
 * Errors are ignored: the command's own error is the one to report.
 */
export function removeMadeDirs(created: readonly string[]): void {
  const top = created[0];
  if (top === undefined) return;
  try {
    rmSync(top, { recursive: true, force: true });
  } catch {
    // best effort; the caller is already failing with a coded error
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
