// Issue 16 item 2, corrections of a MASKED round (docs/DECISIONS.md 80): six institutions (the
// three sample institutions and three more with inst-3's exports) in a masked round; inst-6 drops
// out after sharing its keys, so version 1 is the sum of five survivors. Then inst-4 finds its
// export was wrong and re-imports (inst-1's exports this time): its masked input cannot be taken
// out of the sum, so its node sends the encrypted difference new − old, unmasked. That correction
// alone would show in the difference of the two versions: the audit refuses, nothing is signed.
// With inst-5's correction (re-imported as inst-2) and inst-6's late contribution (inst-2's
// exports), version 2 is
// signed and every published figure and institution count equals the sum of the institutions'
// vectors as they are now, computed here from the sample's expected vectors. Real SQLite,
// node-seal, signatures and HTTP on loopback throughout.
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, type LocalRound } from '../../demo/local-round.js';
import { runMaskedPhases } from '../../demo/masked-round.js';
import { closeRound, publishRelease, reopenRound } from '../../coordinator/index.js';
import { findRelease } from '../../coordinator/store/releases.js';
import { releaseRoundDetailed } from '../../keyholder/release.js';
import { KeyHolderStore } from '../../keyholder/store/keyholder-store.js';
import type { PresentedShare } from '../../keyholder/custody/seal.js';
import { loadKeyHolder } from '../../keyholder/init.js';
import { previewRound } from '../../node/audit/preview.js';
import { readAudit } from '../../node/audit/log.js';
import { dataflowStatement } from '../../node/audit/render.js';
import { verifyAuditLog } from '../../node/audit/verify.js';
import { importDataset } from '../../node/import/import-dataset.js';
import { submitContribution } from '../../node/round/submit.js';
import { openNodeDb } from '../../node/store/node-db.js';
import type { Release } from '../../schemas/release.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { releaseDigest } from '../../shared/protocol/release-digest.js';
import { readBundle } from '../../shared/protocol/bundle.js';
import { readExpected, type ExpectedVector } from '../helpers/expected.js';
import { checkRelease } from '../helpers/release-check.js';
import { sampleDir } from '../helpers/paths.js';
import { approveLate } from '../helpers/approve-late.js';
import { nodeOf, sampleInstitutions, startRound } from '../helpers/round-harness.js';

const THRESHOLDS = { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 5 };
const files = (sample: string) => ({
  enrolments: join(sampleDir, sample, 'enrolments.csv'),
  attendance: join(sampleDir, sample, 'attendance.csv'),
});
const code = (e: unknown) => (isSbError(e) ? e.code : String(e));

/**
 * Every institution count of a release (blocks A and B of each cell, and of each rollup group
 * the sample vectors have) equals the sum of the institutions' indicator slots `c_contrib_a/b`
 * in their expected vectors. Returns how many counts were compared.
 */
function checkCounts(t: Test, release: Release, samples: string[]): number {
  const vs = samples.map(readExpected);
  let compared = 0;
  let differ = 0;
  const sum = (kind: 'cells' | 'groups', key: string, slot: string) =>
    vs.reduce((a, v) => a + (v[kind][key]?.[slot] ?? 0), 0);
  for (const [kind, rows] of [
    ['cells', release.cells],
    ['groups', release.rollups],
  ] as const) {
    for (const [key, row] of Object.entries(rows)) {
      if (kind === 'groups' && !vs.some((v) => v.groups[key])) continue;
      for (const [block, slot] of [
        ['a', 'c_contrib_a'],
        ['b', 'c_contrib_b'],
      ] as const) {
        compared++;
        if (row.institutions[block] !== sum(kind, key, slot)) differ++;
      }
    }
  }
  t.equal(
    differ,
    0,
    `every one of ${compared} institution counts equals the sum of the indicators of ${samples.join(' + ')}`,
  );
  return compared;
}

/** The three sample institutions and inst-4..6 with inst-3's exports, in a masked round (threshold 4). */
async function startSixInstitutionRound(t: Test): Promise<LocalRound> {
  const round = await startRound(t.testdir(), {
    institutions: [
      ...sampleInstitutions(),
      { id: 'inst-4', ...files('inst-3') },
      { id: 'inst-5', ...files('inst-3') },
      { id: 'inst-6', ...files('inst-3') },
    ],
    thresholds: THRESHOLDS,
    masking: { threshold: 4 },
  });
  t.teardown(() => round.stop());
  return round;
}

/** Version 1: five survivors; inst-6 drops out after sharing its keys. */
async function releaseVersion1(t: Test, round: LocalRound): Promise<Release> {
  const masked = await runMaskedPhases(round, { beforeSubmit: approveAsPrivacyOfficer, drop: 1 });
  t.same(masked.dropped, ['inst-6']);
  const { release: v1 } = await closeAndRelease(round);
  t.equal(v1.release_version, 1);
  checkRelease(t, v1, ['inst-1', 'inst-2', 'inst-3', 'inst-3', 'inst-3']);
  return v1;
}

/** inst-4 re-imports corrected exports (inst-1's); the coordinator admits its correction. */
async function admitInst4Correction(t: Test, round: LocalRound, deadline: Date): Promise<void> {
  const db = round.coordinator.db;
  const admitted = reopenRound({ db, roundId: round.roundId, institutions: ['inst-4'], deadline, now: round.now() });
  t.same(
    admitted.map((a) => [a.institutionId, a.kind]),
    [['inst-4', 'correction']],
    'a survivor of the masked round is admitted for a correction (no SB_ERR_CORRECTION_MASKED any more)',
  );
  await importDataset({ home: nodeOf(round, 'inst-4').home, ...files('inst-1'), now: round.now });
}

/** The number of cells whose figures differ between two expected vectors. */
function changedCells(e1: ExpectedVector, e3: ExpectedVector): number {
  const cellKeys = new Set([...Object.keys(e1.cells), ...Object.keys(e3.cells)]);
  let n = 0;
  for (const k of cellKeys) {
    const slots = new Set([...Object.keys(e1.cells[k] ?? {}), ...Object.keys(e3.cells[k] ?? {})]);
    if ([...slots].some((s) => (e1.cells[k]?.[s] ?? 0) !== (e3.cells[k]?.[s] ?? 0))) n++;
  }
  return n;
}

/**
 * inst-4's preview names the difference and what it gives away, and shows the expected vectors'
 * difference (inst-1 − inst-3), cell by cell. Returns the vector digest the officer approves.
 */
async function assertPreviewShowsTheDifference(t: Test, round: LocalRound): Promise<string> {
  const { preview, rendered } = await previewRound({
    home: nodeOf(round, 'inst-4').home,
    roundId: round.roundId,
    late: true,
  });
  t.equal(preview.late, 'difference', 'the node sends a difference: its masked input is in the sum');
  t.match(rendered, /CORRECTIE als VERSCHIL/, 'the preview says the figures shown are the difference');
  t.match(rendered, /Het verschil per cel, nieuw min eerder verstuurd/, 'and heads the cells so');
  t.match(preview.protection.text_nl, /alleen het VERSCHIL .* NIET gemaskeerd/, 'it goes unmasked');
  t.match(
    preview.protection.text_nl,
    /sleutelhouder .* k van zijn bewaarders, dit verschil precies ontsleutelen/,
    'the key holder with k custodians could decrypt the difference exactly',
  );
  t.match(
    preview.protection.text_nl,
    /verschil tussen de ontsleutelde optelsommen van de nieuwe versie en de vorige is dit verschil, opgeteld bij/,
    'and the difference of the versions is that difference plus the other late or correcting ones',
  );
  const e1 = readExpected('inst-1');
  const e3 = readExpected('inst-3');
  t.equal(preview.cells.length, changedCells(e1, e3), 'the preview lists exactly the cells whose figures change');
  const someCell = preview.cells[0];
  const someSlot = someCell?.values[0];
  t.ok(someCell && someSlot, 'at least one changed cell');
  if (someCell && someSlot)
    t.equal(
      someSlot.value,
      (e1.cells[someCell.key]?.[someSlot.slot] ?? 0) - (e3.cells[someCell.key]?.[someSlot.slot] ?? 0),
      `the value shown for ${someCell.key} ${someSlot.slot} is new − old`,
    );
  return preview.vector_digest;
}

/** The masked input an audit-log entry says it corrects, if it names one. */
function correctedDigest(payload: Record<string, unknown> | undefined): unknown {
  const corrects = payload?.corrects;
  return corrects && typeof corrects === 'object' && 'envelope_digest' in corrects
    ? corrects.envelope_digest
    : undefined;
}

/**
 * Submit without a late approval of the difference is refused; with one it goes, and inst-4's
 * audit log, data-flow statement and the coordinator's events record it as a difference.
 */
async function submitInst4Difference(t: Test, round: LocalRound, approvedDigest: string): Promise<void> {
  const home = nodeOf(round, 'inst-4').home;
  await t.rejects(
    submitContribution({ home, roundId: round.roundId, late: true, now: round.now }),
    { code: 'SB_ERR_APPROVAL_MISSING' },
    'the approval of the masked input does not cover the difference',
  );
  await approveLate(round, nodeOf(round, 'inst-4'));
  const sent4 = await submitContribution({ home, roundId: round.roundId, late: true, now: round.now });
  t.equal(sent4.receipt.institution_id, 'inst-4', 'the coordinator receipted the difference');
  const ndb = openNodeDb(home);
  const envelopes = readAudit(ndb, { roundId: round.roundId }).filter((e) => e.kind === 'envelope');
  ndb.close();
  const last = envelopes.at(-1);
  t.equal(last?.payload.late, 'difference', 'the audit log records the difference envelope');
  t.equal(last?.payload.vector_digest, approvedDigest, 'with the digest the officer approved');
  t.equal(
    correctedDigest(last?.payload),
    envelopes[0]?.payload.envelope_digest,
    'and names the masked input it corrects',
  );
  const deep = await verifyAuditLog({ home, deep: true });
  t.ok(deep.ok, `inst-4's audit log verifies, deep (${deep.findings.map((f) => f.message).join('; ')})`);
  t.equal(deep.deep?.envelopes, 2, 'the masked input and the difference both re-derived from the log');
  const flow = dataflowStatement({ home, roundId: round.roundId });
  t.match(flow.nl, /alleen het VERSCHIL/, "inst-4's data-flow statement says its correction went as a difference");
  const events = (
    round.coordinator.db
      .prepare("SELECT detail FROM events WHERE round_id = ? AND kind = 'contribution.correction'")
      .all(round.roundId) as { detail: string }[]
  ).map((e) => JSON.parse(e.detail) as { difference?: boolean });
  t.same(
    events.map((e) => e.difference),
    [true],
    'the coordinator records it as a correction by difference',
  );
}

/** Alone, the correction would be the difference of the two versions: the audit refuses, nothing signed. */
async function assertCorrectionAloneRefused(t: Test, round: LocalRound, shares: PresentedShare[]): Promise<void> {
  const db = round.coordinator.db;
  const bundle1 = join(round.out, 'bundle-correction-1');
  const closed1 = closeRound({ db, roundId: round.roundId, bundleDir: bundle1, now: round.now() });
  t.same(closed1.corrections, ['inst-4']);
  t.same(closed1.late, []);
  t.equal(closed1.contributions, 5, 'the five masked inputs stay in the sum');
  const b1 = readBundle(bundle1);
  t.same(
    b1.corrections?.map((c) => [c.institutionId, c.afterVersion]),
    [['inst-4', 1]],
    'the bundle carries the difference next to the masked inputs',
  );
  let refusal: unknown;
  try {
    await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle1, shares, now: round.now });
  } catch (e) {
    refusal = e;
  }
  t.equal(code(refusal), 'SB_ERR_DISCLOSURE_AUDIT', 'the audit refuses version 2 with one correction');
  const findings = (isSbError(refusal) ? (refusal.details.findings as { kind: string }[]) : []) ?? [];
  t.ok(
    findings.some((f) => f.kind === 'version_difference'),
    `for differences with version 1 (findings: ${[...new Set(findings.map((f) => f.kind))].join(', ')})`,
  );
  const kh = await loadKeyHolder(round.keyHolder.home);
  const store = KeyHolderStore.open(kh.paths.dataDir);
  t.same(
    store.releases(round.roundId).map((r) => r.releaseVersion),
    [1],
    'nothing was signed',
  );
  store.close();
  t.equal(findRelease(db, round.roundId)?.version, 1);
}

/**
 * inst-5 corrects too (re-imported as inst-2) and inst-6 sends late (its export, which came late,
 * is inst-2's); the round closes again with both.
 */
async function sendInst5CorrectionAndInst6Late(t: Test, round: LocalRound, deadline: Date): Promise<string> {
  const db = round.coordinator.db;
  const again = reopenRound({
    db,
    roundId: round.roundId,
    institutions: ['inst-5', 'inst-6'],
    deadline,
    now: round.now(),
  });
  t.same(
    again.map((a) => [a.institutionId, a.kind]),
    [
      ['inst-5', 'correction'],
      ['inst-6', 'late'],
    ],
  );
  await importDataset({ home: nodeOf(round, 'inst-5').home, ...files('inst-2'), now: round.now });
  await approveLate(round, nodeOf(round, 'inst-5'));
  await submitContribution({ home: nodeOf(round, 'inst-5').home, roundId: round.roundId, late: true, now: round.now });
  await importDataset({ home: nodeOf(round, 'inst-6').home, ...files('inst-2'), now: round.now });
  const text6 = await approveLate(round, nodeOf(round, 'inst-6'));
  t.match(text6, /LATE bijdrage/, 'inst-6 sends an ordinary late contribution');
  await submitContribution({ home: nodeOf(round, 'inst-6').home, roundId: round.roundId, late: true, now: round.now });
  const bundle2 = join(round.out, 'bundle-correction-2');
  const closed2 = closeRound({ db, roundId: round.roundId, bundleDir: bundle2, now: round.now() });
  t.same(closed2.corrections, ['inst-4', 'inst-5']);
  t.same(closed2.late, ['inst-6']);
  return bundle2;
}

/**
 * Version 2 follows version 1, counts six institutions, and every published figure and count
 * equals the sum of each institution's vector as it is now (inst-4 = inst-1's, inst-5 and inst-6 =
 * inst-2's); version 1's counts equal its five survivors'. The coordinator publishes it.
 */
function assertVersion2EqualsTheReference(t: Test, round: LocalRound, v1: Release, v2: Release): void {
  t.equal(v2.release_version, 2);
  t.equal(v2.previous_release_digest, releaseDigest(v1));
  t.equal(v2.institutions, 6, 'six institutions: the correcting ones are counted once');
  t.same(v2.disclosure?.audit.versions.compared, [1]);
  const now = ['inst-1', 'inst-2', 'inst-3', 'inst-1', 'inst-2', 'inst-2'];
  const figures = checkRelease(t, v2, now);
  t.ok(figures > 0, `${figures} figures compared`);
  checkCounts(t, v2, now);
  checkCounts(t, v1, ['inst-1', 'inst-2', 'inst-3', 'inst-3', 'inst-3']);
  t.equal(
    publishRelease({ db: round.coordinator.db, roundId: round.roundId, release: v2, now: round.now() }).version,
    2,
  );
}

t.test('a correction of a masked round goes as an encrypted difference and gives version 2', async (t) => {
  const round = await startSixInstitutionRound(t);
  const v1 = await releaseVersion1(t, round);
  const deadline = new Date(round.now().getTime() + 3600_000);
  await admitInst4Correction(t, round, deadline);
  const approvedDigest = await assertPreviewShowsTheDifference(t, round);
  await submitInst4Difference(t, round, approvedDigest);
  const shares = await round.keyHolder.custodians.present();
  await assertCorrectionAloneRefused(t, round, shares);
  const bundle2 = await sendInst5CorrectionAndInst6Late(t, round, deadline);
  const r2 = await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle2, shares, now: round.now });
  assertVersion2EqualsTheReference(t, round, v1, r2.release);
});
