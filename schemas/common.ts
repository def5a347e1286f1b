import { z } from 'zod';

/** Lower-case hex SHA-256 digest. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex SHA-256 digest (64 characters)');

const b64 = (bytes: number) => {
  const len = 4 * Math.ceil(bytes / 3);
  return z
    .string()
    .length(len)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'standard base64')
    .refine(
      (s) => Buffer.from(s, 'base64').length === bytes && Buffer.from(s, 'base64').toString('base64') === s,
      `base64 of exactly ${bytes} bytes`,
    );
};

/** Base64 (RFC 4648 §4, padded) of an Ed25519 public key (32 bytes). */
export const Ed25519PublicKeyB64 = b64(32);
/** Base64 of a detached Ed25519 signature (64 bytes). */
export const Ed25519SignatureB64 = b64(64);
/** Base64 of a 16-byte nonce. */
export const NonceB64 = b64(16);

/** Round id, e.g. `2024-2025-r1`. */
export const RoundId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and -, at most 63');
/** Institution id (BRIN-like code or coalition id). */
export const InstitutionId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'letters, digits, _ and -, at most 32');
/** `S-(S+1)`, e.g. `2024-2025`. */
export const Studiejaar = z
  .string()
  .regex(/^\d{4}-\d{4}$/)
  .refine((s) => Number(s.slice(5)) === Number(s.slice(0, 4)) + 1, 'the second year follows the first');
/** RFC 3339 date-time in UTC with `Z`. */
export const IsoDateTime = z.iso.datetime({ offset: false });
/** Cell key `crebo|niveau|leerweg`. */
export const CellKey = z.string().regex(/^\d{5}\|[1-4]\|(BOL|BBL)$/);
/** Rollup group key (METRICS.md "Group rows"). */
export const GroupKey = z
  .string()
  .regex(/^(total|niveau\|[1-4]|leerweg\|(BOL|BBL)|sectorkamer\|[^|]+|sectorkamer_niveau\|[^|]+\|[1-4])$/);

export const METRIC_SPEC_V1 = z.literal('v1');
export const SLOT_LAYOUT_V1 = z.literal('sb-layout-v1');
export const HE_PARAMS_V1 = z.literal('bfv-n4096-t40-tc128-v1');
