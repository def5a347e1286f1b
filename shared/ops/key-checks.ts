import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readIdentityFile, readPublicIdentityFile } from '../crypto/identity.js';
import { publicFileProblem, secretFileProblem } from './host-checks.js';
import type { Clock } from '../time/clock.js';
import { errorMessage } from '../errors/sb-error.js';

/**
 * Problems with an Ed25519 identity (`<path>` secret, `<path>.pub` public): present, secret
 * readable by its owner only, a consistent key pair, and the `.pub` holding the same public key.
 * Empty when all is well. Each problem is a sentence with the fix.
 */
export async function identityProblems(path: string, what: string): Promise<string[]> {
  const secret = secretFileProblem(path, `${what} secret key`);
  if (secret) return [secret];
  const problems: string[] = [];
  let publicKey: Uint8Array | undefined;
  try {
    publicKey = (await readIdentityFile(path)).publicKey;
  } catch (e) {
    problems.push(errorMessage(e));
  }
  const pubFile = `${path}.pub`;
  const pubProblem = publicFileProblem(pubFile, `${what} public key`);
  if (pubProblem) problems.push(`${pubProblem} Write it again from the secret key's public part, or restore it.`);
  else if (publicKey) {
    try {
      const pub = await readPublicIdentityFile(pubFile);
      if (Buffer.compare(Buffer.from(pub), Buffer.from(publicKey)) !== 0)
        problems.push(`${pubFile} holds another public key than ${path}; restore the pair from one backup.`);
    } catch (e) {
      problems.push(errorMessage(e));
    }
  }
  return problems;
}

/** Days a TLS certificate has left before `doctor` warns. */
export const CERT_WARN_DAYS = 30;

/**
 * Problems with the TLS certificate and key a coordinator serves: both present, the key 0600,
 * the certificate parseable, within its validity (WARN {@link CERT_WARN_DAYS} days before it
 * ends), and the key the certificate's. Returns fails and warnings separately.
 */
export function tlsProblems(certFile: string, keyFile: string, now: Clock): { fail: string[]; warn: string[] } {
  const fail: string[] = [];
  const warn: string[] = [];
  const certProblem = publicFileProblem(certFile, 'TLS certificate');
  const keyProblem = secretFileProblem(keyFile, 'TLS private key');
  if (certProblem) fail.push(certProblem);
  if (keyProblem) fail.push(keyProblem);
  if (certProblem) return { fail, warn };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(certFile));
  } catch (e) {
    fail.push(`${certFile} is not a PEM certificate (${errorMessage(e)}).`);
    return { fail, warn };
  }
  const t = now().getTime();
  const to = Date.parse(cert.validTo);
  if (t < Date.parse(cert.validFrom)) fail.push(`${certFile} is not valid before ${cert.validFrom}; check the clock.`);
  else if (t > to) fail.push(`${certFile} expired on ${cert.validTo}; renew it (docs/OPERATIONS.md "TLS").`);
  else if (to - t < CERT_WARN_DAYS * 86_400_000)
    warn.push(`${certFile} expires on ${cert.validTo}, in less than ${CERT_WARN_DAYS} days; renew it.`);
  if (!keyProblem) {
    try {
      if (!cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile))))
        fail.push(`${keyFile} is not the key of ${certFile}; give the matching pair.`);
    } catch (e) {
      fail.push(`${keyFile} is not a PEM private key (${errorMessage(e)}).`);
    }
  }
  return { fail, warn };
}
