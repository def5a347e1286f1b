import { readFile } from 'node:fs/promises';
import nacl from 'tweetnacl';
import { CustodianKeyFileSchema, CustodianName, type CustodianKeyFile } from '../../schemas/custody.js';
import { fingerprint } from '../../shared/crypto/identity.js';
import { readSecretFile, writePublicFile, writeSecretFile } from '../../shared/crypto/key-files.js';
import { SbError } from '../../shared/errors/sb-error.js';

/** A custodian's own X25519 key pair (tweetnacl `box` keys). */
export interface CustodianKey {
  name: string;
  publicKey: Uint8Array;
  /** Absent when only the `.pub` file was read. */
  secretKey?: Uint8Array;
}

/**
 * Generate a custodian's X25519 key pair. Each custodian runs this on their own machine and
 * hands only the `.pub` file to the key ceremony; the secret file never goes to the key holder's
 * home (it is brought, with the share file, when a release needs the custodian).
 */
export function generateCustodianKey(name: string): Required<CustodianKey> {
  const n = CustodianName.safeParse(name);
  if (!n.success)
    throw new SbError(
      'SB_ERR_USAGE',
      `'${name}' is not a custodian name (letters, digits, space, ., _ and -, at most 64).`,
    );
  const kp = nacl.box.keyPair();
  return { name: n.data, publicKey: kp.publicKey, secretKey: kp.secretKey };
}

/** The fingerprint a custodian reads out for their X25519 public key (same digits as identity fingerprints). */
export function custodianFingerprint(publicKey: Uint8Array): string {
  return fingerprint(publicKey);
}

/** Write `<path>` (secret, 0600) and `<path>.pub` (public). Never overwrites. */
export async function writeCustodianKeyFiles(key: Required<CustodianKey>, path: string): Promise<void> {
  const pub: CustodianKeyFile = {
    type: 'sectorbench-x25519-custodian-key',
    name: key.name,
    public_key: Buffer.from(key.publicKey).toString('base64'),
    fingerprint: custodianFingerprint(key.publicKey),
  };
  await writeSecretFile(
    path,
    `${JSON.stringify({ ...pub, secret_key: Buffer.from(key.secretKey).toString('base64') }, null, 2)}\n`,
  );
  await writePublicFile(`${path}.pub`, `${JSON.stringify(pub, null, 2)}\n`);
}

function parse(text: string, path: string): CustodianKeyFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SbError('SB_ERR_KEY_FILE', `${path} is not a custodian key file (not JSON).`, { path });
  }
  const r = CustodianKeyFileSchema.safeParse(json);
  if (!r.success)
    throw new SbError(
      'SB_ERR_KEY_FILE',
      `${path} is not a sectorbench custodian key file; make one with 'sectorbench keyholder custodian-key'.`,
      { path },
    );
  const pk = new Uint8Array(Buffer.from(r.data.public_key, 'base64'));
  if (r.data.fingerprint !== custodianFingerprint(pk))
    throw new SbError(
      'SB_ERR_KEY_FILE',
      `${path}: the public key does not match its fingerprint; get the file again from the custodian.`,
      { path },
    );
  return r.data;
}

/** Read a custodian's public key file (`.pub`, or the secret file: only its public half is used). */
export async function readCustodianPublicKey(path: string): Promise<CustodianKey> {
  const f = parse(await readFile(path, 'utf8'), path);
  return { name: f.name, publicKey: new Uint8Array(Buffer.from(f.public_key, 'base64')) };
}

/** Read a custodian's secret key file (mode 0600); checks that the two halves belong together. */
export async function readCustodianSecretKey(path: string): Promise<Required<CustodianKey>> {
  const f = parse((await readSecretFile(path)).toString('utf8'), path);
  if (!f.secret_key)
    throw new SbError(
      'SB_ERR_KEY_FILE',
      `${path} holds only a custodian's public key; give the secret key file (without .pub).`,
      { path },
    );
  const publicKey = new Uint8Array(Buffer.from(f.public_key, 'base64'));
  const secretKey = new Uint8Array(Buffer.from(f.secret_key, 'base64'));
  const derived = nacl.box.keyPair.fromSecretKey(secretKey).publicKey;
  if (Buffer.compare(Buffer.from(derived), Buffer.from(publicKey)) !== 0)
    throw new SbError('SB_ERR_KEY_FILE', `${path} holds an inconsistent X25519 key pair; restore it from backup.`, {
      path,
    });
  return { name: f.name, publicKey, secretKey };
}
