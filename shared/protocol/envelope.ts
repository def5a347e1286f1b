import { createHash, randomBytes } from 'node:crypto';
import {
  ContributionEnvelopeSchema,
  type ContributionEnvelope,
  type UnsignedContributionEnvelope,
} from '../../schemas/envelope.js';
import { signDetached, verifyDetached } from '../crypto/identity.js';
import { HE_PARAMS } from '../crypto/he-params.js';
import { SbError } from '../errors/sb-error.js';
import { METRIC_SPEC } from '../metrics/slots.js';
import { canonicalBytes } from './canonical.js';
import { SLOT_LAYOUT_VERSION } from './layout.js';
import { formatZodIssues } from '../errors/zod-issues.js';

export type { ContributionEnvelope, UnsignedContributionEnvelope };

/** Signature purpose (domain separation) of contribution envelopes. */
export const ENVELOPE_PURPOSE = 'contribution-envelope';

/** SHA-256 (hex) of one ciphertext's bytes. */
export function ciphertextDigest(ct: Uint8Array): string {
  return createHash('sha256').update(ct).digest('hex');
}

/** What an envelope binds, besides the constants of this implementation. */
export interface EnvelopeInput {
  roundId: string;
  institutionId: string;
  codebookDigest: string;
  hePublicKeyDigest: string;
  ciphertexts: readonly Uint8Array[];
  createdAt?: Date;
  nonce?: Uint8Array;
}

/**
 * Build the unsigned envelope of a contribution: round, institution, metric-spec version,
 * codebook digest, slot-layout version, HE parameters and round key digest, the ciphertext
 * digests in layout order, created-at and a fresh 16-byte nonce.
 * @see ../../../shared/spec/ARCHITECTURE.md "The round" step 2
 */
export function buildEnvelope(input: EnvelopeInput): UnsignedContributionEnvelope {
  const createdAt = (input.createdAt ?? new Date()).toISOString();
  return {
    type: 'sectorbench.contribution-envelope',
    version: 1,
    round_id: input.roundId,
    institution_id: input.institutionId,
    metric_spec: METRIC_SPEC,
    codebook_digest: input.codebookDigest,
    slot_layout: SLOT_LAYOUT_VERSION,
    he_params: HE_PARAMS.id,
    he_public_key_digest: input.hePublicKeyDigest,
    ciphertext_digests: input.ciphertexts.map(ciphertextDigest),
    created_at: createdAt,
    nonce: Buffer.from(input.nonce ?? randomBytes(16)).toString('base64'),
  };
}

function unsignedPart(env: ContributionEnvelope | UnsignedContributionEnvelope): UnsignedContributionEnvelope {
  const { signature: _omit, ...rest } = env as ContributionEnvelope;
  return rest;
}

/** Sign an envelope with the institution's Ed25519 secret key (over its RFC 8785 bytes). */
export function signEnvelope(unsigned: UnsignedContributionEnvelope, secretKey: Uint8Array): ContributionEnvelope {
  const body = unsignedPart(unsigned);
  const sig = signDetached(ENVELOPE_PURPOSE, canonicalBytes(body), secretKey);
  return ContributionEnvelopeSchema.parse({ ...body, signature: Buffer.from(sig).toString('base64') });
}

/** Canonical bytes of a signed envelope (RFC 8785), as it travels on the wire. */
export function encodeEnvelope(env: ContributionEnvelope): Uint8Array {
  return canonicalBytes(ContributionEnvelopeSchema.parse(env));
}

/** SHA-256 (hex) of a signed envelope's canonical bytes (what receipts name). */
export function envelopeDigest(env: ContributionEnvelope): string {
  return createHash('sha256').update(encodeEnvelope(env)).digest('hex');
}

/** Parse envelope bytes (UTF-8 JSON) or a parsed value against the schema. Throws `SB_ERR_ENVELOPE_SCHEMA`. */
export function parseEnvelope(input: Uint8Array | unknown): ContributionEnvelope {
  let value: unknown = input;
  if (input instanceof Uint8Array) {
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(input));
    } catch {
      throw new SbError('SB_ERR_ENVELOPE_SCHEMA', 'the envelope is not UTF-8 JSON; the sender must resubmit.');
    }
  }
  const r = ContributionEnvelopeSchema.safeParse(value);
  if (!r.success) {
    throw new SbError(
      'SB_ERR_ENVELOPE_SCHEMA',
      `the envelope does not match the contribution-envelope schema (${formatZodIssues(r.error.issues)}); the sender must resubmit.`,
      {
        issues: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
      },
    );
  }
  return r.data;
}

/** What the verifier expects the envelope to say (fields left out are not compared). */
export interface EnvelopeExpectations {
  roundId?: string;
  institutionId?: string;
  codebookDigest?: string;
  hePublicKeyDigest?: string;
  ciphertextCount?: number;
}

/**
 * Verify an envelope: the institution's signature, then the expected round, institution,
 * codebook and key, and (when given) that the ciphertexts match the signed digests. Throws
 * `SB_ERR_SIGNATURE`, `SB_ERR_ENVELOPE_MISMATCH` or `SB_ERR_CT_DIGEST`.
 */
export function verifyEnvelope(
  env: ContributionEnvelope,
  publicKey: Uint8Array,
  options: { expect?: EnvelopeExpectations; ciphertexts?: readonly Uint8Array[] } = {},
): void {
  const parsed = parseEnvelope(env);
  const sig = new Uint8Array(Buffer.from(parsed.signature, 'base64'));
  if (!verifyDetached(ENVELOPE_PURPOSE, canonicalBytes(unsignedPart(parsed)), sig, publicKey)) {
    throw new SbError(
      'SB_ERR_SIGNATURE',
      `the envelope of institution ${parsed.institution_id} for round ${parsed.round_id} has no valid ` +
        "signature by the institution's enrolled key; refuse it and ask the institution to resubmit.",
      { institution_id: parsed.institution_id, round_id: parsed.round_id },
    );
  }
  const e = options.expect ?? {};
  const checks: [string, unknown, unknown][] = [
    ['round_id', e.roundId, parsed.round_id],
    ['institution_id', e.institutionId, parsed.institution_id],
    ['codebook_digest', e.codebookDigest, parsed.codebook_digest],
    ['he_public_key_digest', e.hePublicKeyDigest, parsed.he_public_key_digest],
    ['ciphertext count', e.ciphertextCount, parsed.ciphertext_digests.length],
  ];
  for (const [field, want, got] of checks) {
    if (want !== undefined && want !== got) {
      throw new SbError(
        'SB_ERR_ENVELOPE_MISMATCH',
        `the envelope's ${field} is ${String(got)}, this round expects ${String(want)}; the institution must resubmit for this round.`,
        { field },
      );
    }
  }
  if (options.ciphertexts) {
    const cts = options.ciphertexts;
    if (cts.length !== parsed.ciphertext_digests.length) {
      throw new SbError(
        'SB_ERR_CT_DIGEST',
        `${cts.length} ciphertexts arrived, the envelope signs ${parsed.ciphertext_digests.length}; refuse the submission.`,
      );
    }
    cts.forEach((ct, i) => {
      if (ciphertextDigest(ct) !== parsed.ciphertext_digests[i]) {
        throw new SbError(
          'SB_ERR_CT_DIGEST',
          `ciphertext ${i} does not match the digest the institution signed (altered in transit or storage); refuse the submission.`,
          { index: i },
        );
      }
    });
  }
}
