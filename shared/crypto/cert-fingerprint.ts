import { X509Certificate } from 'node:crypto';
import { SbError, errorMessage } from '../errors/sb-error.js';

/** `AB:CD:…`: 32 colon-separated upper-case hex bytes, as `openssl x509 -fingerprint -sha256` prints. */
export const CERT_FINGERPRINT_RE = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/**
 * SHA-256 fingerprint of an X.509 certificate (over its DER encoding), in the form
 * `openssl x509 -noout -fingerprint -sha256` prints, so operators can compare the two.
 * @throws SbError `SB_ERR_TLS_CERT` when `pem` holds no certificate
 */
export function certFingerprint(pem: string | Buffer, what = 'the certificate'): string {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch (e) {
    throw new SbError('SB_ERR_TLS_CERT', `${what} is not a PEM X.509 certificate (${errorMessage(e)}).`);
  }
}

/**
 * Normalise a fingerprint an operator typed (with or without colons, any case) to
 * {@link CERT_FINGERPRINT_RE} form.
 * @throws SbError `SB_ERR_USAGE` when it is not 32 hex bytes
 */
export function normaliseFingerprint(input: string): string {
  const hex = input.replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex))
    throw new SbError(
      'SB_ERR_USAGE',
      `'${input}' is not a SHA-256 certificate fingerprint (64 hex digits, colons allowed), e.g. ` +
        "the output of 'openssl x509 -noout -fingerprint -sha256 -in cert.pem'.",
    );
  return (hex.match(/../g) as string[]).join(':');
}
