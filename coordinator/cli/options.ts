import { readFileSync } from 'node:fs';
import { SbError, errorMessage } from '../../shared/errors/sb-error.js';
import { openCoordinatorHome, type CoordinatorHome } from '../home.js';

/** Print a line (a trailing newline added when missing). */
export function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}

/** Open the coordinator home, run `fn` with it, close its database whatever happens. */
export async function withHome<T>(home: string, fn: (h: CoordinatorHome) => Promise<T> | T): Promise<T> {
  const h = await openCoordinatorHome(home);
  try {
    return await fn(h);
  } finally {
    h.db.close();
  }
}

/** A JSON file given on the command line; `SB_ERR_USAGE` naming it when unreadable. */
export function readJsonFile(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SbError('SB_ERR_USAGE', `cannot read ${what} ${path}: ${errorMessage(e)}`, { path });
  }
}

/** A `--port` value: a whole number 0..65535, else `SB_ERR_USAGE`. */
export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new SbError('SB_ERR_USAGE', `--port must be 0..65535, not '${value}'.`);
  return n;
}
