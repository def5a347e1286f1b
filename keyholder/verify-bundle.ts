import { ParticipantSchema, type RoundManifest } from '../schemas/manifest.js';
import { SbError, isSbError } from '../shared/errors/sb-error.js';
import { fingerprint } from '../shared/crypto/identity.js';
import type { Codebook } from '../shared/metrics/codebook.js';
import type { Bundle } from '../shared/protocol/bundle.js';
import { envelopeDigest, verifyEnvelope } from '../shared/protocol/envelope.js';
import { layoutCiphertexts } from '../shared/protocol/layout.js';
import { manifestCodebook, verifyManifest, verifyManifestEndorsement } from '../shared/protocol/round-documents.js';
import { parseContribution, type Contribution } from '../shared/protocol/wire.js';
import { participantsText, thresholdsText } from './endorse.js';
import type { EndorsementRecord } from './store/keyholder-store.js';

/** What the key holder knows about itself when it checks a manifest. */
export interface ManifestTrust {
  /** Own Ed25519 public key (the endorsement must be by it). */
  keyHolderKey: Uint8Array;
  /** Digest of own BFV public key (the round key must be it). */
  hePublicKeyDigest: string;
  /** Pinned coordinator key; when set, the manifest must carry its valid signature. */
  coordinatorKey?: Uint8Array;
  /** Endorsements of this round recorded in the log. */
  endorsements: readonly EndorsementRecord[];
}

/**
 * Check the round manifest of a bundle before anything else: same round as the bundle; signed
 * by the pinned coordinator (when pinned); carrying this key holder's own endorsement of
 * exactly this round, key, `max_participants` and thresholds, as recorded in its log; round
 * key is its own BFV key; codebook matches its digest. Returns the codebook.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "The round", steps 1 and 4
 */
export function verifyRoundManifest(bundle: Bundle, trust: ManifestTrust): Codebook {
  const m = bundle.manifest;
  if (bundle.index.round_id !== m.round_id) {
    throw new SbError(
      'SB_ERR_BUNDLE',
      `bundle.json is for round ${bundle.index.round_id} but its manifest for ${m.round_id}; ask the coordinator for a consistent bundle.`,
    );
  }
  if (trust.coordinatorKey && !verifyManifest(m, trust.coordinatorKey)) {
    throw new SbError(
      'SB_ERR_MANIFEST_SIGNATURE',
      `the manifest of round ${m.round_id} is not signed by the pinned coordinator key (fingerprint ${fingerprint(trust.coordinatorKey)}); ` +
        'do not release. Ask the coordinator, by phone, whether its key changed.',
      { round_id: m.round_id },
    );
  }
  if (!verifyManifestEndorsement(m, trust.keyHolderKey)) {
    // Name participants this key holder never endorsed for the round (added by the coordinator).
    const endorsed = new Set(
      trust.endorsements.flatMap((e) =>
        e.participants
          ? endorsedParticipants(e.participants).map((p) => `${p.institution_id} ${p.ed25519_public_key}`)
          : [],
      ),
    );
    const added = m.participants.filter((p) => !endorsed.has(`${p.institution_id} ${p.ed25519_public_key}`));
    if (added.length > 0)
      throw new SbError(
        'SB_ERR_NOT_ENDORSED',
        `the manifest of round ${m.round_id} lists participant(s) this key holder did not endorse: ` +
          `${added.map((p) => `${p.institution_id} (${p.name}, BRIN ${p.brin})`).join(', ')}. The coordinator added ` +
          'or changed them after the endorsement; do not release. Only institutions the key holder enrolled and ' +
          'endorsed take part.',
        { round_id: m.round_id, added: added.map((p) => p.institution_id) },
      );
    throw new SbError(
      'SB_ERR_NOT_ENDORSED',
      `the manifest of round ${m.round_id} does not carry this key holder's endorsement of its round id, key, ` +
        `max_participants, thresholds and participant list (thresholds ${JSON.stringify(m.thresholds)}); nodes ` +
        'were not promised what this key holder enforces. Do not release; the coordinator must reissue the manifest ' +
        "with 'keyholder endorse' output.",
      { round_id: m.round_id },
    );
  }
  if (m.he_public_key.digest !== trust.hePublicKeyDigest) {
    throw new SbError(
      'SB_ERR_MANIFEST_KEY',
      `round ${m.round_id} uses BFV key ${m.he_public_key.digest}, this key holder's key is ${trust.hePublicKeyDigest}; this home cannot decrypt the round.`,
    );
  }
  const t = thresholdsText(m.thresholds);
  const ps = participantsText(m.participants);
  const recorded = trust.endorsements.some(
    (e) =>
      e.hePublicKeyDigest === m.he_public_key.digest &&
      e.maxParticipants === m.max_participants &&
      e.thresholds === t &&
      e.participants === ps,
  );
  if (!recorded) {
    throw new SbError(
      'SB_ERR_NOT_ENDORSED',
      `the endorsement in the manifest of round ${m.round_id} verifies, but this key holder's log has no such ` +
        `endorsement (max_participants ${m.max_participants}, thresholds ${t}, ${m.participants.length} participants). ` +
        "If this home was restored from a backup, run 'keyholder endorse' again with the same values (the signature " +
        'is deterministic); otherwise treat the identity key as compromised.',
      { round_id: m.round_id },
    );
  }
  try {
    return manifestCodebook(m);
  } catch (e) {
    throw new SbError(
      'SB_ERR_MANIFEST',
      `the codebook of round ${m.round_id}'s manifest does not match its digest (${e instanceof Error ? e.message : String(e)}); ` +
        'ask the coordinator for the signed manifest.',
    );
  }
}

/** A verified contribution. */
export interface VerifiedContribution extends Contribution {
  institutionId: string;
}

/** The participants of a logged endorsement (canonical JSON); none when the log entry is unreadable. */
function endorsedParticipants(json: string): { institution_id: string; ed25519_public_key: string }[] {
  try {
    const r = ParticipantSchema.array().safeParse(JSON.parse(json));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}

function inContribution(e: unknown, i: number, institutionId: string): unknown {
  if (!isSbError(e)) return e;
  return new SbError(e.code, `contribution ${i} (${institutionId}) in the bundle: ${e.message}`, {
    ...e.details,
    institution_id: institutionId,
    index: i,
  });
}

/**
 * Verify every contribution of a bundle: wire format with validated ciphertexts; envelope
 * signed by the participant's enrolled key from the manifest; round, institution, codebook
 * digest, HE parameters, round key and ciphertext count as the manifest says; the institution
 * is a participant and appears once; the envelope digest is the one the coordinator indexed.
 * Throws at the first failure, naming the contribution and institution.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "The round", step 4
 */
export function verifyContributions(
  bundle: Bundle,
  manifest: RoundManifest,
  codebook: Codebook,
): VerifiedContribution[] {
  const check = envelopeChecker(manifest, codebook);
  const seen = new Set<string>();
  return bundle.contributions.map((c, i) => {
    try {
      const id = check(c.wire, c.institutionId, c.envelopeDigest);
      if (seen.has(id.institutionId)) {
        throw new SbError(
          'SB_ERR_DUPLICATE_INSTITUTION',
          `institution ${id.institutionId} appears more than once; one contribution per institution is summed. ` +
            "The coordinator must rebuild the bundle with only the institution's accepted contribution.",
        );
      }
      seen.add(id.institutionId);
      return id;
    } catch (e) {
      throw inContribution(e, i, c.institutionId);
    }
  });
}

/** A verified correction of a masked round: a survivor's encrypted difference new − old. */
export interface VerifiedCorrection extends VerifiedContribution {
  /** The latest published version when the coordinator received it. */
  afterVersion: number;
}

/**
 * Verify the corrections of a masked round's re-release bundle (issue 16, item 2; docs/DECISIONS.md
 * 80) exactly as contributions (signature of the participant's key, round, codebook, key,
 * ciphertext count, indexed digest), and that each is from a member of the survivor set U3
 * (`survivors`: only a survivor's masked input is in the sum to correct), that no envelope
 * appears twice, and that each was signed no earlier than the version it follows was published
 * (`publishedAt[v - 1]`, the envelope's signed `created_at`), so the coordinator cannot present an
 * old correction as new to the audit across versions.
 * @throws SbError `SB_ERR_BUNDLE` (not a survivor, repeated, older than claimed) or the
 *   contribution checks' codes, naming the correction
 */
export function verifyCorrections(
  bundle: Bundle,
  manifest: RoundManifest,
  codebook: Codebook,
  survivors: readonly string[],
  publishedAt: readonly string[],
): VerifiedCorrection[] {
  const check = envelopeChecker(manifest, codebook);
  const seen = new Set<string>();
  return (bundle.corrections ?? []).map((c, i) => {
    try {
      const v = check(c.wire, c.institutionId, c.envelopeDigest);
      const bad = correctionProblem(v, c.afterVersion, {
        survivors,
        seen: seen.has(c.envelopeDigest),
        publishedAt: publishedAt[c.afterVersion - 1],
      });
      if (bad)
        throw new SbError(
          'SB_ERR_BUNDLE',
          `${bad}; nothing is decrypted. Ask the coordinator for a consistent bundle.`,
        );
      seen.add(c.envelopeDigest);
      return { ...v, afterVersion: c.afterVersion };
    } catch (e) {
      if (!isSbError(e)) throw e;
      throw new SbError(e.code, `correction ${i} (${c.institutionId}) in the bundle: ${e.message}`, {
        ...e.details,
        institution_id: c.institutionId,
        correction: i,
      });
    }
  });
}

/**
 * Why a verified correction cannot be summed (not a survivor's, repeated, following a version the
 * bundle lacks, or signed before the version it follows was published), or null when it can.
 * @param c.publishedAt when the version the correction follows was published (RFC 3339)
 */
function correctionProblem(
  v: { institutionId: string; envelope: { created_at: string } },
  afterVersion: number,
  c: { survivors: readonly string[]; seen: boolean; publishedAt: string | undefined },
): string | null {
  if (!c.survivors.includes(v.institutionId))
    return `${v.institutionId} is not in the survivor set of the masked round, so no masked input of it is in the sum to correct`;
  if (c.seen) return 'the same correction appears twice';
  if (c.publishedAt === undefined) return `it follows version ${afterVersion}, which the bundle does not carry`;
  if (Date.parse(v.envelope.created_at) < Date.parse(c.publishedAt))
    return (
      `it was signed (${v.envelope.created_at}) before version ${afterVersion} was published ` +
      `(${c.publishedAt}), which it is said to follow`
    );
  return null;
}

/**
 * The checks of one envelope in a bundle: wire format with validated ciphertexts; signed by the
 * participant's enrolled key from the manifest; round, institution, codebook digest, HE
 * parameters, round key and ciphertext count as the manifest says; the envelope digest is the one
 * the coordinator indexed.
 */
function envelopeChecker(
  manifest: RoundManifest,
  codebook: Codebook,
): (wire: Uint8Array, indexedAs: string, indexedDigest: string) => VerifiedContribution {
  const participants = new Map(
    manifest.participants.map((p) => [p.institution_id, new Uint8Array(Buffer.from(p.ed25519_public_key, 'base64'))]),
  );
  const ciphertextCount = layoutCiphertexts(codebook);
  return (wire, indexedAs, indexedDigest) => {
    const parsed = parseContribution(wire, { validate: true });
    const id = parsed.envelope.institution_id;
    if (id !== indexedAs) {
      throw new SbError(
        'SB_ERR_ENVELOPE_MISMATCH',
        `the bundle indexes it as ${indexedAs} but its envelope is from ${id}; the bundle is inconsistent, ask the coordinator for a new one.`,
      );
    }
    const key = participants.get(id);
    if (!key) {
      throw new SbError(
        'SB_ERR_NOT_PARTICIPANT',
        `institution ${id} is not a participant of round ${manifest.round_id}; the coordinator must leave it out of the bundle.`,
      );
    }
    verifyEnvelope(parsed.envelope, key, {
      expect: {
        roundId: manifest.round_id,
        institutionId: id,
        codebookDigest: manifest.codebook.digest,
        hePublicKeyDigest: manifest.he_public_key.digest,
        ciphertextCount,
      },
      // parseContribution already bound each ciphertext to its signed digest.
    });
    const env = parsed.envelope;
    for (const [field, got, want] of [
      ['metric_spec', env.metric_spec, manifest.metric_spec],
      ['slot_layout', env.slot_layout, manifest.slot_layout],
      ['he_params', env.he_params, manifest.he_params],
    ] as const) {
      if (got !== want)
        throw new SbError(
          'SB_ERR_ENVELOPE_MISMATCH',
          `the envelope's ${field} is ${got}, round ${manifest.round_id} uses ${want}; the institution must resubmit.`,
          { field },
        );
    }
    if (envelopeDigest(env) !== indexedDigest) {
      throw new SbError(
        'SB_ERR_BUNDLE',
        `its envelope digest differs from the one in bundle.json; the bundle is inconsistent, ask the coordinator for a new one.`,
      );
    }
    return { ...parsed, institutionId: id };
  };
}
