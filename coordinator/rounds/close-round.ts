import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SbError } from '../../shared/errors/sb-error.js';
import { writeBundle, type BundleIndex } from '../../shared/protocol/bundle.js';
import { parseContribution } from '../../shared/protocol/wire.js';
import { CiphertextSum } from '../../shared/crypto/sum.js';
import { recordEvent, tx, type CoordinatorDb } from '../store/db.js';
import { excludedInstitutionIds } from '../store/exclusions.js';
import { findRound, getRound } from '../store/rounds.js';
import { currentSubmissions, submissionWire, type SubmissionInfo } from '../store/submissions.js';

/** Input of {@link closeRound}. */
export interface CloseRoundInput {
  db: CoordinatorDb;
  roundId: string;
  /** Folder to write the key holder's bundle to (created). */
  bundleDir: string;
  /** Close before the deadline even though not every participant has submitted. */
  force?: boolean;
  now: Date;
}

/** What {@link closeRound} did. */
export interface CloseRoundResult {
  roundId: string;
  contributions: number;
  participants: number;
  bundleDir: string;
  index: BundleIndex;
  /** SHA-256 of each summed ciphertext. */
  sumSha256: string[];
  /** False when the round was already closed and the bundle was only written again. */
  closedNow: boolean;
  /** Institutions excluded from the round (rounds/exclude.ts), left out of the sum. */
  excluded: string[];
  /** True when a closed round was summed again with other contributions than its last bundle (after an exclusion). */
  resummed: boolean;
}

/**
 * Close a round (ARCHITECTURE.md "The round", step 3): refuses before the deadline unless every
 * participant has submitted or `force`; marks the round closed (one transaction, so no
 * contribution is accepted after the set that is summed), adds the current contributions
 * homomorphically (`CiphertextSum`, every ciphertext validated again) and writes the bundle for
 * the key holder: the signed manifest, every current contribution as received, and the sum.
 * On an already closed round it writes the same bundle again (after a crash, or for a second
 * copy), or, after a contribution was excluded (rounds/exclude.ts), a new bundle without it
 * (`resummed`): excluded institutions are never summed.
 */
export function closeRound(input: CloseRoundInput): CloseRoundResult {
  const { db, roundId, now } = input;
  let closedNow = false;
  let excluded: string[] = [];
  let previousIndex: string | null = null;
  const subs: SubmissionInfo[] = tx(db, () => {
    const round = getRound(db, roundId);
    excluded = excludedInstitutionIds(db, roundId);
    const out = new Set(excluded);
    const current = currentSubmissions(db, roundId).filter((s) => !out.has(s.institutionId));
    previousIndex =
      (db.prepare('SELECT bundle_json FROM rounds WHERE id = ?').get(roundId) as { bundle_json: string | null })
        .bundle_json ?? null;
    if (round.state === 'open') {
      // Excluded participants count as done: the round need not wait for them.
      const participants = round.manifest.participants.length;
      const expected = participants - excluded.length;
      const beforeDeadline = now.getTime() < Date.parse(round.deadline);
      if (beforeDeadline && current.length < expected && !input.force) {
        throw new SbError(
          'SB_ERR_ROUND_NOT_DUE',
          `round ${roundId} runs until ${round.deadline} and ${current.length} of ${expected} participants${excluded.length ? ` (${excluded.length} excluded)` : ''} have submitted; wait, or pass --force to close now.`,
          {
            submitted: current.length,
            participants,
            excluded: excluded.length,
          },
        );
      }
      db.prepare("UPDATE rounds SET state = 'closed', closed_at = ? WHERE id = ?").run(now.toISOString(), roundId);
      recordEvent(db, {
        at: now.toISOString(),
        kind: 'round.closed',
        roundId,
        detail: {
          contributions: current.length,
          participants,
          excluded: excluded.length,
          forced: Boolean(input.force && beforeDeadline),
        },
      });
      closedNow = true;
    }
    if (current.length === 0)
      throw new SbError(
        'SB_ERR_NO_CONTRIBUTIONS',
        `round ${roundId} has no contributions${excluded.length ? ' left after the exclusions' : ''}; there is nothing to sum.`,
      );
    return current;
  });

  const round = getRound(db, roundId);
  const sum = new CiphertextSum(round.ciphertextCount);
  const contributions: { institutionId: string; wire: Uint8Array; envelopeDigest: string }[] = [];
  for (const s of subs) {
    const wire = submissionWire(db, s.id);
    if (createHash('sha256').update(wire).digest('hex') !== s.wireSha256) {
      throw new SbError(
        'SB_ERR_STORE_CORRUPT',
        `the stored contribution of ${s.institutionId} (sequence ${s.sequence}) does not match its digest; restore the database from backup.`,
      );
    }
    sum.add(parseContribution(wire, { validate: false }).ciphertexts, `contribution of ${s.institutionId}`);
    contributions.push({ institutionId: s.institutionId, wire, envelopeDigest: s.envelopeDigest });
  }
  const summed = sum.result();
  const bundleDir = resolve(input.bundleDir);
  const index = writeBundle(bundleDir, { manifest: round.manifest, contributions, sum: summed });
  removeStaleContributionFiles(bundleDir, index);
  const previous = previousIndex === null ? null : (JSON.parse(previousIndex) as BundleIndex);
  const resummed =
    !closedNow &&
    previous !== null &&
    JSON.stringify(previous.contributions.map((c) => c.envelope_digest)) !==
      JSON.stringify(index.contributions.map((c) => c.envelope_digest));
  tx(db, () => {
    const r = findRound(db, roundId);
    db.prepare('UPDATE rounds SET bundle_dir = ?, bundle_json = ? WHERE id = ?').run(
      bundleDir,
      JSON.stringify(index),
      roundId,
    );
    recordEvent(db, {
      at: now.toISOString(),
      kind: resummed ? 'round.resummed' : 'round.bundle-written',
      roundId,
      detail: {
        bundle_dir: bundleDir,
        state: r?.state,
        contributions: contributions.length,
        ...(excluded.length ? { excluded } : {}),
      },
    });
  });
  return {
    roundId,
    contributions: subs.length,
    participants: round.manifest.participants.length,
    bundleDir,
    index,
    sumSha256: summed.map((c) => createHash('sha256').update(c).digest('hex')),
    closedNow,
    excluded,
    resummed,
  };
}

/** Remove `contributions/*.sbc` files the index does not list (an excluded one from an earlier close into the same folder). */
function removeStaleContributionFiles(bundleDir: string, index: BundleIndex): void {
  const keep = new Set(index.contributions.map((c) => c.file.replace(/^.*\//, '')));
  const dir = join(bundleDir, 'contributions');
  for (const f of readdirSync(dir)) if (f.endsWith('.sbc') && !keep.has(f)) rmSync(join(dir, f));
}
