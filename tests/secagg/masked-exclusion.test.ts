// Issue 13 with masking (docs/DECISIONS.md "Exclusion (issue 13) and masking"): in a masked
// round over real HTTP, the operator excludes a node whose masked input had arrived, before the
// masked-input phase ended. It then counts as a dropout: the phase ends without waiting for it,
// the survivors reveal its mask-key shares, the key holder removes its pairwise masks and the
// release is exactly the sum of the two others (../shared/sample/expected). The excluded node is
// told why with a coded refusal. Once the survivor set is fixed, excluding a survivor is refused
// with a code that says a new round is needed, and nothing changes.
import t from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease } from '../../demo/local-round.js';
import { secaggStatus } from '../../coordinator/index.js';
import { excludeContribution } from '../../coordinator/rounds/exclude.js';
import { listExclusions } from '../../coordinator/store/exclusions.js';
import { runRound, type RoundProgress } from '../../node/round/run-round.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { SecAggStore } from '../../node/store/secagg-store.js';
import { readAudit } from '../../node/audit/log.js';
import type { SecAggPhase } from '../../schemas/secagg.js';
import { checkRelease } from '../helpers/release-check.js';
import { startRound } from '../helpers/round-harness.js';

const THRESHOLDS = { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 5 };

t.test('a node excluded before the masked-input phase ends is a dropout; a survivor cannot be excluded', async (t) => {
  const round = await startRound(t.testdir(), { thresholds: THRESHOLDS, masking: {} });
  t.teardown(() => round.stop());
  t.same(round.masking, { threshold: 2 });
  const node = (id: string) => round.nodes.find((n) => n.id === id) ?? t.fail(`no ${id}`);
  const run = (id: string, stopAfter?: SecAggPhase) =>
    runRound({
      home: (node(id) as { home: string }).home,
      roundId: round.roundId,
      now: round.now,
      ...(stopAfter ? { stopAfter } : {}),
    });
  /** Run the nodes again and again (as cron would) until none of them is waiting. */
  const settle = async (ids: string[], stopAfter?: SecAggPhase) => {
    const last = new Map<string, RoundProgress>();
    for (let pass = 0; pass < 10; pass++) {
      const todo = ids.filter((id) => !last.has(id) || last.get(id)?.state === 'waiting');
      if (todo.length === 0) break;
      for (const id of todo) last.set(id, await run(id, stopAfter));
    }
    return last;
  };
  for (const n of round.nodes) await approveAsPrivacyOfficer(n, round);

  // Everyone advertises and shares keys; then inst-3 alone sends its masked input.
  const shared = await settle(['inst-1', 'inst-2', 'inst-3'], 'share');
  t.same(
    [...shared.values()].map((p) => p.state),
    ['stopped', 'stopped', 'stopped'],
  );
  t.equal((await settle(['inst-3'], 'masked_input')).get('inst-3')?.state, 'stopped', 'inst-3 sent its masked input');
  const before = secaggStatus(round.coordinator.db, round.roundId, round.now());
  t.equal(before.current_phase, 'masked_input');
  t.same(before.phases.find((p) => p.phase === 'masked_input')?.acted, ['inst-3']);

  // The operator excludes inst-3 (say the key holder had named it) while the phase runs.
  const ex = excludeContribution({
    db: round.coordinator.db,
    roundId: round.roundId,
    institutionId: 'inst-3',
    reason: 'SB_ERR_CULPRITS named by the key holder (test)',
    now: round.now(),
  });
  t.ok(ex.sequence !== null && ex.envelopeDigest !== null, 'its masked submission was current');
  t.equal(ex.needsReclose, false);
  const during = secaggStatus(round.coordinator.db, round.roundId, round.now());
  t.equal(during.current_phase, 'masked_input', 'the phase still waits for inst-1 and inst-2');
  t.same(during.phases.find((p) => p.phase === 'masked_input')?.acted, [], 'the excluded input no longer counts');

  await t.rejects(
    run('inst-3'),
    { code: 'SB_ERR_EXCLUDED', message: /SB_ERR_CULPRITS named by the key holder/ },
    'inst-3 is told why, with a code',
  );
  const db3 = openNodeDb((node('inst-3') as { home: string }).home);
  t.ok(
    readAudit(db3, { roundId: round.roundId }).some(
      (e) => e.kind === 'refusal' && e.payload.code === 'SB_ERR_EXCLUDED',
    ),
    "inst-3's audit log records the exclusion",
  );
  t.equal(new SecAggStore(db3).revealRecord(round.roundId), null, 'inst-3 revealed nothing');
  db3.close();

  // inst-1 and inst-2 go on; the phase ends as soon as both sent their input, without inst-3.
  const rest = await settle(['inst-1', 'inst-2']);
  t.same(
    [...rest.values()].map((p) => p.state),
    ['done', 'done'],
    'both survivors did their part; no phase had to be ended by force',
  );
  const st = secaggStatus(round.coordinator.db, round.roundId, round.now());
  t.same(st.phases.find((p) => p.phase === 'masked_input')?.acted, ['inst-1', 'inst-2'], 'U3 without inst-3');
  t.same(st.phases.find((p) => p.phase === 'masked_input')?.missing, ['inst-3']);
  const db1 = openNodeDb((node('inst-1') as { home: string }).home);
  const record = new SecAggStore(db1).revealRecord(round.roundId);
  db1.close();
  t.same(record?.self_seed, ['inst-1', 'inst-2'], 'self-seed shares of the survivors');
  t.same(record?.mask_key, ['inst-3'], 'the mask-key share of the excluded node: its masks are recovered');

  // U3 is fixed: excluding a survivor now is refused with a code, and nothing is recorded.
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

  const { release } = await closeAndRelease(round);
  t.equal(release.institutions, 2);
  t.ok(checkRelease(t, release, ['inst-1', 'inst-2']) > 100, 'many figures published and compared');
});
