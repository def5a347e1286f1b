import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every path under `dir` with its size and modification time, to check "no side effect on
 * disk" (issue 13). SQLite's -wal and -shm files come and go with every connection, and with
 * them the folder's mtime: what counts is every other file's size and content time.
 */
export function diskSnapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (/-(wal|shm)$/.test(name)) continue;
      out.push(st.isDirectory() ? `${p} dir` : `${p} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}
