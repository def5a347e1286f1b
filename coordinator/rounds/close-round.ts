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
import { allSubmissions, currentSubmissions, submissionWire, type SubmissionInfo } from '../store/submissions.js';
import { phaseItems } from '../store/secagg.js';
import { differenceSubmissions, lateAdmissions } from '../store/late.js';
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
  /** Masked round reopened after its release: survivors whose differences (new − old) are in the sum. */
  corrections: string[];
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
 * late (unmasked) ones, listed as `late` in the bundle, plus every survivor's correction, an
 * encrypted difference new − old (bundle `corrections`); in an unmasked round every current
 * contribution, corrections replacing the envelopes they correct. The bundle then also carries
 * every published version of the round (`releases/v<N>.json`), so the key holder audits the new
 * version against all of them and signs it as the next in the chain. Refused before the late
 * deadline while an admitted institution has not sent its contribution, unless `force`.
 */
export function closeRound(input: CloseRoundInput): CloseRoundResult {
  const { db, roundId, now } = input;
  const chosen = tx(db, () => {
    const round = getRound(db, roundId);
    const previousIndex =
      (db.prepare('SELECT bundle_json FROM rounds WHERE id = ?').get(roundId) as { bundle_json: string | null })
        .bundle_json ?? null;
    const set = contributionsToSum(db, round, now);
    checkLateWindowsDone(db, round, set, input.force === true, now);
    const closedNow = markClosed(db, round, set, input.force === true, now);
    if (set.contributions.length === 0)
      throw new SbError(
        'SB_ERR_NO_CONTRIBUTIONS',
        `round ${roundId} has no contributions${set.excluded.length ? ' left after the exclusions' : ''}; there is nothing to sum.`,
      );
    return { ...set, closedNow, previousIndex };
  });
  const { excluded, late, closedNow } = chosen;
  const round = getRound(db, roundId);
  const { index, summed, releases, bundleDir } = sumAndWriteBundle(db, round, chosen, input.bundleDir);
  const previous = chosen.previousIndex === null ? null : (JSON.parse(chosen.previousIndex) as BundleIndex);
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
        contributions: index.contributions.length,
        ...(excluded.length ? { excluded } : {}),
        ...(late.length ? { late } : {}),
        ...(chosen.corrections.length ? { corrections: chosen.corrections.map((c) => c.sub.institutionId) } : {}),
        ...(releases.length ? { after_version: releases[releases.length - 1]?.version } : {}),
      },
    });
  });
  return {
    roundId,
    contributions: chosen.contributions.length,
    participants: round.manifest.participants.length,
    bundleDir,
    index,
    sumSha256: summed.map((c) => createHash('sha256').update(c).digest('hex')),
    closedNow,
    excluded,
    resummed,
    late,
    corrections: chosen.corrections.map((c) => c.sub.institutionId),
  };
}

/** What a close sums: one contribution per institution, plus the masked survivors' differences. */
interface SumSet {
  /** Current contributions (a masked round: the survivors' masked inputs and the late ones). */
  contributions: SubmissionInfo[];
  /** Masked round reopened: survivors' differences (new − old), each with the version it followed. */
  corrections: { sub: SubmissionInfo; afterVersion: number }[];
  excluded: string[];
  late: string[];
  secagg?: SecAggBundle;
  /** Institutions whose latest submission is in the sum (for the late windows). */
  latest: SubmissionInfo[];
}

/**
 * The contributions a close sums: every current one except the excluded; in a masked round the
 * survivor set's masked inputs (a survivor that corrected after the release has a difference as
 * its current submission: its masked input is its latest submission before the first difference)
 * and the late (unmasked) ones of admitted institutions, plus every difference.
 */
function contributionsToSum(db: CoordinatorDb, round: StoredRound, now: Date): SumSet {
  const excluded = excludedInstitutionIds(db, round.id);
  const out = new Set(excluded);
  const latest = currentSubmissions(db, round.id).filter((s) => !out.has(s.institutionId));
  if (!round.manifest.secagg) return { contributions: latest, corrections: [], excluded, late: [], latest };
  const masked = maskedRoundSet(db, round, now);
  const admitted = round.state === 'released' ? lateAdmissions(db, round.id) : [];
  const admittedLate = new Set(admitted.filter((a) => a.kind === 'late').map((a) => a.institutionId));
  const diffs = round.state === 'released' ? differenceSubmissions(db, round.id) : [];
  const diffSeq = new Set(diffs.map((d) => d.sequence));
  const all = allSubmissions(db, round.id);
  const contributions: SubmissionInfo[] = [];
  for (const id of masked.survivors) {
    const input = all.filter((s) => s.institutionId === id && !diffSeq.has(s.sequence)).at(-1);
    if (input) contributions.push(input);
  }
  const lateSubs = latest.filter(
    (s) => !masked.survivors.includes(s.institutionId) && admittedLate.has(s.institutionId),
  );
  contributions.push(...lateSubs);
  contributions.sort((a, b) => (a.institutionId < b.institutionId ? -1 : a.institutionId > b.institutionId ? 1 : 0));
  const corrections = diffs
    .filter((d) => masked.survivors.includes(d.institutionId))
    .map((d) => ({
      sub: all.find((s) => s.sequence === d.sequence) as SubmissionInfo,
      afterVersion: d.afterVersion,
    }));
  return {
    contributions,
    corrections,
    excluded,
    late: lateSubs.map((s) => s.institutionId),
    secagg: masked.bundle,
    latest,
  };
}

/**
 * A reopened round is closed again only once every admitted institution has sent (its latest
 * submission came after its admission) or its late window ended, unless `force`.
 * @throws SbError `SB_ERR_ROUND_NOT_DUE` naming who is awaited
 */
function checkLateWindowsDone(db: CoordinatorDb, round: StoredRound, set: SumSet, force: boolean, now: Date): void {
  const admitted = round.state === 'released' ? lateAdmissions(db, round.id) : [];
  const waiting = admitted.filter(
    (a) =>
      now.getTime() < Date.parse(a.deadline) &&
      !set.latest.some((s) => s.institutionId === a.institutionId && s.receivedAt >= a.admittedAt),
  );
  if (waiting.length > 0 && !force)
    throw new SbError(
      'SB_ERR_ROUND_NOT_DUE',
      `round ${round.id} was reopened for ${waiting.map((a) => `${a.institutionId} (${a.kind}, until ${a.deadline})`).join(', ')}, ` +
        `which ha${waiting.length === 1 ? 's' : 've'} not sent ` +
        `${waiting.length === 1 ? 'its contribution' : 'their contributions'} yet; ` +
        `wait, or pass --force to close now without ${waiting.length === 1 ? 'it' : 'them'}.`,
      { waiting: waiting.map((a) => a.institutionId) },
    );
}

/**
 * Mark an open round closed (one transaction with the selection, so no contribution is accepted
 * after the set that is summed). An unmasked round is refused before its deadline while not every
 * participant (excluded ones count as done) has submitted, unless `force`; a masked round closes
 * once its phases are done (checked by the selection). Returns whether it closed now.
 * @throws SbError `SB_ERR_ROUND_NOT_DUE`
 */
function markClosed(db: CoordinatorDb, round: StoredRound, set: SumSet, force: boolean, now: Date): boolean {
  if (round.state !== 'open') return false;
  const current = set.contributions;
  const participants = round.manifest.participants.length;
  let detail: Record<string, unknown>;
  if (round.manifest.secagg) detail = { contributions: current.length, participants, masked: true };
  else {
    const expected = participants - set.excluded.length;
    const beforeDeadline = now.getTime() < Date.parse(round.deadline);
    if (beforeDeadline && current.length < expected && !force) {
      throw new SbError(
        'SB_ERR_ROUND_NOT_DUE',
        `round ${round.id} runs until ${round.deadline} and ${current.length} of ${expected} participants` +
          `${set.excluded.length ? ` (${set.excluded.length} excluded)` : ''} have submitted; ` +
          `wait, or pass --force to close now.`,
        { submitted: current.length, participants, excluded: set.excluded.length },
      );
    }
    detail = {
      contributions: current.length,
      participants,
      excluded: set.excluded.length,
      forced: Boolean(force && beforeDeadline),
    };
  }
  db.prepare("UPDATE rounds SET state = 'closed', closed_at = ? WHERE id = ?").run(now.toISOString(), round.id);
  recordEvent(db, { at: now.toISOString(), kind: 'round.closed', roundId: round.id, detail });
  return true;
}

/**
 * Add the chosen contributions and differences homomorphically (`CiphertextSum`, each stored wire
 * checked against its digest) and write the bundle: manifest, contributions, differences, sum,
 * the secure-aggregation record, and, for a reopened round, every published version.
 * @throws SbError `SB_ERR_STORE_CORRUPT` when a stored contribution does not match its digest
 */
function sumAndWriteBundle(
  db: CoordinatorDb,
  round: StoredRound,
  set: SumSet,
  dir: string,
): { index: BundleIndex; summed: Uint8Array[]; releases: { version: number; json: string }[]; bundleDir: string } {
  const sum = new CiphertextSum(round.ciphertextCount);
  const wireOf = (s: SubmissionInfo, what: string) => {
    const wire = submissionWire(db, s.id);
    if (createHash('sha256').update(wire).digest('hex') !== s.wireSha256) {
      throw new SbError(
        'SB_ERR_STORE_CORRUPT',
        `the stored contribution of ${s.institutionId} (sequence ${s.sequence}) does not match its digest; restore the database from backup.`,
      );
    }
    sum.add(parseContribution(wire, { validate: false }).ciphertexts, `${what} of ${s.institutionId}`);
    return wire;
  };
  const contributions = set.contributions.map((s) => ({
    institutionId: s.institutionId,
    wire: wireOf(s, 'contribution'),
    envelopeDigest: s.envelopeDigest,
  }));
  const corrections = set.corrections.map((c) => ({
    institutionId: c.sub.institutionId,
    wire: wireOf(c.sub, 'correction'),
    envelopeDigest: c.sub.envelopeDigest,
    afterVersion: c.afterVersion,
  }));
  const summed = sum.result();
  const bundleDir = resolve(dir);
  // The published chain goes with a bundle of a reopened round only: without late admissions the
  // bundle is the released one again (the key holder refuses to release a round twice).
  const releases =
    round.state === 'released' && lateAdmissions(db, round.id).length > 0
      ? listReleases(db, round.id).map((r) => ({ version: r.version, json: r.json }))
      : [];
  const index = writeBundle(bundleDir, {
    manifest: round.manifest,
    contributions,
    sum: summed,
    ...(set.secagg ? { secagg: set.secagg } : {}),
    ...(set.late.length ? { late: set.late } : {}),
    ...(corrections.length ? { corrections } : {}),
    ...(releases.length ? { releases } : {}),
  });
  removeStaleContributionFiles(bundleDir, index);
  return { index, summed, releases, bundleDir };
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
