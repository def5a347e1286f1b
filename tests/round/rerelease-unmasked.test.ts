import { join } from 'node:path';
import t from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import type { LocalNode } from '../../demo/local-round.js';
import { closeRound, publishRelease } from '../../coordinator/index.js';
import { releaseRoundDetailed } from '../../keyholder/release.js';
import { previewRound } from '../../node/audit/preview.js';
import { submitContribution } from '../../node/round/submit.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { readBundle } from '../../shared/protocol/bundle.js';
import { runCli } from '../helpers/cli.js';
import { approveLate } from '../helpers/approve-late.js';
import { startRound } from '../helpers/round-harness.js';

const THRESHOLDS = { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 5 };

t.test('unmasked round: a correction replaces the envelope; one late institution is refused', async (t) => {
  const round = await startRound(t.testdir(), { thresholds: THRESHOLDS });
  t.teardown(() => round.stop());
  const db = round.coordinator.db;
  const node = (id: string) => round.nodes.find((n) => n.id === id) as LocalNode;
  for (const id of ['inst-1', 'inst-2']) {
    await approveAsPrivacyOfficer(node(id), round);
    await submitContribution({ home: node(id).home, roundId: round.roundId, now: round.now });
  }
  const bundle1 = join(round.out, 'bundle-1');
  closeRound({ db, roundId: round.roundId, bundleDir: bundle1, force: true, now: round.now() });
  const shares = await round.keyHolder.custodians.present();
  const v1 = (await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle1, shares, now: round.now }))
    .release;
  publishRelease({ db, roundId: round.roundId, release: v1, now: round.now() });
  const v1Digest = readBundle(bundle1).index.contributions.find((c) => c.institution_id === 'inst-1')?.envelope_digest;

  // The operator's command, as a user runs it.
  const deadline = new Date(Date.now() + 3600_000).toISOString();
  const cli = runCli([
    'coordinator',
    'round',
    'reopen',
    '--home',
    round.coordinator.home,
    '--round',
    round.roundId,
    '--late',
    'inst-3,inst-1',
    '--deadline',
    deadline,
  ]);
  t.equal(cli.code, 0, `reopen exits 0 (${cli.stderr.trim()})`);
  t.match(cli.stdout, /inst-3 \(late\), inst-1 \(correction\)/, 'it names what each institution may send');
  const bad = runCli([
    'coordinator',
    'round',
    'reopen',
    '--home',
    round.coordinator.home,
    '--round',
    round.roundId,
    '--late',
    'inst-9',
    '--deadline',
    deadline,
  ]);
  t.not(bad.code, 0, 'a non-participant is refused');
  t.match(bad.stderr, /SB_ERR_NOT_PARTICIPANT/);
  const status = runCli(['coordinator', 'round', 'status', '--home', round.coordinator.home, '--round', round.roundId]);
  t.match(status.stdout, /reopened after version 1 for inst-3 \(late\) until/, 'round status shows the late window');

  // inst-1 corrects: the preview says so; the new envelope replaces the one in version 1.
  const { preview } = await previewRound({ home: node('inst-1').home, roundId: round.roundId, late: true });
  t.equal(preview.late, 'correction');
  t.match(preview.protection.text_nl, /CORRECTIE/, 'the preview states the protection of a correction');
  await t.rejects(
    submitContribution({ home: node('inst-1').home, roundId: round.roundId, late: true, now: round.now }),
    { code: 'SB_ERR_APPROVAL_MISSING', message: /not late.*approve .*--late/ },
    'the approval of version 1 does not cover the correction: a privacy officer approves it with --late',
  );
  await approveLate(round, node('inst-1'));
  await submitContribution({ home: node('inst-1').home, roundId: round.roundId, late: true, now: round.now });
  const kinds = (
    db.prepare('SELECT kind FROM events WHERE round_id = ? ORDER BY id').all(round.roundId) as { kind: string }[]
  ).map((e) => e.kind);
  t.ok(kinds.includes('round.reopened') && kinds.includes('contribution.correction'), 'both are in the events');

  await approveLate(round, node('inst-3'));
  await submitContribution({ home: node('inst-3').home, roundId: round.roundId, late: true, now: round.now });
  const bundle2 = join(round.out, 'bundle-2');
  const closed = closeRound({ db, roundId: round.roundId, bundleDir: bundle2, now: round.now() });
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
