import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import nacl from 'tweetnacl';
import { SbError } from '../errors/sb-error.js';
import { ED25519_SECRET_KEY_BYTES, ed25519Sign, ed25519Verify } from './ed25519.js';
import { readSecretFile, writePublicFile, writeSecretFile } from './key-files.js';

/** An Ed25519 identity (tweetnacl layout: 32-byte public key, 64-byte secret key = seed + public key). */
export interface Identity {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/**
 * Generate an Ed25519 identity (institution node, coordinator, key holder).
 * @see ../../../shared/spec/ARCHITECTURE.md "Roles"
 */
export function generateIdentity(): Identity {
  const kp = nacl.sign.keyPair();
  return { publicKey: kp.publicKey, secretKey: kp.secretKey };
}

/** Deterministic identity from a 32-byte seed (tests and fixtures only). */
export function identityFromSeed(seed: Uint8Array): Identity {
  const kp = nacl.sign.keyPair.fromSeed(seed);
  return { publicKey: kp.publicKey, secretKey: kp.secretKey };
}

/**
 * Fingerprint of an Ed25519 public key to read out over the phone at enrolment: SHA-256 of
 * the key, the first 30 bytes taken as six 40-bit big-endian numbers, each reduced modulo
 * 100,000 and written as 5 digits: `12345 67890 …` (6 groups, about 99 bits). Like Signal's
 * safety numbers: digits are easy to say and compare in Dutch or English.
 */
export function fingerprint(publicKey: Uint8Array): string {
  const h = createHash('sha256').update(domain('fingerprint')).update(publicKey).digest();
  const groups: string[] = [];
  for (let g = 0; g < 6; g++) {
    let v = 0;
    for (let i = 0; i < 5; i++) v = v * 256 + (h[g * 5 + i] as number);
    groups.push(String(v % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}

function domain(purpose: string): Uint8Array {
  return new TextEncoder().encode(`sectorbench/v1/${purpose}\n`);
}

/** The bytes actually signed: a domain-separation prefix for the message type, then the canonical bytes. */
export function signingInput(purpose: string, canonical: Uint8Array): Uint8Array {
  const d = domain(purpose);
  const out = new Uint8Array(d.length + canonical.length);
  out.set(d, 0);
  out.set(canonical, d.length);
  return out;
}

/**
 * Detached Ed25519 signature (64 bytes) over `signingInput(purpose, canonical)`, through
 * node:crypto ({@link ed25519Sign}; the same signature tweetnacl gives, RFC 8032).
 * @throws SbError SB_ERR_KEY_FILE when `secretKey` is not 64 bytes.
 */
export function signDetached(purpose: string, canonical: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (secretKey.byteLength !== ED25519_SECRET_KEY_BYTES)
    throw new SbError('SB_ERR_KEY_FILE', 'an Ed25519 secret key is 64 bytes; check the identity file.');
  return ed25519Sign(signingInput(purpose, canonical), secretKey);
}

/**
 * Verify a detached signature over `signingInput(purpose, canonical)` through node:crypto
 * ({@link ed25519Verify}); false (never throws) on any mismatch or malformed input.
 */
export function verifyDetached(
  purpose: string,
  canonical: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  return ed25519Verify(signingInput(purpose, canonical), signature, publicKey);
}

interface IdentityFile {
  type: 'sectorbench-ed25519-identity';
  public_key: string;
  secret_key?: string;
  fingerprint: string;
}

/** Write an identity: `<path>` (secret, mode 0600) and `<path>.pub` (public, with fingerprint). */
export async function writeIdentityFiles(identity: Identity, path: string): Promise<void> {
  const pub: IdentityFile = {
    type: 'sectorbench-ed25519-identity',
    public_key: Buffer.from(identity.publicKey).toString('base64'),
    fingerprint: fingerprint(identity.publicKey),
  };
  const sec: IdentityFile = { ...pub, secret_key: Buffer.from(identity.secretKey).toString('base64') };
  await writeSecretFile(path, `${JSON.stringify(sec, null, 2)}\n`);
  await writePublicFile(`${path}.pub`, `${JSON.stringify(pub, null, 2)}\n`);
}

function parseIdentityFile(text: string, path: string): IdentityFile {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new SbError(
      'SB_ERR_KEY_FILE',
      `${path} is not an identity file (not JSON); generate one with 'sectorbench keygen'.`,
      { path },
    );
  }
  const f = j as IdentityFile;
  if (f?.type !== 'sectorbench-ed25519-identity' || typeof f.public_key !== 'string') {
    throw new SbError('SB_ERR_KEY_FILE', `${path} is not a sectorbench Ed25519 identity file.`, { path });
  }
  return f;
}

/** Read an identity (secret) file written by {@link writeIdentityFiles}; mode must be 0600. */
export async function readIdentityFile(path: string): Promise<Identity> {
  const f = parseIdentityFile((await readSecretFile(path)).toString('utf8'), path);
  const publicKey = new Uint8Array(Buffer.from(f.public_key, 'base64'));
  const secretKey = new Uint8Array(Buffer.from(f.secret_key ?? '', 'base64'));
  if (secretKey.length !== 64 || publicKey.length !== 32 || Buffer.compare(secretKey.subarray(32), publicKey) !== 0) {
    throw new SbError('SB_ERR_KEY_FILE', `${path} holds an inconsistent Ed25519 key pair; restore it from backup.`, {
      path,
    });
  }
  return { publicKey, secretKey };
}

/** Read a public identity file (`.pub`); checks the stored fingerprint. */
export async function readPublicIdentityFile(path: string): Promise<Uint8Array> {
  const f = parseIdentityFile(await readFile(path, 'utf8'), path);
  const publicKey = new Uint8Array(Buffer.from(f.public_key, 'base64'));
  if (publicKey.length !== 32 || f.fingerprint !== fingerprint(publicKey)) {
    throw new SbError(
      'SB_ERR_KEY_FILE',
      `${path}: the public key does not match its fingerprint; get the file again from its owner.`,
      { path },
    );
  }
  return publicKey;
}
