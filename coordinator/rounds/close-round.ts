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
import { phaseItems } from '../store/secagg.js';
import { lateAdmissions } from '../store/late.js';
import { listReleases } from '../store/releases.js';
import { advancePhases, failedError, phaseMembers } from '../secagg/phases.js';
import type { StoredRound } from '../store/rounds.js';
import type { SecAggBundle, SecAggPhase } from '../../schemas/secagg.js';

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
  /** Masked round reopened after its release: the late (unmasked) contributions in the sum. */
  late: string[];
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
 *
 * A released round reopened for late contributions (rounds/reopen.ts, issue 16 item 2) is
 * summed again with them: in a masked round the survivor set's masked contributions plus the
 * late (unmasked) ones, listed as `late` in the bundle; in an unmasked round every current
 * contribution, corrections replacing the envelopes they correct. The bundle then also carries
 * every published version of the round (`releases/v<N>.json`), so the key holder audits the new
 * version against all of them and signs it as the next in the chain. Refused before the late
 * deadline while an admitted institution has not sent its contribution, unless `force`.
 */
export function closeRound(input: CloseRoundInput): CloseRoundResult {
  const { db, roundId, now } = input;
  let closedNow = false;
  let excluded: string[] = [];
  let previousIndex: string | null = null;
  let secagg: SecAggBundle | undefined;
  let late: string[] = [];
  const subs: SubmissionInfo[] = tx(db, () => {
    const round = getRound(db, roundId);
    excluded = excludedInstitutionIds(db, roundId);
    const out = new Set(excluded);
    let current = currentSubmissions(db, roundId).filter((s) => !out.has(s.institutionId));
    previousIndex =
      (db.prepare('SELECT bundle_json FROM rounds WHERE id = ?').get(roundId) as { bundle_json: string | null })
        .bundle_json ?? null;
    const admitted = round.state === 'released' ? lateAdmissions(db, roundId) : [];
    if (round.manifest.secagg) {
      const masked = maskedRoundSet(db, round, now);
      const admittedLate = new Set(admitted.filter((a) => a.kind === 'late').map((a) => a.institutionId));
      current = current.filter((s) => masked.survivors.includes(s.institutionId) || admittedLate.has(s.institutionId));
      late = current.filter((s) => !masked.survivors.includes(s.institutionId)).map((s) => s.institutionId);
      secagg = masked.bundle;
    }
    const waiting = admitted.filter(
      (a) =>
        now.getTime() < Date.parse(a.deadline) &&
        !current.some((s) => s.institutionId === a.institutionId && s.receivedAt >= a.admittedAt),
    );
    if (waiting.length > 0 && !input.force)
      throw new SbError(
        'SB_ERR_ROUND_NOT_DUE',
        `round ${roundId} was reopened for ${waiting.map((a) => `${a.institutionId} (${a.kind}, until ${a.deadline})`).join(', ')}, which ha${waiting.length === 1 ? 's' : 've'} not sent ${waiting.length === 1 ? 'its contribution' : 'their contributions'} yet; wait, or pass --force to close now without ${waiting.length === 1 ? 'it' : 'them'}.`,
        { waiting: waiting.map((a) => a.institutionId) },
      );
    if (round.state === 'open' && round.manifest.secagg) {
      db.prepare("UPDATE rounds SET state = 'closed', closed_at = ? WHERE id = ?").run(now.toISOString(), roundId);
      recordEvent(db, {
        at: now.toISOString(),
        kind: 'round.closed',
        roundId,
        detail: { contributions: current.length, participants: round.manifest.participants.length, masked: true },
      });
      closedNow = true;
    } else if (round.state === 'open') {
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
  // The published chain goes with a bundle of a reopened round only: without late admissions the
  // bundle is the released one again (the key holder refuses to release a round twice).
  const releases =
    round.state === 'released' && lateAdmissions(db, roundId).length > 0 ? listReleases(db, roundId) : [];
  const index = writeBundle(bundleDir, {
    manifest: round.manifest,
    contributions,
    sum: summed,
    ...(secagg ? { secagg } : {}),
    ...(late.length ? { late } : {}),
    ...(releases.length ? { releases: releases.map((r) => ({ version: r.version, json: r.json })) } : {}),
  });
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
        ...(late.length ? { late } : {}),
        ...(releases.length ? { after_version: releases[releases.length - 1]?.version } : {}),
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
    late,
  };
}

/** Remove `contributions/*.sbc` files the index does not list (an excluded one from an earlier close into the same folder). */
function removeStaleContributionFiles(bundleDir: string, index: BundleIndex): void {
  const keep = new Set(index.contributions.map((c) => c.file.replace(/^.*\//, '')));
  const dir = join(bundleDir, 'contributions');
  for (const f of readdirSync(dir)) if (f.endsWith('.sbc') && !keep.has(f)) rmSync(join(dir, f));
}

/**
 * A masked round can be closed only after its `unmask` phase ended with at least t members:
 * the summed contributions are exactly those of the survivor set U3, and the bundle carries
 * the secure-aggregation record the key holder needs to remove the masks. Throws the round's
 * failure (`SB_ERR_SECAGG_BELOW_THRESHOLD`) or `SB_ERR_ROUND_NOT_DUE` while a phase runs.
 */
function maskedRoundSet(
  db: CoordinatorDb,
  round: StoredRound,
  now: Date,
): { survivors: string[]; bundle: SecAggBundle } {
  const secagg = round.manifest.secagg;
  if (!secagg) throw new SbError('SB_ERR_NOT_MASKED', `round ${round.id} is not masked.`);
  const state = advancePhases(db, round, now);
  if (state.failure) throw failedError(round.id, state.failure);
  if (state.current !== 'done')
    throw new SbError(
      'SB_ERR_ROUND_NOT_DUE',
      `round ${round.id} is in phase ${state.current} until ${secagg.deadlines[state.current as SecAggPhase]}; waiting for ${state.expected
        .filter((id) => !state.acted.includes(id))
        .join(', ')}. Wait, or end the phase now with 'sectorbench coordinator round advance --force'.`,
      { phase: state.current },
    );
  const members = (p: 'advertise' | 'masked_input' | 'consistency' | 'unmask') => phaseMembers(state, p) ?? [];
  return {
    survivors: members('masked_input'),
    bundle: {
      type: 'sectorbench.secagg-bundle',
      version: 1,
      round_id: round.id,
      threshold: secagg.threshold,
      phases: state.ended.map((e) => ({ phase: e.phase, ended_at: e.endedAt, members: e.members, forced: e.forced })),
      advertisements: phaseItems(db, round.id, 'advertise', null, members('advertise')),
      consistency: phaseItems(db, round.id, 'consistency', null, members('consistency')),
      reveals: phaseItems(db, round.id, 'unmask', null, members('unmask')),
    },
  };
}
