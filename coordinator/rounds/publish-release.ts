import { ReleaseSchema, type Release } from '../../schemas/release.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { canonicalBytes } from '../../shared/protocol/canonical.js';
import { releaseDigest } from '../../shared/protocol/release-digest.js';
import { releaseManifestMismatch, verifyRelease } from '../../shared/protocol/round-documents.js';
import { recordEvent, tx, type CoordinatorDb } from '../store/db.js';
import { pinnedKeyHolder } from '../store/pins.js';
import { getRound } from '../store/rounds.js';
import { findRelease, insertRelease, type StoredRelease } from '../store/releases.js';
import { formatZodIssues } from '../../shared/errors/zod-issues.js';

/** Input of {@link publishRelease}. */
export interface PublishReleaseInput {
  db: CoordinatorDb;
  roundId: string;
  /** The key holder's signed release (parsed JSON, or its text). */
  release: unknown;
  now: Date;
}

/**
 * The release as given (the signed object, unknown keys kept) and as parsed by the release
 * schema. Throws `SB_ERR_RELEASE` for text that is not JSON or a value off the schema.
 */
function parseRelease(given: unknown): { release: Release; data: Release } {
  let raw: unknown = given;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch {
      throw new SbError('SB_ERR_RELEASE', 'the release is not JSON; use the file the key holder signed.');
    }
  }
  const parsed = ReleaseSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SbError(
      'SB_ERR_RELEASE',
      `the release does not match the release schema: ${formatZodIssues(parsed.error.issues, { limit: 5 })}.`,
    );
  }
  // The signature covers the object as signed, so it is verified and stored as given.
  return { release: raw as Release, data: parsed.data };
}

/**
 * The release is signed by the key holder key the round's manifest names, which is still the
 * pinned one. Throws `SB_ERR_RELEASE_SIGNATURE`.
 */
function checkReleaseSigner(db: CoordinatorDb, roundId: string, release: Release, m: RoundManifest): void {
  const endorsedKey = new Uint8Array(Buffer.from(m.key_holder_endorsement.ed25519_public_key, 'base64'));
  const pinned = pinnedKeyHolder(db);
  if (Buffer.compare(Buffer.from(pinned), Buffer.from(endorsedKey)) !== 0) {
    throw new SbError(
      'SB_ERR_RELEASE_SIGNATURE',
      `the pinned key holder key changed since round ${roundId} was opened; a release must be signed by the key that endorsed the round.`,
    );
  }
  if (!verifyRelease(release, endorsedKey)) {
    throw new SbError(
      'SB_ERR_RELEASE_SIGNATURE',
      `the release of round ${roundId} is not signed by the key holder that endorsed the round; refuse it and ask the key holder for the signed file.`,
    );
  }
}

/**
 * Publish a signed release (ARCHITECTURE.md "The round", step 5): schema, the key holder's
 * signature by the key endorsed in the manifest (which must still be the pinned key), and that
 * round, studiejaar, metric spec, codebook digest and thresholds match the manifest. Versions
 * follow each other (`release_version` = latest + 1, `previous_release_digest` = digest of the
 * latest). Publishing the same release again is a no-op. The round must be closed.
 */
export function publishRelease(input: PublishReleaseInput): StoredRelease {
  const { db, roundId, now } = input;
  const { release, data } = parseRelease(input.release);
  const round = getRound(db, roundId);
  const m = round.manifest;
  checkReleaseSigner(db, roundId, release, m);
  const mismatch = releaseManifestMismatch(release, m);
  if (mismatch)
    throw new SbError(
      'SB_ERR_RELEASE_MISMATCH',
      `the release's ${mismatch.field} is ${mismatch.got}, round ${roundId} has ${mismatch.want}; this release belongs to another round.`,
      { field: mismatch.field },
    );
  const digest = releaseDigest(release);
  const json = new TextDecoder().decode(canonicalBytes(release));
  return tx(db, () => {
    const r = getRound(db, roundId);
    if (r.state === 'open')
      throw new SbError(
        'SB_ERR_ROUND_OPEN',
        `round ${roundId} is still open; close it and have the key holder decrypt the bundle first.`,
      );
    const latest = findRelease(db, roundId);
    const same = findRelease(db, roundId, release.release_version);
    if (same && same.digest === digest) return same;
    const wantVersion = (latest?.version ?? 0) + 1;
    if (release.release_version !== wantVersion) {
      throw new SbError(
        'SB_ERR_RELEASE_VERSION',
        `the release is version ${release.release_version}; the next version of round ${roundId} is ${wantVersion}.`,
        { expected: wantVersion },
      );
    }
    const wantPrev = latest?.digest ?? null;
    if (release.previous_release_digest !== wantPrev) {
      throw new SbError(
        'SB_ERR_RELEASE_VERSION',
        `the release names previous digest ${String(release.previous_release_digest)}, ` +
          `the published version ${latest?.version ?? '(none)'} has ${String(wantPrev)}.`,
      );
    }
    const publishedAt = now.toISOString();
    insertRelease(db, { roundId, version: release.release_version, json, digest, publishedAt });
    db.prepare("UPDATE rounds SET state = 'released' WHERE id = ?").run(roundId);
    recordEvent(db, {
      at: publishedAt,
      kind: 'release.published',
      roundId,
      detail: { version: release.release_version, digest },
    });
    return { roundId, version: release.release_version, release: data, json, digest, publishedAt };
  });
}
