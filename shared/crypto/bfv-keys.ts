import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { KeyGenerator } from 'node-seal/implementation/key-generator.js';
import type { PublicKey } from 'node-seal/implementation/public-key.js';
import type { SecretKey } from 'node-seal/implementation/secret-key.js';
import { SbError } from '../errors/sb-error.js';
import { PUBLIC_KEY_SHAPE, validateSealObject } from './ciphertext-validate.js';
import { getHe } from './he-context.js';
import { PUBLIC_KEY_BYTES, SECRET_KEY_BYTES } from './he-params.js';
import { readSecretFile, writePublicFile, writeSecretFile } from './key-files.js';

/** A BFV key pair as SEAL's uncompressed serializations. */
export interface BfvKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/**
 * Generate the key holder's BFV key pair.
 * @see ../../../shared/spec/ARCHITECTURE.md "Roles" (key holder)
 */
export async function generateBfvKeyPair(): Promise<BfvKeyPair> {
  const { seal, context } = await getHe();
  let kg: KeyGenerator | undefined;
  let pk: PublicKey | undefined;
  let sk: SecretKey | undefined;
  try {
    kg = seal.KeyGenerator(context);
    pk = kg.createPublicKey();
    sk = kg.secretKey();
    return { publicKey: pk.saveArray(seal.ComprModeType.none), secretKey: sk.saveArray(seal.ComprModeType.none) };
  } finally {
    sk?.delete();
    pk?.delete();
    kg?.delete();
  }
}

/** SHA-256 (hex) of a BFV public key's bytes: how manifests and envelopes name the round key. */
export function bfvPublicKeyDigest(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex');
}

/** Write the pair: the secret key with mode 0600, the public key 0644. Never overwrites. */
export async function writeBfvKeyPair(
  pair: BfvKeyPair,
  paths: { publicKey: string; secretKey: string },
): Promise<void> {
  await writeSecretFile(paths.secretKey, pair.secretKey);
  await writePublicFile(paths.publicKey, pair.publicKey);
}

/** Read and validate a BFV public key file. */
export async function readBfvPublicKey(path: string): Promise<Uint8Array> {
  const b = new Uint8Array(await readFile(path));
  validateSealObject(b, PUBLIC_KEY_SHAPE, { label: `BFV public key ${path}` });
  if (b.byteLength !== PUBLIC_KEY_BYTES) throw new Error('unreachable');
  return b;
}

/** Read a BFV secret key file (mode must be 0600 or stricter). */
export async function readBfvSecretKey(path: string): Promise<Uint8Array> {
  const b = new Uint8Array(await readSecretFile(path));
  if (b.byteLength !== SECRET_KEY_BYTES) {
    throw new SbError(
      'SB_ERR_KEY_FILE',
      `${path} is ${b.byteLength} bytes, not a sectorbench BFV secret key (${SECRET_KEY_BYTES}); restore it from the custodians' backup.`,
      { path },
    );
  }
  return b;
}
