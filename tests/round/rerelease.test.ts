// Issue 16 item 2 "Versioned re-release": a masked round of five institutions (the three sample
// institutions and two more with inst-3's exports) where the last two drop out after sharing their
// keys, released as version 1 from the three survivors; the coordinator reopens it for the two,
// which send late, unmasked contributions. With one late contribution in, version 2 would show
// it by differencing with version 1 and the audit refuses it (nothing signed, nothing
// published); with both, version 2 is signed, chained to version 1 and published, every figure
// equals the reference sums including the late institutions, and a node's comparison says what
// changed. Real SQLite, node-seal, signatures and HTTP on loopback throughout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, type LocalRound } from '../../demo/local-round.js';
import { runMaskedPhases } from '../../demo/masked-round.js';
import { closeRound, publishRelease, reopenRound } from '../../coordinator/index.js';
import { findRelease } from '../../coordinator/store/releases.js';
import { releaseRoundDetailed } from '../../keyholder/release.js';
import { KeyHolderStore } from '../../keyholder/store/keyholder-store.js';
import type { PresentedShare } from '../../keyholder/custody/seal.js';
import { loadKeyHolder } from '../../keyholder/init.js';
import { readAudit } from '../../node/audit/log.js';
import { dataflowStatement } from '../../node/audit/render.js';
import { verifyAuditLog } from '../../node/audit/verify.js';
import { writeBenchmark } from '../../node/round/benchmark.js';
import { submitContribution } from '../../node/round/submit.js';
import { openNodeDb } from '../../node/store/node-db.js';
import type { Release } from '../../schemas/release.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { releaseDigest } from '../../shared/protocol/release-digest.js';
import { readBundle } from '../../shared/protocol/bundle.js';
import { checkRelease } from '../helpers/release-check.js';
import { sampleDir } from '../helpers/paths.js';
import { approveLate } from '../helpers/approve-late.js';
import { nodeOf, sampleInstitutions, startRound } from '../helpers/round-harness.js';

// Loose primary rules (as in tests/secagg/masked-round.test.ts): most blocks of two institutions publish.
const THRESHOLDS = { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 5 };
const asInst3 = (id: string) => ({
  id,
  enrolments: join(sampleDir, 'inst-3', 'enrolments.csv'),
  attendance: join(sampleDir, 'inst-3', 'attendance.csv'),
});

const code = (e: unknown) => (isSbError(e) ? e.code : String(e));

/** Figures (slots of cell and rollup rows) changed, newly published and now suppressed, counted here. */
function countChanges(v1: Release, v2: Release): { changed: number; added: number; removed: number } {
  const out = { changed: 0, added: 0, removed: 0 };
  for (const [a, b] of [
    [v1.cells, v2.cells],
    [v1.rollups, v2.rollups],
  ] as const) {
    for (const key of Object.keys(b)) {
      for (const [slot, now] of Object.entries(b[key]?.slots ?? {})) {
        const then = a[key]?.slots[slot] ?? null;
        if (then === null && now !== null) out.added++;
        else if (then !== null && now === null) out.removed++;
        else if (then !== null && now !== null && then !== now) out.changed++;
      }
    }
  }
  return out;
}

/** Five institutions (inst-4 and inst-5 with inst-3's exports) in a masked round (threshold 3). */
async function startFiveInstitutionRound(t: Test): Promise<LocalRound> {
  const round = await startRound(t.testdir(), {
    institutions: [...sampleInstitutions(), asInst3('inst-4'), asInst3('inst-5')],
    thresholds: THRESHOLDS,
    masking: { threshold: 3 },
  });
  t.teardown(() => round.stop());
  return round;
}

/** Version 1: the three survivors (inst-4 and inst-5 drop out after sharing their keys). */
async function releaseVersion1(t: Test, round: LocalRound): Promise<Release> {
  const masked = await runMaskedPhases(round, { beforeSubmit: approveAsPrivacyOfficer, drop: 2 });
  t.same(masked.dropped, ['inst-4', 'inst-5']);
  const { release: v1 } = await closeAndRelease(round);
  t.equal(v1.release_version, 1);
  t.equal(v1.institutions, 3);
  checkRelease(t, v1, ['inst-1', 'inst-2', 'inst-3']);
  return v1;
}

/** The coordinator admits the two late (a survivor's correction: tests/round/rerelease-correction.test.ts). */
function admitTheTwoLate(t: Test, round: LocalRound): void {
  const deadline = new Date(round.now().getTime() + 3600_000);
  const admitted = reopenRound({
    db: round.coordinator.db,
    roundId: round.roundId,
    institutions: ['inst-4', 'inst-5'],
    deadline,
    now: round.now(),
  });
  t.same(
    admitted.map((a) => [a.institutionId, a.kind, a.afterVersion]),
    [
      ['inst-4', 'late', 1],
      ['inst-5', 'late', 1],
    ],
  );
}

/**
 * inst-4: refused without the late preview; its privacy officer reads it and approves; it sends,
 * and its audit log and data-flow statement say the contribution went unmasked.
 */
async function sendInst4Late(t: Test, round: LocalRound): Promise<void> {
  const home = nodeOf(round, 'inst-4').home;
  await t.rejects(
    submitContribution({ home, roundId: round.roundId, late: true, now: round.now }),
    { code: 'SB_ERR_LATE_PREVIEW_MISSING' },
    'a late contribution needs the preview that states its protection',
  );
  const text = await approveLate(round, nodeOf(round, 'inst-4'));
  t.match(text, /LATE bijdrage/, 'the preview says the contribution is late');
  t.match(text, /NIET gemaskeerd/, 'and that it is not masked');
  t.match(text, /sleutelhouder .* k van zijn bewaarders/, 'and who could read it');
  const sent4 = await submitContribution({ home, roundId: round.roundId, late: true, now: round.now });
  t.equal(sent4.receipt.institution_id, 'inst-4', 'the coordinator receipted the late contribution');
  const deep = await verifyAuditLog({ home, deep: true });
  t.ok(deep.ok, `inst-4's audit log verifies, deep (${deep.findings.map((f) => f.message).join('; ')})`);
  t.equal(deep.deep?.envelopes, 1, 'its unmasked late envelope re-derived from the logged vector');
  const flow = dataflowStatement({ home, roundId: round.roundId });
  t.match(
    flow.nl,
    /LATE bijdrage .* NIET gemaskeerd/,
    "inst-4's data-flow statement says its contribution went unmasked",
  );
}

/** Closing waits for inst-5 unless forced; forced, the bundle holds the survivors + inst-4. */
function closeWithInst4Only(t: Test, round: LocalRound): string {
  const db = round.coordinator.db;
  const bundle1 = join(round.out, 'bundle-late-1');
  t.throws(
    () => closeRound({ db, roundId: round.roundId, bundleDir: bundle1, now: round.now() }),
    { code: 'SB_ERR_ROUND_NOT_DUE' },
    'inst-5 may still send',
  );
  const closed1 = closeRound({ db, roundId: round.roundId, bundleDir: bundle1, force: true, now: round.now() });
  t.same(closed1.late, ['inst-4']);
  t.equal(closed1.contributions, 4);
  const b1 = readBundle(bundle1);
  t.same(b1.late, ['inst-4'], 'the bundle names the late (unmasked) contribution');
  t.same(
    b1.releases?.map((r) => r.version),
    [1],
    'and carries the published version 1 (no --previous needed)',
  );
  return bundle1;
}

/**
 * One late institution: every figure it adds to, published in version 1 too, isolates it; the
 * audit refuses version 2, nothing is signed and the coordinator still serves version 1.
 */
async function assertOneLateRefused(t: Test, round: LocalRound, bundle1: string, shares: PresentedShare[]) {
  let refusal: unknown;
  try {
    await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle1, shares, now: round.now });
  } catch (e) {
    refusal = e;
  }
  t.equal(code(refusal), 'SB_ERR_DISCLOSURE_AUDIT', 'the audit refuses version 2');
  const findings = (isSbError(refusal) ? (refusal.details.findings as { kind: string; entry: string }[]) : []) ?? [];
  t.ok(
    findings.some((f) => f.kind === 'version_difference' && f.entry === 'rollup:total'),
    'naming the sector total, whose difference with version 1 is inst-4 alone',
  );
  const kh = await loadKeyHolder(round.keyHolder.home);
  const store = KeyHolderStore.open(kh.paths.dataDir);
  t.same(
    store.releases(round.roundId).map((r) => r.releaseVersion),
    [1],
    'nothing was signed: the key holder has version 1 only',
  );
  store.close();
  t.equal(findRelease(round.coordinator.db, round.roundId)?.version, 1, 'and the coordinator still serves version 1');
}

/** inst-5 sends too (refused without --late first); the round closes with both late. */
async function sendInst5Late(t: Test, round: LocalRound): Promise<string> {
  const home = nodeOf(round, 'inst-5').home;
  await t.rejects(
    submitContribution({ home, roundId: round.roundId, now: round.now }),
    { code: 'SB_ERR_MASKED_ROUND', message: /--late/ },
    'without --late the node refuses (a masked round) and names --late',
  );
  await approveLate(round, nodeOf(round, 'inst-5'));
  await submitContribution({ home, roundId: round.roundId, late: true, now: round.now });
  const bundle2 = join(round.out, 'bundle-late-2');
  const closed2 = closeRound({
    db: round.coordinator.db,
    roundId: round.roundId,
    bundleDir: bundle2,
    now: round.now(),
  });
  t.same(closed2.late, ['inst-4', 'inst-5']);
  return bundle2;
}

/**
 * Two late institutions behind every difference: version 2 is signed, chained to version 1,
 * equals the reference sums and is published; the same sum again gives no version 3.
 */
async function releaseVersion2(t: Test, round: LocalRound, v1: Release, bundle2: string, shares: PresentedShare[]) {
  const r2 = await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle2, shares, now: round.now });
  const v2 = r2.release;
  t.equal(v2.release_version, 2);
  t.equal(v2.previous_release_digest, releaseDigest(v1), 'version 2 names version 1 as the one it replaces');
  t.equal(v2.institutions, 5);
  t.same(v2.disclosure?.audit.versions.compared, [1], 'the audit compared version 2 with version 1');
  t.ok((v2.disclosure?.audit.versions.differences_checked ?? 0) > 0);
  checkRelease(t, v2, ['inst-1', 'inst-2', 'inst-3', 'inst-3', 'inst-3']);
  const db = round.coordinator.db;
  const published = publishRelease({ db, roundId: round.roundId, release: v2, now: round.now() });
  t.equal(published.version, 2, 'the coordinator publishes version 2');
  const bundle3 = join(round.out, 'bundle-again');
  closeRound({ db, roundId: round.roundId, bundleDir: bundle3, now: round.now() });
  await t.rejects(
    releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle3, shares, now: round.now }),
    { code: 'SB_ERR_ALREADY_RELEASED' },
    'the same sum again gives no version 3 (nothing is decrypted)',
  );
  return v2;
}

/**
 * A node fetches the newest version, checks the chain and says what changed, as counted here;
 * the publication site says the same, and the node's audit log records both fetches.
 */
async function assertNodeSaysWhatChanged(t: Test, round: LocalRound, v1: Release, v2: Release): Promise<void> {
  const hand = countChanges(v1, v2);
  t.ok(hand.changed > 0, `figures changed (${hand.changed})`);
  const out = join(round.out, 'benchmark-inst-1');
  const home = nodeOf(round, 'inst-1').home;
  const bm = await writeBenchmark({ home, roundId: round.roundId, out, now: round.now });
  t.equal(bm.releaseVersion, 2);
  t.same(
    bm.changes && [bm.changes.changed, bm.changes.newlyPublished, bm.changes.nowSuppressed],
    [hand.changed, hand.added, hand.removed],
    'the node counts the changes as counted here',
  );
  const html = readFileSync(bm.html, 'utf8');
  const nl = (n: number) => n.toLocaleString('nl-NL');
  t.ok(
    html.includes(
      `Versie 2 van deze benchmark (vervangt versie 1): ${nl(hand.changed)} cijfers gewijzigd, ` +
        `${nl(hand.added)} nieuw gepubliceerd, ${nl(hand.removed)} nu onderdrukt; 5 in plaats van ` +
        '3 instellingen in de optelsom.',
    ),
    'the comparison page says what changed, in Dutch',
  );
  const site = await request(
    `${round.coordinator.url}/v1/rounds/${encodeURIComponent(round.roundId)}/site/index.html`,
    round.coordinator.dispatcher ? { dispatcher: round.coordinator.dispatcher } : {},
  );
  const page = await site.body.text();
  t.equal(site.statusCode, 200);
  t.ok(
    page.includes(
      `Versie 2 van deze benchmark (vervangt versie 1): ${nl(hand.changed)} cijfers gewijzigd, ` +
        `${nl(hand.added)} nieuw gepubliceerd, ${nl(hand.removed)} nu onderdrukt`,
    ),
    'the publication site says the same',
  );
  const ndb = openNodeDb(home);
  const fetched = readAudit(ndb, { roundId: round.roundId })
    .filter((e) => e.kind === 'release_fetched')
    .map((e) => e.payload.release_version);
  ndb.close();
  t.same(fetched.slice(-2), [2, 1], "the node's audit log records the fetch of version 2 and of version 1 it replaces");
}

t.test('a late contribution gives version 2; the audit refuses a version 2 that would isolate it', async (t) => {
  const round = await startFiveInstitutionRound(t);
  const v1 = await releaseVersion1(t, round);
  admitTheTwoLate(t, round);
  await sendInst4Late(t, round);
  const bundle1 = closeWithInst4Only(t, round);
  const shares = await round.keyHolder.custodians.present();
  await assertOneLateRefused(t, round, bundle1, shares);
  const bundle2 = await sendInst5Late(t, round);
  const v2 = await releaseVersion2(t, round, v1, bundle2, shares);
  await assertNodeSaysWhatChanged(t, round, v1, v2);
});
