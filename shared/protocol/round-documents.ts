import type { EndorsementFile } from '../../schemas/endorsement.js';
import type { Participant, RoundManifest, Thresholds } from '../../schemas/manifest.js';
import type { Release } from '../../schemas/release.js';
import type { MaskingEndorsement } from '../../schemas/secagg.js';
import { buildCodebook, codebookDigest, type Codebook } from '../metrics/codebook.js';
import { canonicalBytes } from './canonical.js';
import { signDetached, verifyDetached } from '../crypto/identity.js';
import { signObject, verifyObject } from './signed-object.js';

/** Signature purposes (domain separation) of the round's documents. */
export const PURPOSE = {
  manifest: 'round-manifest',
  endorsement: 'key-holder-endorsement',
  receipt: 'receipt',
  auditHead: 'audit-head-attestation',
  release: 'release',
  secaggAck: 'secagg-ack',
} as const;

/**
 * What the key holder's endorsement signature covers (schemas/manifest.ts,
 * KeyHolderEndorsementSchema): round, HE parameters and key, `max_participants`, thresholds,
 * the participant list (id, name, BRIN, identity key; issue 11), so a participant the
 * coordinator adds or changes breaks the endorsement, and, for a masked round, the masking
 * (`masking`: Shamir threshold t, mask graph, reveal key; the manifest's `secagg`; issue 10).
 */
export function endorsementPayload(e: {
  round_id: string;
  he_params: string;
  he_public_key_digest: string;
  max_participants: number;
  thresholds: Thresholds;
  participants: readonly Participant[];
  masking?: MaskingEndorsement | undefined;
}) {
  return {
    round_id: e.round_id,
    he_params: e.he_params,
    he_public_key_digest: e.he_public_key_digest,
    max_participants: e.max_participants,
    thresholds: e.thresholds,
    participants: e.participants.map((p) => ({
      institution_id: p.institution_id,
      name: p.name,
      brin: p.brin,
      ed25519_public_key: p.ed25519_public_key,
    })),
    // Masked rounds (issue 10): the key holder endorses the Shamir threshold t too.
    ...(e.masking !== undefined ? { masking: e.masking } : {}),
  };
}

/** Key holder: sign an endorsement of a round's key and thresholds. */
export function signEndorsement(
  e: Omit<EndorsementFile, 'signature' | 'ed25519_public_key'>,
  identity: { publicKey: Uint8Array; secretKey: Uint8Array },
): EndorsementFile {
  const sig = signDetached(PURPOSE.endorsement, canonicalBytes(endorsementPayload(e)), identity.secretKey);
  return {
    ...e,
    ed25519_public_key: Buffer.from(identity.publicKey).toString('base64'),
    signature: Buffer.from(sig).toString('base64'),
  };
}

/** Verify the key holder's endorsement inside a manifest against the pinned key-holder key. */
export function verifyManifestEndorsement(m: RoundManifest, keyHolderKey: Uint8Array): boolean {
  if (m.key_holder_endorsement.ed25519_public_key !== Buffer.from(keyHolderKey).toString('base64')) return false;
  const payload = endorsementPayload({
    round_id: m.round_id,
    he_params: m.he_params,
    he_public_key_digest: m.he_public_key.digest,
    max_participants: m.max_participants,
    thresholds: m.thresholds,
    participants: m.participants,
    masking: m.secagg
      ? { threshold: m.secagg.threshold, graph: m.secagg.graph, reveal_public_key: m.secagg.reveal_public_key }
      : undefined,
  });
  return verifyDetached(
    PURPOSE.endorsement,
    canonicalBytes(payload),
    new Uint8Array(Buffer.from(m.key_holder_endorsement.signature, 'base64')),
    keyHolderKey,
  );
}

/** Verify an endorsement file against the pinned key-holder key. */
export function verifyEndorsementFile(e: EndorsementFile, keyHolderKey: Uint8Array): boolean {
  if (e.ed25519_public_key !== Buffer.from(keyHolderKey).toString('base64')) return false;
  return verifyDetached(
    PURPOSE.endorsement,
    canonicalBytes(endorsementPayload(e)),
    new Uint8Array(Buffer.from(e.signature, 'base64')),
    keyHolderKey,
  );
}

/** Coordinator: sign a manifest (all fields but `coordinator_signature`). */
export function signManifest(m: Omit<RoundManifest, 'coordinator_signature'>, secretKey: Uint8Array): RoundManifest {
  return signObject(PURPOSE.manifest, m, 'coordinator_signature', secretKey) as RoundManifest;
}

/** Verify the coordinator's signature on a manifest. */
export function verifyManifest(m: RoundManifest, coordinatorKey: Uint8Array): boolean {
  return verifyObject(PURPOSE.manifest, m, 'coordinator_signature', coordinatorKey);
}

/** Key holder: sign a release (all fields but `key_holder_signature`). */
export function signRelease(r: Omit<Release, 'key_holder_signature'>, secretKey: Uint8Array): Release {
  return signObject(PURPOSE.release, r, 'key_holder_signature', secretKey) as Release;
}

/** Verify the key holder's signature on a release. */
export function verifyRelease(r: Release, keyHolderKey: Uint8Array): boolean {
  return verifyObject(PURPOSE.release, r, 'key_holder_signature', keyHolderKey);
}

/** A field in which a release differs from the manifest of the round it claims to belong to. */
export interface ReleaseMismatch {
  field: 'round_id' | 'studiejaar' | 'metric_spec' | 'codebook_digest' | 'thresholds';
  got: string;
  want: string;
}

/**
 * The first field in which `r` does not belong to the round of manifest `m` (round id,
 * studiejaar, metric spec, codebook digest, disclosure thresholds), or `null` when it belongs.
 * One definition for every role (issue 10, "round spine"): the coordinator refuses to publish a
 * mismatching release and a node refuses to use one. The signature is checked apart
 * (`verifyRelease`).
 */
export function releaseManifestMismatch(r: Release, m: RoundManifest): ReleaseMismatch | null {
  const checks: ReleaseMismatch[] = [
    { field: 'round_id', got: r.round_id, want: m.round_id },
    { field: 'studiejaar', got: r.studiejaar, want: m.studiejaar },
    { field: 'metric_spec', got: r.metric_spec, want: m.metric_spec },
    { field: 'codebook_digest', got: r.codebook_digest, want: m.codebook.digest },
    { field: 'thresholds', got: thresholdsText(r.thresholds), want: thresholdsText(m.thresholds) },
  ];
  return checks.find((c) => c.got !== c.want) ?? null;
}

/** The disclosure thresholds as JSON with a fixed member order, for comparison. */
function thresholdsText(t: Thresholds): string {
  return JSON.stringify({
    min_institutions: t.min_institutions,
    min_population: t.min_population,
    dominance_share: t.dominance_share,
    min_institutions_distribution: t.min_institutions_distribution,
  });
}

/** The codebook of a manifest, with its digest checked against the manifest's. */
export function manifestCodebook(m: RoundManifest): Codebook {
  const cb = buildCodebook(
    m.codebook.entries.map((e) => ({
      crebo: e.crebo,
      name: e.name,
      niveau: e.niveau,
      sectorkamerCode: e.sectorkamer_code,
      sectorkamerName: e.sectorkamer_name,
    })),
  );
  if (codebookDigest(cb) !== m.codebook.digest) throw new Error('the manifest codebook does not match its digest');
  return cb;
}

/** The studiejaar S (first year) of a manifest's `S-(S+1)` label. */
export function manifestYear(m: RoundManifest): number {
  return Number(m.studiejaar.slice(0, 4));
}
