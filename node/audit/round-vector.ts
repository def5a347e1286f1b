import type { RoundManifest } from '../../schemas/manifest.js';
import { CIPHERTEXT_BYTES } from '../../shared/crypto/he-params.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { buildEnvelope, encodeEnvelope } from '../../shared/protocol/envelope.js';
import { flatten, layoutCiphertexts } from '../../shared/protocol/layout.js';
import { manifestCodebook, manifestYear } from '../../shared/protocol/round-documents.js';
import { SbError } from '../../shared/errors/sb-error.js';
import type { ComputedVector } from '../vector/compute.js';
import type { StoredDataset } from '../store/dataset-store.js';
import type { NodeDb } from '../store/node-db.js';
import { RoundStore } from '../store/round-store.js';
import { vectorDigest } from '../../shared/protocol/vector-digest.js';
import { computeFromDb } from '../vector/node-vector.js';

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
