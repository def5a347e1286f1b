import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { certFingerprint } from '../../shared/crypto/cert-fingerprint.js';
import { SbError, errorMessage } from '../../shared/errors/sb-error.js';

/** Files of a coordinator's TLS set-up inside its home (`tls/`). */
export const TLS_FILES = {
  dir: 'tls',
  /** The coalition CA's certificate: public, handed to every node at enrolment. */
  ca: 'tls/ca.pem',
  /** The coalition CA's private key (0600): only needed to issue the next server certificate. */
  caKey: 'tls/ca-key.pem',
  cert: 'tls/server.pem',
  key: 'tls/server-key.pem',
} as const;

/** Days a server certificate issued by the coalition CA is valid (renew before: `doctor` warns 30 days ahead). */
export const SERVER_CERT_DAYS = 825;
/** Days the coalition CA is valid. */
export const CA_DAYS = 3650;

/** What {@link createCoalitionCa} and {@link installCertificate} set up. */
export interface TlsSetup {
  certFile: string;
  keyFile: string;
  /** The CA certificate nodes pin (absent for given certificate files). */
  caFile?: string;
  /** SHA-256 fingerprint of what nodes pin: the CA certificate, or the server certificate. */
  fingerprint: string;
  /** The names the server certificate is valid for. */
  names: string[];
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT')
      throw new SbError(
        'SB_ERR_TLS_OPENSSL',
        "the 'openssl' command is not installed; install it ('apt install openssl') or give --tls-cert and --tls-key.",
      );
    throw new SbError(
      'SB_ERR_TLS_OPENSSL',
      `openssl ${args[0]} failed: ${
        String(err.stderr ?? err.message)
          .trim()
          .split('\n')[0]
      }`,
    );
  }
}

/** Subject alternative names for the coordinator: the public URL's host and a specific listen address. */
export function serverNames(publicUrl: string, listenHost: string): string[] {
  const names = new Set<string>();
  const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
  names.add(host);
  if (!['0.0.0.0', '::', ''].includes(listenHost)) names.add(listenHost);
  return [...names];
}

function san(names: readonly string[]): string {
  return names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
}

/**
 * Create a private coalition CA and a server certificate signed by it, with the `openssl`
 * command (node:crypto cannot make X.509 certificates; DECISIONS: why openssl). Keys are ECDSA
 * P-256. The CA certificate (`tls/ca.pem`) is what nodes pin at enrolment; the CA key stays in
 * `tls/ca-key.pem` (0600) to issue the next server certificate. Files appear only when all were
 * made (written in a private scratch folder, then renamed).
 *
 * @param home the coordinator home (absolute)
 * @param names the server certificate's subject alternative names (DNS names or IP addresses)
 * @throws SbError `SB_ERR_TLS_OPENSSL`, `SB_ERR_EXISTS`
 */
export function createCoalitionCa(home: string, names: readonly string[], caName: string): TlsSetup {
  for (const f of [TLS_FILES.ca, TLS_FILES.caKey, TLS_FILES.cert, TLS_FILES.key])
    if (existsSync(join(home, f)))
      throw new SbError('SB_ERR_EXISTS', `${join(home, f)} exists already; TLS is set up in this home.`, {
        file: join(home, f),
      });
  const scratch = mkdtempSync(join(home, '.tls-'));
  try {
    chmodSync(scratch, 0o700);
    makeCa(scratch, caName);
    issueServerCertificate(scratch, names);
    const ca = installCertificates(home, scratch);
    return {
      certFile: TLS_FILES.cert,
      keyFile: TLS_FILES.key,
      caFile: TLS_FILES.ca,
      fingerprint: ca.fingerprint256,
      names: [...names],
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** ECDSA P-256 key options of `openssl req`. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** The coalition CA in `scratch`: `ca.pem` (self-signed, CA:TRUE, path length 0) and `ca-key.pem`. */
function makeCa(scratch: string, caName: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
      '-days',
      String(CA_DAYS),
      '-subj',
      `/CN=${caName.replace(/[/=\\]/g, ' ')}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    scratch,
  );
}

/** A server key and certificate in `scratch` (`server-key.pem`, `server.pem`) for `names`, signed by the CA. */
function issueServerCertificate(scratch: string, names: readonly string[]): void {
  openssl(
    ['req', '-new', ...EC_KEY, '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', `/CN=${names[0]}`],
    scratch,
  );
  writeFileSync(
    join(scratch, 'server.ext'),
    `subjectAltName=${san(names)}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      String(SERVER_CERT_DAYS),
      '-sha256',
      '-extfile',
      'server.ext',
      '-out',
      'server.pem',
    ],
    scratch,
  );
}

/**
 * Check that the server certificate verifies under the CA and matches its key, set the modes
 * (keys 0600, certificates 0644) and move the four files into `<home>/tls/`. Returns the CA.
 *
 * @throws SbError `SB_ERR_TLS_OPENSSL` when the certificate does not verify (nothing installed)
 */
function installCertificates(home: string, scratch: string): X509Certificate {
  const ca = new X509Certificate(readFileSync(join(scratch, 'ca.pem')));
  const cert = new X509Certificate(readFileSync(join(scratch, 'server.pem')));
  if (
    !cert.verify(ca.publicKey) ||
    !cert.checkPrivateKey(createPrivateKey(readFileSync(join(scratch, 'server-key.pem'))))
  )
    throw new SbError('SB_ERR_TLS_OPENSSL', 'openssl made a certificate that does not verify; nothing was set up.');
  for (const k of ['ca-key.pem', 'server-key.pem']) chmodSync(join(scratch, k), 0o600);
  for (const k of ['ca.pem', 'server.pem']) chmodSync(join(scratch, k), 0o644);
  mkdirTls(home);
  renameSync(join(scratch, 'ca.pem'), join(home, TLS_FILES.ca));
  renameSync(join(scratch, 'ca-key.pem'), join(home, TLS_FILES.caKey));
  renameSync(join(scratch, 'server.pem'), join(home, TLS_FILES.cert));
  renameSync(join(scratch, 'server-key.pem'), join(home, TLS_FILES.key));
  return ca;
}

function mkdirTls(home: string): void {
  // 0755: the folder holds the public certificates too; the keys in it are 0600.
  mkdirSync(join(home, TLS_FILES.dir), { recursive: true, mode: 0o755 });
}

/**
 * Install given certificate and key files (e.g. from the institution's PKI or a public CA) into
 * `tls/`: the key must be the certificate's, and is copied 0600. Nodes pin the certificate's
 * SHA-256 fingerprint, or the CA that issued it.
 *
 * @throws SbError `SB_ERR_TLS_CERT`
 */
export function installCertificate(home: string, certFile: string, keyFile: string): TlsSetup {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(certFile));
  } catch (e) {
    throw new SbError('SB_ERR_TLS_CERT', `--tls-cert ${certFile} is not a PEM certificate (${errorMessage(e)}).`, {
      file: certFile,
    });
  }
  let matches = false;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)));
  } catch (e) {
    throw new SbError('SB_ERR_TLS_CERT', `--tls-key ${keyFile} is not a PEM private key (${errorMessage(e)}).`, {
      file: keyFile,
    });
  }
  if (!matches)
    throw new SbError('SB_ERR_TLS_CERT', `--tls-key ${keyFile} is not the private key of --tls-cert ${certFile}.`, {
      file: keyFile,
    });
  mkdirTls(home);
  copyFileSync(certFile, join(home, TLS_FILES.cert));
  chmodSync(join(home, TLS_FILES.cert), 0o644);
  copyFileSync(keyFile, join(home, TLS_FILES.key));
  chmodSync(join(home, TLS_FILES.key), 0o600);
  const names = (cert.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
  return {
    certFile: TLS_FILES.cert,
    keyFile: TLS_FILES.key,
    fingerprint: certFingerprint(readFileSync(certFile)),
    names,
  };
}
