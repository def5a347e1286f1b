import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { join } from 'node:path';
import { SbError } from '../../shared/errors/sb-error.js';
import { makeDir } from '../../shared/fs/make-dir.js';
import type { CustodyInit } from '../init.js';
import { shareFileName } from './ceremony.js';
import {
  generateCustodianKey,
  readCustodianSecretKey,
  writeCustodianKeyFiles,
  type CustodianKey,
} from './custodian-key.js';
import type { PresentedShare } from './seal.js';

// The labels of a share file read before it is checked: who it is for and how it is protected
// (anything else, or a malformed file, leaves them out and the unseal names the problem).
const ShareLabels = z
  .object({
    custodian: z.string().optional().catch(undefined),
    protection: z
      .object({
        kind: z.string().optional().catch(undefined),
        recipient_public_key: z.string().optional().catch(undefined),
      })
      .optional()
      .catch(undefined),
  })
  .catch({});

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SbError(
      'SB_ERR_USAGE',
      `${path} could not be read as ${what} (${e instanceof Error ? e.message : String(e)}).`,
      {
        file: path,
      },
    );
  }
}

/**
 * Shares as custodians present them on the command line: share files, custodians' X25519
 * secret key files (matched to a share by public key) and passphrases (by custodian name).
 * A share with nothing to open it is still presented, and refused by the unseal with its
 * custodian named.
 */
export async function presentShareFiles(o: {
  shareFiles: readonly string[];
  keyFiles?: readonly string[];
  passphrases?: ReadonlyMap<string, string>;
}): Promise<PresentedShare[]> {
  const keys: Required<CustodianKey>[] = [];
  for (const f of o.keyFiles ?? []) keys.push(await readCustodianSecretKey(f));
  return o.shareFiles.map((file) => {
    const share = readJson(file, 'a custody share file');
    const s = ShareLabels.parse(share);
    const out: PresentedShare = { share, source: file };
    if (s.protection?.kind === 'x25519') {
      const key = keys.find((k) => Buffer.from(k.publicKey).toString('base64') === s.protection?.recipient_public_key);
      if (key) out.custodianSecretKey = key.secretKey;
    } else if (s.protection?.kind === 'passphrase' && typeof s.custodian === 'string') {
      const p = o.passphrases?.get(s.custodian);
      if (p !== undefined) out.passphrase = p;
    }
    return out;
  });
}

/** Custodians generated on this machine (demo, tests, benchmarks): key files and share folder. */
export interface GeneratedCustodians {
  custody: CustodyInit;
  /** Folder holding every custodian's key files and, after the ceremony, the share folder. */
  dir: string;
  keyFiles: Map<string, string>;
  /** The shares of the given custodians (default the first k), ready for a release. */
  present(names?: readonly string[]): Promise<PresentedShare[]>;
}

/**
 * Generate `n` custodians with their own X25519 keys in `dir` (outside any key holder home),
 * k of n. In a real ceremony every custodian makes their key on their own machine
 * (`sectorbench keyholder custodian-key`) and brings only the `.pub`; here one machine plays
 * every custodian, which only a demonstration may do.
 */
export async function generateCustodians(
  dir: string,
  o: { n?: number; k?: number; names?: readonly string[] } = {},
): Promise<GeneratedCustodians> {
  const names = o.names ?? Array.from({ length: o.n ?? 3 }, (_, i) => `custodian-${i + 1}`);
  const k = o.k ?? 2;
  makeDir(dir, 0o700, "the demonstration custodians' folder", 'folder');
  const keyFiles = new Map<string, string>();
  const custodians = [];
  for (const name of names) {
    const key = generateCustodianKey(name);
    const file = join(dir, `${name}.x25519.key`);
    await writeCustodianKeyFiles(key, file);
    keyFiles.set(name, file);
    custodians.push({ name, x25519PublicKey: key.publicKey });
    key.secretKey.fill(0);
  }
  const shareDir = join(dir, 'shares');
  return {
    custody: { k, custodians, shareDir },
    dir,
    keyFiles,
    present(chosen = names.slice(0, k)) {
      return presentShareFiles({
        shareFiles: chosen.map((n) => join(shareDir, shareFileName(n))),
        keyFiles: chosen.flatMap((n) => keyFiles.get(n) ?? []),
      });
    },
  };
}
