// Issue 13 with masking (docs/DECISIONS.md "Exclusion (issue 13) and masking"): in a masked
// round over real HTTP, the operator excludes a node whose masked input had arrived, before the
// masked-input phase ended. It then counts as a dropout: the phase ends without waiting for it,
// the survivors reveal its mask-key shares, the key holder removes its pairwise masks and the
// release is exactly the sum of the two others (../shared/sample/expected). The excluded node is
// told why with a coded refusal. Once the survivor set is fixed, excluding a survivor is refused
// with a code that says a new round is needed, and nothing changes.
import t, { type Test } from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, type LocalRound } from '../../demo/local-round.js';
import { secaggStatus } from '../../coordinator/index.js';
import { excludeContribution } from '../../coordinator/rounds/exclude.js';
import { listExclusions } from '../../coordinator/store/exclusions.js';
import { runRound, type RoundProgress } from '../../node/round/run-round.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { SecAggStore } from '../../node/store/secagg-store.js';
import { readAudit } from '../../node/audit/log.js';
import type { SecAggPhase } from '../../schemas/secagg.js';
import { checkRelease } from '../helpers/release-check.js';
import { nodeOf, startRound } from '../helpers/round-harness.js';

const THRESHOLDS = { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 5 };

/** Run one node's round once (as cron would), optionally stopping after a phase. */
const runNode = (round: LocalRound, id: string, stopAfter?: SecAggPhase) =>
  runRound({
    home: nodeOf(round, id).home,
    roundId: round.roundId,
    now: round.now,
    ...(stopAfter ? { stopAfter } : {}),
  });

/** Run the nodes again and again (as cron would) until none of them is waiting. */
async function settle(round: LocalRound, ids: string[], stopAfter?: SecAggPhase) {
  const last = new Map<string, RoundProgress>();
  for (let pass = 0; pass < 10; pass++) {
    const todo = ids.filter((id) => !last.has(id) || last.get(id)?.state === 'waiting');
    if (todo.length === 0) break;
    for (const id of todo) last.set(id, await runNode(round, id, stopAfter));
  }
  return last;
}

/** The institutions that acted, and that are missing, in the masked-input phase. */
function maskedInputPhase(round: LocalRound) {
  const st = secaggStatus(round.coordinator.db, round.roundId, round.now());
  return { current: st.current_phase, phase: st.phases.find((p) => p.phase === 'masked_input') };
}

/** Everyone advertises and shares keys; then inst-3 alone sends its masked input. */
async function shareKeysThenInst3Input(t: Test, round: LocalRound): Promise<void> {
  const shared = await settle(round, ['inst-1', 'inst-2', 'inst-3'], 'share');
  t.same(
    [...shared.values()].map((p) => p.state),
    ['stopped', 'stopped', 'stopped'],
  );
  t.equal(
    (await settle(round, ['inst-3'], 'masked_input')).get('inst-3')?.state,
    'stopped',
    'inst-3 sent its masked input',
  );
  const before = maskedInputPhase(round);
  t.equal(before.current, 'masked_input');
  t.same(before.phase?.acted, ['inst-3']);
}

/**
 * The operator excludes inst-3 (say the key holder had named it) while the phase runs: its input
 * no longer counts, and inst-3 is told why with a code, logs it and reveals nothing.
 */
async function excludeInst3DuringThePhase(t: Test, round: LocalRound): Promise<void> {
  const ex = excludeContribution({
    db: round.coordinator.db,
    roundId: round.roundId,
    institutionId: 'inst-3',
    reason: 'SB_ERR_CULPRITS named by the key holder (test)',
    now: round.now(),
  });
  t.ok(ex.sequence !== null && ex.envelopeDigest !== null, 'its masked submission was current');
  t.equal(ex.needsReclose, false);
  const during = maskedInputPhase(round);
  t.equal(during.current, 'masked_input', 'the phase still waits for inst-1 and inst-2');
  t.same(during.phase?.acted, [], 'the excluded input no longer counts');

  await t.rejects(
    runNode(round, 'inst-3'),
    { code: 'SB_ERR_EXCLUDED', message: /SB_ERR_CULPRITS named by the key holder/ },
    'inst-3 is told why, with a code',
  );
  const db3 = openNodeDb(nodeOf(round, 'inst-3').home);
  t.ok(
    readAudit(db3, { roundId: round.roundId }).some(
      (e) => e.kind === 'refusal' && e.payload.code === 'SB_ERR_EXCLUDED',
    ),
    "inst-3's audit log records the exclusion",
  );
  t.equal(new SecAggStore(db3).revealRecord(round.roundId), null, 'inst-3 revealed nothing');
  db3.close();
}

/**
 * inst-1 and inst-2 go on; the phase ends as soon as both sent their input, without inst-3, and
 * the survivors reveal inst-3's mask-key shares.
 */
async function survivorsFinishWithoutInst3(t: Test, round: LocalRound): Promise<void> {
  const rest = await settle(round, ['inst-1', 'inst-2']);
  t.same(
    [...rest.values()].map((p) => p.state),
    ['done', 'done'],
    'both survivors did their part; no phase had to be ended by force',
  );
  const { phase } = maskedInputPhase(round);
  t.same(phase?.acted, ['inst-1', 'inst-2'], 'U3 without inst-3');
  t.same(phase?.missing, ['inst-3']);
  const db1 = openNodeDb(nodeOf(round, 'inst-1').home);
  const record = new SecAggStore(db1).revealRecord(round.roundId);
  db1.close();
  t.same(record?.self_seed, ['inst-1', 'inst-2'], 'self-seed shares of the survivors');
  t.same(record?.mask_key, ['inst-3'], 'the mask-key share of the excluded node: its masks are recovered');
}

/** U3 is fixed: excluding a survivor now is refused with a code, and nothing is recorded. */
function assertSurvivorCannotBeExcluded(t: Test, round: LocalRound): void {
  t.throws(
    () =>
      excludeContribution({
        db: round.coordinator.db,
        roundId: round.roundId,
        institutionId: 'inst-1',
        reason: 'too late',
        now: round.now(),
      }),
    { code: 'SB_ERR_SECAGG_EXCLUDE_TOO_LATE', message: /open a new round without it/ },
  );
  t.same(
    listExclusions(round.coordinator.db, round.roundId).map((e) => e.institutionId),
    ['inst-3'],
    'only inst-3 is excluded',
  );
}

t.test('a node excluded before the masked-input phase ends is a dropout; a survivor cannot be excluded', async (t) => {
  const round = await startRound(t.testdir(), { thresholds: THRESHOLDS, masking: {} });
  t.teardown(() => round.stop());
  t.same(round.masking, { threshold: 2 });
  for (const n of round.nodes) await approveAsPrivacyOfficer(n, round);

  await shareKeysThenInst3Input(t, round);
  await excludeInst3DuringThePhase(t, round);
  await survivorsFinishWithoutInst3(t, round);
  assertSurvivorCannotBeExcluded(t, round);

  const { release } = await closeAndRelease(round);
  t.equal(release.institutions, 2);
  t.ok(checkRelease(t, release, ['inst-1', 'inst-2']) > 100, 'many figures published and compared');
});
