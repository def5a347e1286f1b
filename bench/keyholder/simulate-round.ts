/**
 * A simulated round around a key holder: what nodes and the coordinator would produce
 * (encrypted contributions, signed envelopes, a signed manifest carrying the key holder's
 * endorsement, the close-of-round bundle). Used by the key holder's tests and benchmark; it
 * uses only shared/ code, never node/ or coordinator/.
 */
import type { EndorsementFile } from '../../schemas/endorsement.js';
import type { RoundManifest, Thresholds, Participant } from '../../schemas/manifest.js';
import { bfvPublicKeyDigest } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { HE_PARAMS } from '../../shared/crypto/he-params.js';
import type { Identity } from '../../shared/crypto/identity.js';
import { sumContributions } from '../../shared/crypto/sum.js';
import { codebookDigest, type Codebook } from '../../shared/metrics/codebook.js';
import type { ContributionVector } from '../../shared/metrics/vector.js';
import { writeBundle, type BundleIndex } from '../../shared/protocol/bundle.js';
import { buildEnvelope, envelopeDigest, signEnvelope } from '../../shared/protocol/envelope.js';
import { flatten, layoutCiphertexts } from '../../shared/protocol/layout.js';
import { signManifest } from '../../shared/protocol/round-documents.js';
import { encodeContribution, parseContribution } from '../../shared/protocol/wire.js';

/** One bundled contribution, as `writeBundle` takes it. */
export interface BundledContribution {
  institutionId: string;
  wire: Uint8Array;
  envelopeDigest: string;
}

/** Encrypt a vector as a node would (layout v1, range-checked for `maxParticipants`). */
export async function encryptVector(
  codebook: Codebook,
  vector: ContributionVector,
  publicKey: Uint8Array,
  maxParticipants: number,
): Promise<Uint8Array[]> {
  return encryptSlots(publicKey, flatten(codebook, vector, { maxParticipants }));
}

/** Envelope, signature and wire bytes of one contribution. */
export function contributionWire(o: {
  roundId: string;
  institutionId: string;
  identity: Identity;
  codebook: Codebook;
  hePublicKeyDigest: string;
  ciphertexts: readonly Uint8Array[];
  createdAt?: Date;
}): BundledContribution {
  const envelope = signEnvelope(
    buildEnvelope({
      roundId: o.roundId,
      institutionId: o.institutionId,
      codebookDigest: codebookDigest(o.codebook),
      hePublicKeyDigest: o.hePublicKeyDigest,
      ciphertexts: o.ciphertexts,
      createdAt: o.createdAt ?? new Date('2025-10-20T10:00:00Z'),
    }),
    o.identity.secretKey,
  );
  return {
    institutionId: o.institutionId,
    wire: encodeContribution({ envelope, ciphertexts: [...o.ciphertexts] }),
    envelopeDigest: envelopeDigest(envelope),
  };
}

/** The coordinator's signed manifest for a round, carrying the key holder's endorsement. */
export function roundManifest(o: {
  codebook: Codebook;
  studiejaar: string;
  /** The manifest's participants; default exactly the endorsed list (tests pass others). */
  participants?: readonly Participant[];
  hePublicKey: Uint8Array;
  endorsement: EndorsementFile;
  coordinator: Identity;
  deadline?: string;
  /** Override what the manifest says (tests of manifests the key holder did not endorse). */
  override?: { thresholds?: Thresholds; maxParticipants?: number };
}): RoundManifest {
  const e = o.endorsement;
  return signManifest(
    {
      type: 'sectorbench.round-manifest',
      version: 1,
      round_id: e.round_id,
      studiejaar: o.studiejaar,
      metric_spec: 'v1',
      slot_layout: 'sb-layout-v1',
      he_params: HE_PARAMS.id,
      codebook: {
        digest: codebookDigest(o.codebook),
        entries: o.codebook.entries.map((x) => ({
          crebo: x.crebo,
          name: x.name,
          niveau: x.niveau,
          sectorkamer_code: x.sectorkamerCode,
          sectorkamer_name: x.sectorkamerName,
        })),
      },
      thresholds: o.override?.thresholds ?? e.thresholds,
      participants: [...(o.participants ?? e.participants)],
      max_participants: o.override?.maxParticipants ?? e.max_participants,
      deadline: o.deadline ?? '2025-11-01T00:00:00Z',
      he_public_key: {
        digest: bfvPublicKeyDigest(o.hePublicKey),
        base64: Buffer.from(o.hePublicKey).toString('base64'),
      },
      key_holder_endorsement: { ed25519_public_key: e.ed25519_public_key, signature: e.signature },
    },
    o.coordinator.secretKey,
  );
}

/**
 * Write a close-of-round bundle. The sum defaults to the coordinator's honest sum of the
 * contributions (JS streaming sum, as the coordinator computes it).
 */
export function writeRoundBundle(
  dir: string,
  o: { manifest: RoundManifest; codebook: Codebook; contributions: BundledContribution[]; sum?: readonly Uint8Array[] },
): BundleIndex {
  const sum =
    o.sum ??
    sumContributions(
      o.contributions.map((c) => parseContribution(c.wire, { validate: false }).ciphertexts),
      layoutCiphertexts(o.codebook),
    );
  return writeBundle(dir, { manifest: o.manifest, contributions: o.contributions, sum });
}
