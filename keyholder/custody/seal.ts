import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import nacl from 'tweetnacl';
import {
  CustodyShareFileSchema,
  SealedKeyFileSchema,
  type CustodianEntry,
  type CustodyShareFile,
  type SealedKeyFile,
} from '../../schemas/custody.js';
import { fingerprint } from '../../shared/crypto/identity.js';
import { HE_PARAMS } from '../../shared/crypto/he-params.js';
import { HE_PARAMS_V1 } from '../../schemas/common.js';
import { getAt, itemAt } from '../../shared/arrays/checked-index.js';
import { validateSecretKey } from '../../shared/crypto/secret-key-validate.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { canonicalBytes } from '../../shared/protocol/canonical.js';
import { formatZodIssues } from '../../shared/errors/zod-issues.js';

/** How a custodian's share is protected at the ceremony. */
export type CustodianSpec = { name: string; x25519PublicKey: Uint8Array } | { name: string; passphrase: string };

/** A share presented for an unseal: the custodian's share file and what opens it. */
export interface PresentedShare {
  /** The share file's JSON (validated here). */
  share: unknown;
  /** Where it came from, for messages (file name). */
  source?: string;
  /** The custodian's X25519 secret key, for `x25519` shares. */
  custodianSecretKey?: Uint8Array;
  /** The custodian's passphrase, for `passphrase` shares. */
  passphrase?: string;
}

/** scrypt cost of passphrase shares: N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s). */
export const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
/** Shortest passphrase a ceremony accepts. */
export const MIN_PASSPHRASE_LENGTH = 12;

const DOMAIN = new TextEncoder().encode('sectorbench/v1/custody-share\n');

function scrypt(passphrase: string, salt: Uint8Array, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(
      passphrase.normalize('NFC'),
      salt,
      32,
      { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 },
      (e, key) => (e ? reject(e) : resolve(key)),
    ),
  );
}

/** SHA-256 commitment to a plain share, bound to the sealing and the custodian. */
function commitment(sealId: string, custodian: string, share: Uint8Array): string {
  return createHash('sha256')
    .update(DOMAIN)
    .update(canonicalBytes({ seal_id: sealId, custodian }))
    .update(share)
    .digest('hex');
}

/** What is boxed / encrypted for a custodian: the share with its binding. */
function sharePlaintext(sealId: string, custodian: string, index: number, share: Uint8Array): Uint8Array {
  return canonicalBytes({ seal_id: sealId, custodian, index, share: Buffer.from(share).toString('base64') });
}

/** The additional data of the sealed key: every field but iv, ciphertext and tag. */
function sealedAad(s: Omit<SealedKeyFile, 'iv' | 'ciphertext' | 'tag'>): Uint8Array {
  const { seal_id, he_params, he_public_key_digest, k, n, custodians, sealed_at, cipher, type, version } = s;
  return canonicalBytes({
    type,
    version,
    seal_id,
    he_params,
    he_public_key_digest,
    k,
    n,
    custodians,
    sealed_at,
    cipher,
  });
}

/** The additional data of a passphrase share: its file without the protection. */
function shareAad(f: Omit<CustodyShareFile, 'protection'>): Uint8Array {
  const { type, version, seal_id, he_public_key_digest, custodian, index, k, n, share_commitment } = f;
  return canonicalBytes({ type, version, seal_id, he_public_key_digest, custodian, index, k, n, share_commitment });
}

/** Fingerprint of a share file: what the custodian reads back at the ceremony and checks later. */
export function shareFingerprint(f: CustodyShareFile): string {
  return fingerprint(canonicalBytes(f));
}

/**
 * Check a custodian list before anything is written: 2 <= k <= n <= 255, unique names, X25519
 * keys of 32 bytes, passphrases of at least {@link MIN_PASSPHRASE_LENGTH} characters. Throws
 * `SB_ERR_USAGE` naming the custodian.
 */
export function validateCustodians(k: number, custodians: readonly CustodianSpec[]): void {
  const n = custodians.length;
  if (!Number.isInteger(k) || k < 2 || k > n || n > 255)
    throw new SbError(
      'SB_ERR_USAGE',
      `custody needs 2 <= k <= n <= 255 (k = ${k}, n = ${n} custodians): one custodian alone must never unseal the key.`,
    );
  const names = custodians.map((c) => c.name);
  const dup = names.find((x, i) => names.indexOf(x) !== i);
  if (dup !== undefined) throw new SbError('SB_ERR_USAGE', `custodian '${dup}' appears twice; every custodian once.`);
  for (const c of custodians) {
    if ('passphrase' in c && c.passphrase.length < MIN_PASSPHRASE_LENGTH)
      throw new SbError(
        'SB_ERR_USAGE',
        `the passphrase of custodian ${c.name} has ${c.passphrase.length} characters; use at least ${MIN_PASSPHRASE_LENGTH}.`,
        { custodian: c.name },
      );
    if ('x25519PublicKey' in c && c.x25519PublicKey.byteLength !== nacl.box.publicKeyLength)
      throw new SbError('SB_ERR_USAGE', `the X25519 key of custodian ${c.name} is not 32 bytes.`, {
        custodian: c.name,
      });
  }
}

/** A share's file header: who it is for and the commitment the ceremony records. */
type ShareHeader = Omit<CustodyShareFile, 'protection'>;

/**
 * Protect one plain share for its custodian: a NaCl box to their X25519 key (ephemeral sender
 * key, wiped), or scrypt ({@link SCRYPT}) + AES-256-GCM under their passphrase with the share
 * header as additional data.
 */
async function protectShare(
  c: CustodianSpec,
  header: ShareHeader,
  plain: Uint8Array,
): Promise<CustodyShareFile['protection']> {
  if ('x25519PublicKey' in c) {
    const eph = nacl.box.keyPair();
    const nonce = new Uint8Array(randomBytes(nacl.box.nonceLength));
    const box = nacl.box(plain, nonce, c.x25519PublicKey, eph.secretKey);
    eph.secretKey.fill(0);
    return {
      kind: 'x25519',
      recipient_public_key: Buffer.from(c.x25519PublicKey).toString('base64'),
      ephemeral_public_key: Buffer.from(eph.publicKey).toString('base64'),
      nonce: Buffer.from(nonce).toString('base64'),
      box: Buffer.from(box).toString('base64'),
    };
  }
  const salt = randomBytes(16);
  const key = await scrypt(c.passphrase, salt, SCRYPT);
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', key, iv);
  gcm.setAAD(shareAad(header));
  const ct = Buffer.concat([gcm.update(plain), gcm.final()]);
  key.fill(0);
  return {
    kind: 'passphrase',
    scrypt: { ...SCRYPT, salt: salt.toString('base64') },
    iv: iv.toString('base64'),
    ciphertext: ct.toString('base64'),
    tag: gcm.getAuthTag().toString('base64'),
  };
}

/**
 * Deal one plain share to its custodian: the protected share file (for the custodian) and the
 * custodian entry the sealed file records (index, protection, commitment, fingerprint).
 */
async function dealShare(
  sealId: string,
  hePublicKeyDigest: string,
  k: number,
  n: number,
  c: CustodianSpec,
  share: Uint8Array,
): Promise<{ file: CustodyShareFile; entry: CustodianEntry }> {
  const index = getAt(share, share.length - 1);
  const header: ShareHeader = {
    type: 'sectorbench.custody-share' as const,
    version: 1 as const,
    seal_id: sealId,
    he_public_key_digest: hePublicKeyDigest,
    custodian: c.name,
    index,
    k,
    n,
    share_commitment: commitment(sealId, c.name, share),
  };
  const plain = sharePlaintext(sealId, c.name, index, share);
  const file: CustodyShareFile = { ...header, protection: await protectShare(c, header, plain) };
  plain.fill(0);
  const entry: CustodianEntry = {
    name: c.name,
    index,
    protection: 'x25519PublicKey' in c ? 'x25519' : 'passphrase',
    ...('x25519PublicKey' in c ? { x25519_public_key: Buffer.from(c.x25519PublicKey).toString('base64') } : {}),
    share_commitment: header.share_commitment,
    share_fingerprint: shareFingerprint(file),
  };
  return { file: CustodyShareFileSchema.parse(file), entry };
}

/** Encrypt the secret key under the sealing key (AES-256-GCM, the sealed file's head as AAD). */
function encryptSealedKey(
  secretKey: Uint8Array,
  sealingKey: Uint8Array,
  head: Omit<SealedKeyFile, 'iv' | 'ciphertext' | 'tag'>,
): SealedKeyFile {
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', sealingKey, iv);
  gcm.setAAD(sealedAad(head));
  const ct = Buffer.concat([gcm.update(secretKey), gcm.final()]);
  return SealedKeyFileSchema.parse({
    ...head,
    iv: iv.toString('base64'),
    ciphertext: ct.toString('base64'),
    tag: gcm.getAuthTag().toString('base64'),
  });
}

/**
 * Seal a BFV secret key for custody: AES-256-GCM under a random 32-byte sealing key, split k of n
 * with Shamir's scheme (`shamir-secret-sharing`); each share encrypted to its custodian (NaCl box
 * to their X25519 key, or scrypt + AES-256-GCM under their passphrase). Returns the sealed file
 * (for the key holder's home) and one share file per custodian (for the custodians only). The
 * sealing key and the plain shares are wiped before returning.
 *
 * Throws `SB_ERR_USAGE` for k < 2, k > n, duplicate names, a passphrase shorter than
 * {@link MIN_PASSPHRASE_LENGTH} or an X25519 key that is not 32 bytes.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Layers of protection" (key custody)
 */
export async function sealSecretKey(
  secretKey: Uint8Array,
  o: { hePublicKeyDigest: string; k: number; custodians: readonly CustodianSpec[]; now: Date },
): Promise<{ sealed: SealedKeyFile; shares: CustodyShareFile[] }> {
  validateCustodians(o.k, o.custodians);
  const n = o.custodians.length;
  validateSecretKey(secretKey);
  const sealId = randomBytes(16).toString('hex');
  const sealingKey = new Uint8Array(randomBytes(32));
  const plainShares = await split(sealingKey, n, o.k);
  try {
    const shares: CustodyShareFile[] = [];
    const entries: CustodianEntry[] = [];
    for (const [i, c] of o.custodians.entries()) {
      const { file, entry } = await dealShare(sealId, o.hePublicKeyDigest, o.k, n, c, itemAt(plainShares, i));
      shares.push(file);
      entries.push(entry);
    }
    const head = {
      type: 'sectorbench.sealed-bfv-secret-key' as const,
      version: 1 as const,
      seal_id: sealId,
      he_params: HE_PARAMS_V1.parse(HE_PARAMS.id),
      he_public_key_digest: o.hePublicKeyDigest,
      k: o.k,
      n,
      custodians: entries,
      sealed_at: o.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      cipher: 'aes-256-gcm' as const,
    };
    return { sealed: encryptSealedKey(secretKey, sealingKey, head), shares };
  } finally {
    sealingKey.fill(0);
    for (const s of plainShares) s.fill(0);
  }
}

/** An error about one custodian's share: names the custodian (and the file it came from). */
function shareError(code: string, custodian: string, source: string | undefined, why: string): SbError {
  return new SbError(
    code,
    `the share of custodian ${custodian}${source ? ` (${source})` : ''} is refused: ${why}. Nothing was unsealed.`,
    { custodian, ...(source ? { file: source } : {}) },
  );
}

/** Validate a presented share file's shape; `SB_ERR_CUSTODY_SHARE` naming its file if it is not one. */
function parseShareFile(p: PresentedShare): CustodyShareFile {
  const parsed = CustodyShareFileSchema.safeParse(p.share);
  if (!parsed.success)
    throw new SbError(
      'SB_ERR_CUSTODY_SHARE',
      `${p.source ?? 'a presented share'} is not a custody share file (${formatZodIssues(parsed.error.issues, { limit: 2 })}). Nothing was unsealed.`,
      p.source ? { file: p.source } : {},
    );
  return parsed.data;
}

/**
 * Match a share file with the sealed file before opening it: same sealing and BFV key
 * (`SB_ERR_CUSTODY_FOREIGN_SHARE`), a recorded custodian (`SB_ERR_CUSTODY_FOREIGN_SHARE`), and the
 * index, commitment and protection the ceremony recorded (`SB_ERR_CUSTODY_WRONG_SHARE`). Returns
 * the custodian's entry.
 */
function matchShareToSeal(sealed: SealedKeyFile, f: CustodyShareFile, source: string | undefined): CustodianEntry {
  const name = f.custodian;
  const entry = sealed.custodians.find((c) => c.name === name);
  if (f.seal_id !== sealed.seal_id || f.he_public_key_digest !== sealed.he_public_key_digest)
    throw shareError(
      'SB_ERR_CUSTODY_FOREIGN_SHARE',
      name,
      source,
      `it belongs to another sealing (seal ${f.seal_id}, BFV key ${f.he_public_key_digest.slice(0, 12)}…),` +
        ` not to this key holder's key (seal ${sealed.seal_id}); ask the custodian for the share of ` +
        'this key',
    );
  if (!entry)
    throw shareError(
      'SB_ERR_CUSTODY_FOREIGN_SHARE',
      name,
      source,
      `${name} is not a custodian of this key (custodians: ${sealed.custodians.map((c) => c.name).join(', ')})`,
    );
  if (
    entry.index !== f.index ||
    entry.share_commitment !== f.share_commitment ||
    entry.protection !== f.protection.kind
  )
    throw shareError(
      'SB_ERR_CUSTODY_WRONG_SHARE',
      name,
      source,
      `its index, commitment or protection differs from what the ceremony recorded for ${name}`,
    );
  return entry;
}

/**
 * Remove a share's protection with what the custodian gave (X25519 secret key or passphrase).
 * Returns the plaintext, or null when it does not open; `SB_ERR_CUSTODY_UNLOCK` when the means to
 * open it is missing or is another custodian's key.
 */
async function unprotectShare(
  f: CustodyShareFile,
  entry: CustodianEntry,
  p: PresentedShare,
): Promise<Uint8Array | null> {
  const name = f.custodian;
  if (f.protection.kind === 'x25519') {
    if (!p.custodianSecretKey)
      throw shareError('SB_ERR_CUSTODY_UNLOCK', name, p.source, `give the custodian's X25519 secret key file`);
    const own = nacl.box.keyPair.fromSecretKey(p.custodianSecretKey).publicKey;
    const recorded = entry.x25519_public_key;
    if (Buffer.from(own).toString('base64') !== recorded) {
      // The schema gives every x25519 custodian a recorded key; without one nothing can match.
      const expected =
        recorded === undefined ? 'none recorded' : fingerprint(new Uint8Array(Buffer.from(recorded, 'base64')));
      throw shareError(
        'SB_ERR_CUSTODY_UNLOCK',
        name,
        p.source,
        `the X25519 key given is not ${name}'s (fingerprint ${fingerprint(own)}, expected ${expected})`,
      );
    }
    return nacl.box.open(
      new Uint8Array(Buffer.from(f.protection.box, 'base64')),
      new Uint8Array(Buffer.from(f.protection.nonce, 'base64')),
      new Uint8Array(Buffer.from(f.protection.ephemeral_public_key, 'base64')),
      p.custodianSecretKey,
    );
  }
  if (p.passphrase === undefined)
    throw shareError('SB_ERR_CUSTODY_UNLOCK', name, p.source, `give the custodian's passphrase`);
  const key = await scrypt(p.passphrase, Buffer.from(f.protection.scrypt.salt, 'base64'), f.protection.scrypt);
  try {
    const gcm = createDecipheriv('aes-256-gcm', key, Buffer.from(f.protection.iv, 'base64'));
    gcm.setAAD(shareAad(f));
    gcm.setAuthTag(Buffer.from(f.protection.tag, 'base64'));
    return new Uint8Array(Buffer.concat([gcm.update(Buffer.from(f.protection.ciphertext, 'base64')), gcm.final()]));
  } catch {
    return null;
  } finally {
    key.fill(0);
  }
}

/**
 * Read the opened plaintext (wiped here) and check it is the share dealt to this custodian: its
 * binding (seal id, custodian, index), the index byte and the recorded commitment. Returns the
 * plain share (caller wipes it); `SB_ERR_CUSTODY_WRONG_SHARE` otherwise.
 */
function checkOpenedShare(
  sealed: SealedKeyFile,
  entry: CustodianEntry,
  name: string,
  source: string | undefined,
  plain: Uint8Array,
): Uint8Array {
  let body: { seal_id?: unknown; custodian?: unknown; index?: unknown; share?: unknown };
  try {
    body = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    body = {};
  } finally {
    plain.fill(0);
  }
  const share = typeof body.share === 'string' ? new Uint8Array(Buffer.from(body.share, 'base64')) : new Uint8Array();
  if (
    body.seal_id !== sealed.seal_id ||
    body.custodian !== name ||
    body.index !== entry.index ||
    share[share.length - 1] !== entry.index ||
    commitment(sealed.seal_id, name, share) !== entry.share_commitment
  ) {
    share.fill(0);
    throw shareError('SB_ERR_CUSTODY_WRONG_SHARE', name, source, 'its content is not the share dealt to them');
  }
  return share;
}

/** Open one presented share against the sealed file; returns the plain share (caller wipes it). */
async function openShare(sealed: SealedKeyFile, p: PresentedShare): Promise<{ custodian: string; share: Uint8Array }> {
  const f = parseShareFile(p);
  const name = f.custodian;
  const entry = matchShareToSeal(sealed, f, p.source);
  const plain = await unprotectShare(f, entry, p);
  if (!plain)
    throw shareError(
      'SB_ERR_CUSTODY_WRONG_SHARE',
      name,
      p.source,
      f.protection.kind === 'x25519'
        ? 'it does not open with that key (altered share file)'
        : 'it does not open with that passphrase (wrong passphrase or altered share file)',
    );
  return { custodian: name, share: checkOpenedShare(sealed, entry, name, p.source, plain) };
}

/**
 * Unseal the BFV secret key with the custodians' shares. Every presented share is checked
 * against the sealed file first (seal id, custodian, index, commitment); a foreign, wrong or
 * unopenable share is refused with its custodian named (`SB_ERR_CUSTODY_FOREIGN_SHARE`,
 * `SB_ERR_CUSTODY_WRONG_SHARE`, `SB_ERR_CUSTODY_UNLOCK`, `SB_ERR_CUSTODY_SHARE`). Fewer than k
 * distinct custodians: `SB_ERR_CUSTODY_QUORUM`, nothing is combined. The key returned lives in
 * memory only; the caller must `fill(0)` it when done.
 */
export async function unsealSecretKey(
  sealedRaw: unknown,
  presented: readonly PresentedShare[],
): Promise<{ secretKey: Uint8Array; custodians: string[] }> {
  const sp = SealedKeyFileSchema.safeParse(sealedRaw);
  if (!sp.success)
    throw new SbError(
      'SB_ERR_CUSTODY_SEALED',
      `the sealed key file is not valid (${formatZodIssues(sp.error.issues, { limit: 2 })}); restore it from the key holder's backup.`,
    );
  const sealed = sp.data;
  const opened = new Map<string, Uint8Array>();
  try {
    for (const p of presented) {
      const { custodian, share } = await openShare(sealed, p);
      if (opened.has(custodian)) share.fill(0);
      else opened.set(custodian, share);
    }
    if (opened.size < sealed.k)
      throw new SbError(
        'SB_ERR_CUSTODY_QUORUM',
        `${opened.size} custodian share(s) presented (${[...opened.keys()].join(', ') || 'none'}), ` +
          `${sealed.k} of ${sealed.n} are needed; nothing was unsealed. Ask ${sealed.k - opened.size} ` +
          `more of ${sealed.custodians
            .map((c) => c.name)
            .filter((x) => !opened.has(x))
            .join(', ')} ` +
          'to present their share.',
        { presented: [...opened.keys()], k: sealed.k },
      );
    const chosen = [...opened.values()].slice(0, sealed.k);
    const sealingKey = await combine(chosen);
    try {
      const gcm = createDecipheriv('aes-256-gcm', sealingKey, Buffer.from(sealed.iv, 'base64'));
      gcm.setAAD(sealedAad(sealed));
      gcm.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      let secretKey: Uint8Array;
      try {
        secretKey = new Uint8Array(Buffer.concat([gcm.update(Buffer.from(sealed.ciphertext, 'base64')), gcm.final()]));
      } catch {
        throw new SbError(
          'SB_ERR_CUSTODY_SEALED',
          `the shares of ${[...opened.keys()].join(', ')} are valid but do not open the sealed key file: ` +
            "the file was altered. Restore it from the key holder's backup.",
        );
      }
      validateSecretKey(secretKey);
      return { secretKey, custodians: [...opened.keys()].slice(0, sealed.k) };
    } finally {
      sealingKey.fill(0);
    }
  } finally {
    for (const s of opened.values()) s.fill(0);
  }
}

/**
 * Check one custodian's share without unsealing anything: it opens with the custodian's key or
 * passphrase and holds the committed share. With `sealed`, also that it belongs to that sealing.
 * Returns the custodian's name and the share file's fingerprint (as read out at the ceremony).
 */
export async function checkShare(
  p: PresentedShare,
  sealed?: SealedKeyFile,
): Promise<{ custodian: string; fingerprint: string; sealId: string; k: number; n: number }> {
  const parsed = CustodyShareFileSchema.safeParse(p.share);
  if (!parsed.success)
    throw new SbError('SB_ERR_CUSTODY_SHARE', `${p.source ?? 'the file'} is not a custody share file.`);
  const f = parsed.data;
  // Without the sealed file, check against the share file's own record (index, commitment).
  const self: SealedKeyFile = sealed ?? {
    type: 'sectorbench.sealed-bfv-secret-key',
    version: 1,
    seal_id: f.seal_id,
    he_params: HE_PARAMS_V1.parse(HE_PARAMS.id),
    he_public_key_digest: f.he_public_key_digest,
    k: f.k,
    n: f.n,
    custodians: [
      {
        name: f.custodian,
        index: f.index,
        protection: f.protection.kind,
        ...(f.protection.kind === 'x25519' ? { x25519_public_key: f.protection.recipient_public_key } : {}),
        share_commitment: f.share_commitment,
        share_fingerprint: shareFingerprint(f),
      },
    ],
    sealed_at: '1970-01-01T00:00:00Z',
    cipher: 'aes-256-gcm',
    iv: '',
    ciphertext: '',
    tag: '',
  };
  const { share } = await openShare(self, p);
  share.fill(0);
  return { custodian: f.custodian, fingerprint: shareFingerprint(f), sealId: f.seal_id, k: f.k, n: f.n };
}
