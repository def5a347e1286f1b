import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SbError, isSbError } from '../../shared/errors/sb-error.js';
import type { KeyHolderPaths } from '../config.js';
import type { KeyHolderStore } from '../store/keyholder-store.js';
import { unsealSecretKey, type PresentedShare } from './seal.js';

/** An unsealed key and the log row of its unseal; call `wipe()` when done (in a `finally`). */
export interface UnsealedKey {
  secretKey: Uint8Array;
  unsealId: number;
  custodians: string[];
  /** Erase the key from memory and log when that happened. */
  wipe(): void;
}

/** Read the home's sealed key file (JSON), refusing a home without one. */
export function readSealedFile(paths: KeyHolderPaths): unknown {
  if (!paths.sealedSecretKey) {
    throw new SbError(
      'SB_ERR_CUSTODY_REQUIRED',
      paths.plainSecretKey
        ? `${paths.home} keeps its BFV secret key in a plain file (made before key custody); nothing ` +
            `is decrypted with it. Run 'sectorbench keyholder ceremony --home ${paths.home} …' to seal ` +
            'it under custodian shares first.'
        : `${paths.home} has no sealed BFV secret key; this is not a complete key holder home.`,
    );
  }
  try {
    return JSON.parse(readFileSync(paths.sealedSecretKey, 'utf8'));
  } catch (e) {
    throw new SbError(
      'SB_ERR_CUSTODY_SEALED',
      `${paths.sealedSecretKey} could not be read as the sealed key file (${e instanceof Error ? e.message : String(e)}); ` +
        "restore it from the key holder's backup.",
      { file: paths.sealedSecretKey },
    );
  }
}

// What the log names of a presented share or sealed file before either is checked (it may be anything).
const NamedShare = z.object({ custodian: z.string() });
const SealId = z.object({ seal_id: z.string() });

function presentedNames(shares: readonly PresentedShare[]): string[] {
  return shares.map((s) => {
    const c = NamedShare.safeParse(s.share);
    return c.success ? c.data.custodian.slice(0, 64) : '(not a share)';
  });
}

/**
 * Unseal the BFV secret key for one use, logged: a row `started` BEFORE any share is opened,
 * then `unsealed` with the custodians combined, or `refused` with the error code and the
 * custodian named. The key exists only in the returned buffer; `wipe()` zeroes it and logs
 * `wiped_at`.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 4
 */
export async function unsealForUse(
  store: KeyHolderStore,
  paths: KeyHolderPaths,
  shares: readonly PresentedShare[],
  o: { roundId: string | null; purpose: 'release' | 'reshare'; at: () => string },
): Promise<UnsealedKey> {
  const sealed = readSealedFile(paths);
  const withId = SealId.safeParse(sealed);
  const sealId = withId.success ? withId.data.seal_id : null;
  const id = store.unsealStarted({
    roundId: o.roundId,
    purpose: o.purpose,
    sealId,
    at: o.at(),
    presented: presentedNames(shares),
  });
  let r: { secretKey: Uint8Array; custodians: string[] };
  try {
    r = await unsealSecretKey(sealed, shares);
  } catch (e) {
    const custodian = isSbError(e) && typeof e.details.custodian === 'string' ? e.details.custodian : null;
    store.unsealRefused(id, { at: o.at(), errorCode: isSbError(e) ? e.code : 'SB_ERR_INTERNAL', custodian });
    throw e;
  }
  store.unsealSucceeded(id, { at: o.at(), custodians: r.custodians });
  let wiped = false;
  return {
    secretKey: r.secretKey,
    unsealId: id,
    custodians: r.custodians,
    wipe() {
      if (wiped) return;
      wiped = true;
      r.secretKey.fill(0);
      store.unsealWiped(id, o.at());
    },
  };
}
