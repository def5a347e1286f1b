import { chmod, type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { SbError } from '../errors/sb-error.js';

/** Create `path` with `mode` and write `data`, refusing to overwrite an existing file. */
async function writeNewFile(path: string, data: Uint8Array | string, mode: number, sync: boolean): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SbError(
        'SB_ERR_KEY_EXISTS',
        `${path} exists already; move it away first if you really mean to replace a key.`,
        { path },
      );
    }
    throw e;
  }
  try {
    await fh.writeFile(data);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write a secret file with mode 0600, refusing to overwrite an existing file.
 * The mode is set again after writing, so a permissive umask cannot widen it.
 */
export async function writeSecretFile(path: string, data: Uint8Array | string): Promise<void> {
  await writeNewFile(path, data, 0o600, true);
  await chmod(path, 0o600);
}

/** Write a public file (mode 0644), refusing to overwrite. */
export async function writePublicFile(path: string, data: Uint8Array | string): Promise<void> {
  await writeNewFile(path, data, 0o644, false);
}

/** Read a secret file; refuses one that group or others may read (like ssh does). */
export async function readSecretFile(path: string): Promise<Buffer> {
  const st = await stat(path);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new SbError(
      'SB_ERR_KEY_PERMISSIONS',
      `${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}.`,
      { path },
    );
  }
  return readFile(path);
}
