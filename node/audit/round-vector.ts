import type { RoundManifest } from '../../schemas/manifest.js';
import { CIPHERTEXT_BYTES } from '../../shared/crypto/he-params.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { buildEnvelope, encodeEnvelope } from '../../shared/protocol/envelope.js';
import { flatten, layoutCiphertexts, subModT } from '../../shared/protocol/layout.js';
import { manifestCodebook, manifestYear } from '../../shared/protocol/round-documents.js';
import { SbError } from '../../shared/errors/sb-error.js';
import type { ComputedVector } from '../vector/compute.js';
import type { StoredDataset } from '../store/dataset-store.js';
import type { NodeDb } from '../store/node-db.js';
import { RoundStore } from '../store/round-store.js';
import { vectorDigest } from '../../shared/protocol/vector-digest.js';
import { computeFromDb } from '../vector/node-vector.js';
import { vectorFromJson, type VectorJson } from '../../shared/metrics/vector.js';
import { readAudit } from './log.js';

/**
 * Size in bytes of the body of the contribution POST (wire format v1,
 * shared/protocol/wire.ts): `12 + envelope + n x 131,185`. The envelope's length is fixed by
 * the lengths of its fields (ids, digests, a 24-character timestamp, base64 nonce and
 * signature), so it is computed from a placeholder envelope of the same shape.
 */
export function contributionBytes(manifest: RoundManifest, institutionId: string, ciphertexts: number): number {
  const placeholder = buildEnvelope({
    roundId: manifest.round_id,
    institutionId,
    codebookDigest: manifest.codebook.digest,
    hePublicKeyDigest: manifest.he_public_key.digest,
    ciphertexts: [],
    createdAt: new Date('2000-01-01T00:00:00.000Z'),
    nonce: new Uint8Array(16),
  });
  const env = encodeEnvelope({
    ...placeholder,
    ciphertext_digests: new Array<string>(ciphertexts).fill('0'.repeat(64)),
    signature: Buffer.alloc(64).toString('base64'),
  });
  return 12 + env.byteLength + ciphertexts * CIPHERTEXT_BYTES;
}

/** The vector of a round as it will be encrypted, with everything preview, approve and submit need. */
export interface RoundVector {
  codebook: Codebook;
  computed: ComputedVector & { dataset: StoredDataset };
  slots: BigUint64Array;
  digest: string;
  ciphertexts: number;
  wireBytes: number;
  /**
   * A correction of a masked round's contribution (kind `difference`): `slots` and `digest` are
   * then those of the difference new − old (mod t) that is encrypted and sent, and this holds
   * the vector it corrects (the one whose contribution is in the released sum).
   */
  difference?: { previous: BigUint64Array; previousVector: VectorJson; previousEnvelopeDigest: string };
}

/**
 * What a late contribution to a released round is (issue 16, item 2; docs/DECISIONS.md 79, 80):
 * - `late`: nothing of this node is in the released sum; the whole vector goes, unmasked;
 * - `correction`: the node's receipted contribution was an ordinary (unmasked) one, in an
 *   unmasked round or sent late to a masked round; the new vector replaces it, unmasked;
 * - `difference`: the node's masked input is in a masked round's sum and cannot be taken out
 *   (that would need both kinds of share of one peer); the node sends new − old (mod t),
 *   encrypted and unmasked, which the coordinator adds to the sum.
 */
export type LateKind = 'late' | 'correction' | 'difference';

/**
 * The late kind of this node's next contribution to a released round, from its own store and
 * audit log: `difference` when a masked input of the round (an `envelope` entry with `secagg`)
 * was receipted, `correction` when another contribution was, else `late`.
 */
export function lateKind(db: NodeDb, manifest: RoundManifest): LateKind {
  const roundId = manifest.round_id;
  if (new RoundStore(db).receiptedVector(roundId) === undefined) return 'late';
  if (!manifest.secagg) return 'correction';
  const entries = readAudit(db, { roundId });
  const receipted = new Set(entries.filter((e) => e.kind === 'receipt').map((e) => String(e.payload.envelope_digest)));
  const maskedSent = entries.some(
    (e) => e.kind === 'envelope' && e.payload.secagg !== undefined && receipted.has(String(e.payload.envelope_digest)),
  );
  return maskedSent ? 'difference' : 'correction';
}

/**
 * The vector of a late contribution as it will be encrypted: for `late` and `correction` the
 * round vector itself; for `difference` the round vector minus the vector of the latest
 * receipted contribution (mod the plain modulus t), digested as sent (the privacy officer
 * approves exactly the difference). Throws `SB_ERR_NOTHING_TO_CORRECT` when the dataset gives
 * the vector already in the sum.
 */
export function computeLateVector(
  db: NodeDb,
  home: string,
  manifest: RoundManifest,
  institutionId: string,
  kind: LateKind,
): RoundVector {
  const rv = computeRoundVector(db, home, manifest, institutionId);
  if (kind !== 'difference') return rv;
  const store = new RoundStore(db);
  const previousVector = store.receiptedVector(manifest.round_id);
  const previousEnvelopeDigest = store.latestReceiptedDigest(manifest.round_id);
  // `lateKind` says `difference` only after a receipted masked contribution: a programming error otherwise.
  if (previousVector === undefined || previousEnvelopeDigest === undefined)
    throw new Error(`round ${manifest.round_id}: a difference needs a receipted contribution`);
  const previous = flatten(rv.codebook, vectorFromJson(rv.codebook, previousVector), {
    maxParticipants: manifest.max_participants,
  });
  const slots = subModT(rv.slots, previous);
  if (slots.every((v) => v === 0n))
    throw new SbError(
      'SB_ERR_NOTHING_TO_CORRECT',
      [
        'the dataset gives exactly the vector this node already contributed to',
        `round ${manifest.round_id}; there is no correction to send.`,
        'Import the corrected exports first (sectorbench node import), then preview again.',
      ].join(' '),
      { round_id: manifest.round_id },
    );
  return {
    ...rv,
    slots,
    digest: vectorDigest({ codebookDigest: manifest.codebook.digest, studiejaar: manifest.studiejaar, slots }),
    difference: { previous, previousVector, previousEnvelopeDigest },
  };
}

/** Compute, range-check and digest this node's vector for a (verified) round manifest. */
export function computeRoundVector(
  db: NodeDb,
  home: string,
  manifest: RoundManifest,
  institutionId: string,
): RoundVector {
  const codebook = manifestCodebook(manifest);
  const computed = computeFromDb(db, home, codebook, manifestYear(manifest));
  const slots = flatten(codebook, computed.vector, { maxParticipants: manifest.max_participants });
  const ciphertexts = layoutCiphertexts(codebook);
  return {
    codebook,
    computed,
    slots,
    digest: vectorDigest({ codebookDigest: manifest.codebook.digest, studiejaar: manifest.studiejaar, slots }),
    ciphertexts,
    wireBytes: contributionBytes(manifest, institutionId, ciphertexts),
  };
}

/** The manifest this node stored for a round (fetched and verified by preview or submit). */
export function storedManifest(db: NodeDb, roundId: string, home: string): RoundManifest {
  const m = new RoundStore(db).manifest(roundId);
  if (!m) {
    throw new SbError(
      'SB_ERR_NO_MANIFEST',
      `this node has no manifest of round ${roundId} yet. Run \`sectorbench node preview --home ${home} ` +
        `--round ${roundId}\` first; it fetches and verifies the manifest and shows what will be sent.`,
      { roundId },
    );
  }
  return m;
}
