// Issue 10 "Tests": a coordinator that tells different nodes different survivor sets gets no
// reveals — over real HTTP on loopback, with real nodes (`node round`), real crypto and the
// real coordinator. Five institutions, masking threshold t = 4 (2t - n = 3). Between the nodes
// and the coordinator sits a lying relay (an undici dispatcher over a real Agent): it tells two
// nodes that inst-5 dropped out after sharing its keys (U3 = inst-1..4), while the other three
// are told the truth (U3 = inst-1..5). Had the attack worked, the first group would reveal
// inst-5's mask-key shares and the second its self-seed shares: inst-5's masked input would be
// open. Each story is signed by fewer than t nodes, so no node reveals anything, each reports a
// coded refusal, the coordinator holds no reveal, and the key holder decrypts nothing.
import type { Dispatcher } from 'undici';
import t, { type Test } from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, type LocalNode, type LocalRound } from '../../demo/local-round.js';
import { advanceRound, secaggStatus } from '../../coordinator/index.js';
import { runRound, type RoundProgress } from '../../node/round/run-round.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { SecAggStore } from '../../node/store/secagg-store.js';
import { readAudit } from '../../node/audit/log.js';
import { KeyHolderStore } from '../../keyholder/store/keyholder-store.js';
import { loadKeyHolder } from '../../keyholder/init.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { lyingRelay } from '../helpers/lying-relay.js';
import { countOf } from '../helpers/sql.js';
import { sampleInstitutions, startRound } from '../helpers/round-harness.js';

// inst-4 and inst-5 import the files of inst-1 and inst-2 again (their own identity keys and
// homes): what they hold does not matter here, only that there are five of them.
const sample = sampleInstitutions();
const INSTITUTIONS = [...sample, { ...sample[0]!, id: 'inst-4' }, { ...sample[1]!, id: 'inst-5' }];
const THRESHOLDS = { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 5 };
const LIED_TO = ['inst-1', 'inst-2'];
const ALL = ['inst-1', 'inst-2', 'inst-3', 'inst-4', 'inst-5'];

/** What one node's `node round` ended with: its progress, or the coded refusal it reported. */
type Outcome = RoundProgress | { code: string; message: string };

/**
 * The lie: the masked_input relay (the survivor set U3) without inst-5, for LIED_TO only. Each
 * rewritten answer is checked first: the coordinator itself says all five survived.
 */
function splitSurvivorSet(t: Test, round: LocalRound) {
  let lies = 0;
  const relay = lyingRelay(
    /\/secagg\/masked_input$/,
    (_path, body) => {
      const r = JSON.parse(body.toString('utf8')) as { members: string[] };
      t.same(r.members, ALL, 'the coordinator itself says all five survived');
      lies++;
      return Buffer.from(JSON.stringify({ ...r, members: r.members.filter((m) => m !== 'inst-5') }));
    },
    round.coordinator.dispatcher,
  );
  t.teardown(() => relay.close());
  return { dispatcher: relay.dispatcher, lies: () => lies };
}

/** As cron would: every node runs `node round` again until none is waiting any more. */
async function runUntilNoneWaits(round: LocalRound, lying: Dispatcher): Promise<Map<string, Outcome>> {
  const outcome = new Map<string, Outcome>();
  const waiting = (id: string) => {
    const o = outcome.get(id);
    return !o || ('state' in o && o.state === 'waiting');
  };
  for (let pass = 0; pass < 12 && round.nodes.some((n) => waiting(n.id)); pass++) {
    for (const node of round.nodes) {
      if (!waiting(node.id)) continue;
      try {
        const p = await runRound({
          home: node.home,
          roundId: round.roundId,
          now: round.now,
          ...(LIED_TO.includes(node.id) ? { dispatcher: lying } : {}),
        });
        outcome.set(node.id, p);
      } catch (e) {
        if (!isSbError(e)) throw e;
        outcome.set(node.id, { code: e.code, message: e.message });
      }
    }
  }
  return outcome;
}

/**
 * One node refused with SB_ERR_SECAGG_CONSISTENCY and says why; it recorded and built no reveal,
 * keeps the survivor set it was told and logs the refusal once.
 */
function assertNodeRefusedWithoutReveal(t: Test, round: LocalRound, node: LocalNode, o: Outcome | undefined): void {
  t.ok(o && 'code' in o && o.code === 'SB_ERR_SECAGG_CONSISTENCY', `${node.id} refuses with SB_ERR_SECAGG_CONSISTENCY`);
  if (o && 'message' in o)
    t.match(o.message, /fewer than the threshold t = 4/, `${node.id}: the refusal says why (${o.message})`);

  const db = openNodeDb(node.home);
  const store = new SecAggStore(db);
  t.equal(store.revealRecord(round.roundId), null, `${node.id} recorded no reveal`);
  t.notOk(store.outbox(round.roundId, 'unmask'), `${node.id} built no reveal message`);
  t.same(
    store.relay(round.roundId, 'masked_input')?.members,
    LIED_TO.includes(node.id) ? ALL.filter((m) => m !== 'inst-5') : ALL,
    `${node.id} keeps the survivor set it was told`,
  );
  const refusals = readAudit(db, { roundId: round.roundId }).filter(
    (e) => e.kind === 'refusal' && e.payload.code === 'SB_ERR_SECAGG_CONSISTENCY',
  );
  t.equal(refusals.length, 1, `${node.id}'s audit log records the refusal`);
  db.close();
}

/** The coordinator: every node signed (the consistency phase ended with all five), none revealed. */
function assertCoordinatorHoldsNoReveal(t: Test, round: LocalRound): void {
  const st = secaggStatus(round.coordinator.db, round.roundId, round.now());
  t.same(st.phases.find((p) => p.phase === 'consistency')?.acted, ALL, 'all five signed a survivor set');
  t.equal(st.current_phase, 'unmask');
  t.same(st.phases.find((p) => p.phase === 'unmask')?.acted, [], 'nobody revealed');
  const reveals = round.coordinator.db
    .prepare("SELECT COUNT(*) AS n FROM secagg_items WHERE round_id = ? AND phase = 'unmask'")
    .get(round.roundId);
  t.equal(countOf(reveals), 0, 'the coordinator holds no reveal');
}

/** Ending the unmask phase now fails the round closed; the key holder never gets a bundle. */
async function assertRoundFailsClosed(t: Test, round: LocalRound): Promise<void> {
  const after = advanceRound(round.coordinator.db, round.roundId, round.now(), { force: true });
  t.equal(after.current_phase, 'failed');
  t.equal(after.failure?.code, 'SB_ERR_SECAGG_BELOW_THRESHOLD');
  await t.rejects(closeAndRelease(round), { code: 'SB_ERR_SECAGG_BELOW_THRESHOLD' }, 'no bundle, no release');
  const kh = KeyHolderStore.open((await loadKeyHolder(round.keyHolder.home)).paths.dataDir);
  t.teardown(() => kh.close());
  t.equal(countOf(kh.db.prepare('SELECT COUNT(*) AS n FROM decryption').get()), 0, 'the key holder decrypted nothing');
}

t.test('a coordinator that splits the survivor set between nodes gets no reveal', async (t) => {
  const round = await startRound(t.testdir(), {
    institutions: INSTITUTIONS,
    thresholds: THRESHOLDS,
    masking: { threshold: 4 },
  });
  t.teardown(() => round.stop());
  t.same(round.masking, { threshold: 4 }, 'masked round, t = 4 of n = 5');

  const lie = splitSurvivorSet(t, round);
  for (const node of round.nodes) await approveAsPrivacyOfficer(node, round);
  const outcome = await runUntilNoneWaits(round, lie.dispatcher);
  t.equal(lie.lies(), LIED_TO.length, 'each lied-to node fetched the survivor set once, through the lying relay');

  for (const node of round.nodes) assertNodeRefusedWithoutReveal(t, round, node, outcome.get(node.id));
  assertCoordinatorHoldsNoReveal(t, round);
  await assertRoundFailsClosed(t, round);
});
