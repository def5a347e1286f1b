import { join } from 'node:path';
import t, { type Test } from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import type { LocalRound } from '../../demo/local-round.js';
import { closeRound, publishRelease } from '../../coordinator/index.js';
import type { PresentedShare } from '../../keyholder/custody/seal.js';
import { releaseRoundDetailed } from '../../keyholder/release.js';
import { previewRound } from '../../node/audit/preview.js';
import { submitContribution } from '../../node/round/submit.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { readBundle } from '../../shared/protocol/bundle.js';
import { runCli } from '../helpers/cli.js';
import { approveLate } from '../helpers/approve-late.js';
import { nodeOf, startRound } from '../helpers/round-harness.js';

const THRESHOLDS = { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 5 };

/**
 * Version 1 of an unmasked round from inst-1 and inst-2, published. Returns the custodians'
 * shares and the digest of inst-1's envelope in version 1.
 */
async function releaseVersion1(round: LocalRound): Promise<{ shares: PresentedShare[]; v1Digest?: string }> {
  const db = round.coordinator.db;
  for (const id of ['inst-1', 'inst-2']) {
    await approveAsPrivacyOfficer(nodeOf(round, id), round);
    await submitContribution({ home: nodeOf(round, id).home, roundId: round.roundId, now: round.now });
  }
  const bundle1 = join(round.out, 'bundle-1');
  closeRound({ db, roundId: round.roundId, bundleDir: bundle1, force: true, now: round.now() });
  const shares = await round.keyHolder.custodians.present();
  const v1 = (await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle1, shares, now: round.now }))
    .release;
  publishRelease({ db, roundId: round.roundId, release: v1, now: round.now() });
  const v1Digest = readBundle(bundle1).index.contributions.find((c) => c.institution_id === 'inst-1')?.envelope_digest;
  return { shares, v1Digest };
}

/** `coordinator round reopen --late <ids>` as the operator runs it. */
const reopenCli = (round: LocalRound, ids: string, deadline: string) =>
  runCli([
    'coordinator',
    'round',
    'reopen',
    '--home',
    round.coordinator.home,
    '--round',
    round.roundId,
    '--late',
    ids,
    '--deadline',
    deadline,
  ]);

/**
 * The operator's command, as a user runs it: it reopens for inst-3 (late) and inst-1
 * (correction), refuses a non-participant, and `round status` shows the late window.
 */
function reopenByCommand(t: Test, round: LocalRound): void {
  const deadline = new Date(Date.now() + 3600_000).toISOString();
  const cli = reopenCli(round, 'inst-3,inst-1', deadline);
  t.equal(cli.code, 0, `reopen exits 0 (${cli.stderr.trim()})`);
  t.match(cli.stdout, /inst-3 \(late\), inst-1 \(correction\)/, 'it names what each institution may send');
  const bad = reopenCli(round, 'inst-9', deadline);
  t.not(bad.code, 0, 'a non-participant is refused');
  t.match(bad.stderr, /SB_ERR_NOT_PARTICIPANT/);
  const status = runCli(['coordinator', 'round', 'status', '--home', round.coordinator.home, '--round', round.roundId]);
  t.match(status.stdout, /reopened after version 1 for inst-3 \(late\) until/, 'round status shows the late window');
}

/** inst-1 corrects: the preview says so, the approval of version 1 does not cover it; sent, it is an event. */
async function sendInst1Correction(t: Test, round: LocalRound): Promise<void> {
  const home = nodeOf(round, 'inst-1').home;
  const { preview } = await previewRound({ home, roundId: round.roundId, late: true });
  t.equal(preview.late, 'correction');
  t.match(preview.protection.text_nl, /CORRECTIE/, 'the preview states the protection of a correction');
  await t.rejects(
    submitContribution({ home, roundId: round.roundId, late: true, now: round.now }),
    { code: 'SB_ERR_APPROVAL_MISSING', message: /not late.*approve .*--late/ },
    'the approval of version 1 does not cover the correction: a privacy officer approves it with --late',
  );
  await approveLate(round, nodeOf(round, 'inst-1'));
  await submitContribution({ home, roundId: round.roundId, late: true, now: round.now });
  const kinds = (
    round.coordinator.db.prepare('SELECT kind FROM events WHERE round_id = ? ORDER BY id').all(round.roundId) as {
      kind: string;
    }[]
  ).map((e) => e.kind);
  t.ok(kinds.includes('round.reopened') && kinds.includes('contribution.correction'), 'both are in the events');
}

/**
 * inst-3 sends late; the bundle holds three ordinary contributions, inst-1's corrected envelope in
 * place of the one of version 1. Returns the bundle's folder.
 */
async function closeWithInst3Late(t: Test, round: LocalRound, v1Digest: string | undefined): Promise<string> {
  await approveLate(round, nodeOf(round, 'inst-3'));
  await submitContribution({ home: nodeOf(round, 'inst-3').home, roundId: round.roundId, late: true, now: round.now });
  const bundle2 = join(round.out, 'bundle-2');
  const closed = closeRound({ db: round.coordinator.db, roundId: round.roundId, bundleDir: bundle2, now: round.now() });
  t.equal(closed.contributions, 3);
  t.same(closed.late, [], 'an unmasked round has no late list: every contribution is an ordinary one');
  const b2 = readBundle(bundle2);
  t.not(
    b2.index.contributions.find((c) => c.institution_id === 'inst-1')?.envelope_digest,
    v1Digest,
    "inst-1's corrected envelope replaced the one of version 1",
  );
  t.same(
    b2.releases?.map((r) => r.version),
    [1],
  );
  return bundle2;
}

t.test('unmasked round: a correction replaces the envelope; one late institution is refused', async (t) => {
  const round = await startRound(t.testdir(), { thresholds: THRESHOLDS });
  t.teardown(() => round.stop());
  const { shares, v1Digest } = await releaseVersion1(round);
  reopenByCommand(t, round);
  await sendInst1Correction(t, round);
  const bundle2 = await closeWithInst3Late(t, round, v1Digest);

  let refusal: unknown;
  try {
    await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle2, shares, now: round.now });
  } catch (e) {
    refusal = e;
  }
  t.equal(isSbError(refusal) ? refusal.code : String(refusal), 'SB_ERR_DISCLOSURE_AUDIT');
  // The message's next step for a difference with an earlier version (the findings list is cut at 50).
  t.match(
    isSbError(refusal) ? refusal.message : '',
    /A re-release may only add or change contributions of at least min_institutions institutions/,
    'refused for differences with version 1 (inst-3 alone, and the correction)',
  );
});
