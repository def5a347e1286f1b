import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { releaseDigest } from '../../shared/protocol/release-digest.js';
import { releaseRound, releaseRoundDetailed } from '../../keyholder/release.js';
import { KeyHolderStore } from '../../keyholder/store/keyholder-store.js';
import { ReleaseSchema, type Release } from '../../schemas/release.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { verifyRelease } from '../../shared/protocol/round-documents.js';
import { sampleDir } from '../helpers/paths.js';
import { NOW, roundFixture } from './round-fixture.js';

const f = await roundFixture();
t.teardown(async () => {
  await sealWorker().close();
  f.cleanup();
});

// ---- Expected release, derived from sample/expected/sector.json with the rules written out ----
type Row = Record<string, number>;
const sector = JSON.parse(readFileSync(join(sampleDir, 'expected/sector.json'), 'utf8')) as {
  slots: string[];
  cells: Record<string, Row>;
  groups: Record<string, Row>;
};
const A = sector.slots.filter((s) => s.startsWith('a_'));
const B = sector.slots.filter((s) => s.startsWith('b_'));
const sectorkamer = new Map(f.cb.entries.map((e) => [e.crebo, e.sectorkamerCode]));
const allCells = f.cb.entries.flatMap((e) => ['BOL', 'BBL'].map((lw) => `${e.crebo}|${e.niveau}|${lw}`));

/** Group membership of a cell `crebo|niveau|leerweg`, from METRICS.md "Group rows". */
function inGroup(group: string, cell: string): boolean {
  const [crebo, niveau, leerweg] = cell.split('|') as [string, string, string];
  const [kind, a, b] = group.split('|');
  switch (kind) {
    case 'total':
      return true;
    case 'niveau':
      return niveau === a;
    case 'leerweg':
      return leerweg === a;
    case 'sectorkamer':
      return sectorkamer.get(crebo) === a;
    case 'sectorkamer_niveau':
      return sectorkamer.get(crebo) === a && niveau === b;
    default:
      throw new Error(group);
  }
}

/** The rule: fewer than min_institutions contributors, else population below min_population. */
function rule(
  institutions: number,
  population: number,
  th: { min_institutions: number; min_population: number },
): string | null {
  if (institutions < th.min_institutions) return 'min_institutions';
  if (population < th.min_population) return 'min_population';
  return null;
}

function expectedRow(values: Row, facts: Row, th: { min_institutions: number; min_population: number }) {
  const ia = facts.c_contrib_a ?? 0;
  const ib = facts.c_contrib_b ?? 0;
  return {
    institutions: { a: ia, b: ib },
    ruleA: rule(ia, values.a_enrolments ?? 0, th),
    ruleB: rule(ib, values.b_starters ?? 0, th),
    values,
  };
}

function expected(th: { min_institutions: number; min_population: number }) {
  const cells = Object.fromEntries(
    allCells.map((k) => [k, expectedRow(sector.cells[k] ?? {}, sector.cells[k] ?? {}, th)]),
  );
  const rollups = Object.fromEntries(
    f.cb.groupKeys.map((g) => {
      const values: Row = {};
      for (const s of [...A, ...B])
        values[s] = allCells.filter((c) => inGroup(g, c)).reduce((acc, c) => acc + (sector.cells[c]?.[s] ?? 0), 0);
      return [g, expectedRow(values, sector.groups[g] ?? {}, th)];
    }),
  );
  return { cells, rollups };
}

/**
 * Primary rules exactly as written out; a block that passes them is published with the figures
 * of sector.json or suppressed by a later pass (dominance, secondary) — the audit decides which,
 * tests/keyholder/disclosure-*.test.ts check those passes.
 */
function checkRelease(
  t: Test,
  r: Release,
  th: { min_institutions: number; min_population: number },
  rules: ('min_institutions' | 'min_population')[],
) {
  const exp = expected(th);
  const tally = { published: 0, min_institutions: 0, min_population: 0, later: 0, withheldSlots: 0 };
  let mismatches = 0;
  for (const kind of ['cells', 'rollups'] as const) {
    t.same(Object.keys(r[kind]).sort(), Object.keys(exp[kind]).sort(), `every ${kind} key is in the release`);
    for (const [key, e] of Object.entries(exp[kind])) {
      const row = r[kind][key]!;
      if (row.institutions.a !== e.institutions.a || row.institutions.b !== e.institutions.b) mismatches++;
      for (const [slots, want] of [
        [A, e.ruleA],
        [B, e.ruleB],
      ] as const) {
        const later = want === null && row.slots[slots[0] as string] === null;
        if (later) tally.later++;
        else if (want === null) tally.published++;
        else tally[want as 'min_institutions' | 'min_population']++;
        for (const s of slots) {
          if (later) {
            if (!['dominance', 'secondary'].includes(row.suppressed[s]?.rule ?? '')) mismatches++;
          } else if (want === null) {
            // A published rollup block may withhold single slots (zero rule total_row, the
            // default: docs/DECISIONS.md 98): null, rule secondary, never the population.
            const withheldSlot =
              kind === 'rollups' && s !== slots[0] && row.slots[s] === null && row.suppressed[s]?.rule === 'secondary';
            if (withheldSlot) tally.withheldSlots++;
            else if (row.slots[s] !== (e.values[s] ?? 0) || s in row.suppressed) mismatches++;
          } else if (row.slots[s] !== null || row.suppressed[s]?.rule !== want) {
            mismatches++;
          }
        }
      }
      if (Object.keys(row.slots).some((s) => s.startsWith('c_'))) mismatches++;
    }
  }
  t.equal(mismatches, 0, 'every published figure equals sector.json and every suppression follows the rules');
  t.ok(
    tally.published > 0 && rules.every((r) => tally[r] > 0),
    `blocks published and suppressed by ${rules.join(' and ')} (${JSON.stringify(tally)})`,
  );
  return tally;
}

type Detailed = Awaited<ReturnType<typeof releaseRoundDetailed>>;

/** The release is signed, has the round's metadata and thresholds, no block C sums, the audit verdict, and right figures. */
function checkSignedRelease(
  t: Test,
  res: Detailed,
  th: { min_institutions: number; min_population: number },
  phases: string[],
): void {
  const r = res.release;
  t.ok(ReleaseSchema.safeParse(r).success, 'release matches ReleaseSchema');
  t.ok(verifyRelease(r, f.kh.identity.publicKey), 'release signature verifies with the key holder key');
  t.notOk(verifyRelease({ ...r, institutions: 4 }, f.kh.identity.publicKey), 'and not after a change');
  t.match(r, {
    round_id: '2024-2025-r1',
    release_version: 1,
    previous_release_digest: null,
    studiejaar: '2024-2025',
    institutions: 3,
    published_at: '2025-11-03T09:00:00Z',
    metric_spec: 'v1',
  });
  t.same(r.thresholds, {
    min_institutions: 3,
    min_population: 10,
    dominance_share: 0.85,
    min_institutions_distribution: 5,
  });
  t.notMatch(JSON.stringify(r), /c_sq|c_contrib/, 'no summed squares or contributor slots in the release');
  t.notOk(
    Object.values(r.cells).some((row) => Object.keys(row.slots).some((s) => s.startsWith('c_'))),
    'block C only as distributions',
  );
  t.match(
    r.disclosure,
    { audit: { verdict: 'passed', determined: 0 }, protection: { min_width: 3, ratio_num: 1, ratio_den: 2 } },
    'the audit verdict is in the signed release',
  );
  t.match(r.disclosure?.summary_nl, /minstens 3 instellingen en 10 studenten/);
  const tally = checkRelease(t, r, th, ['min_institutions']);
  t.equal(res.blocks.published, tally.published);
  t.same(phases, ['load', 'verify', 'sum', 'decrypt', 'checks', 'disclosure', 'sign']);
  // Spot check one published cell (92530|4|BOL has 3 institutions, 36 enrolments, 20 starters).
  // Its block B (3 institutions, passes the primary rules) is withheld as a secondary
  // suppression that protects a suppressed cell (the contributor check is enforced, DECISIONS
  // 87); block A stays published.
  t.equal(r.cells['92530|4|BOL']!.slots.a_enrolments, 36);
  t.match(r.cells['92530|4|BOL']!.suppressed.b_starters, {
    rule: 'secondary',
    note: /^withheld so that cell \d+\|\d\|(BOL|BBL) /,
  });
  t.same(r.cells['90888|3|BBL']!.suppressed.a_enrolments, {
    rule: 'min_institutions',
    note: '2 contributing institution(s), fewer than 3',
  });
}

/** The key holder's log: one decryption with digests and counts, no figures; the release recorded. */
function checkDecryptionLog(t: Test, res: Detailed): void {
  const r = res.release;
  const store = KeyHolderStore.open(f.home);
  try {
    const log = store.decryptions('2024-2025-r1');
    t.equal(log.length, 1, 'one decryption logged');
    t.match(log[0], {
      kind: 'sum',
      outcome: 'decrypted',
      institutions: 3,
      startedAt: '2025-11-03T09:00:00Z',
      releaseDigest: res.releaseDigest,
      bundleDigest: res.bundleDigest,
    });
    t.match(log[0]!.sumDigest, /^[0-9a-f]{64}$/);
    t.match(store.releases('2024-2025-r1'), [{ releaseVersion: 1, releaseDigest: releaseDigest(r), institutions: 3 }]);
    const row = store.db.prepare('SELECT * FROM decryption').get() as Record<string, unknown>;
    t.same(
      Object.keys(row).sort(),
      [
        'bundle_digest',
        'completed_at',
        'error_code',
        'id',
        'institutions',
        'kind',
        'outcome',
        'release_digest',
        'round_id',
        'started_at',
        'sum_digest',
        'unseal_id',
      ],
      'the log holds digests and counts, no figures',
    );
  } finally {
    store.close();
  }
}

/** Released once: releasing again is refused, also when it names version 1 as previous. */
async function releasedOnce(t: Test, dir: string, r: Detailed['release']): Promise<void> {
  // Released once; a re-release names the previous version.
  await t.rejects(releaseRound({ home: f.home, shares: f.shares, bundleDir: dir, now: NOW }), {
    code: 'SB_ERR_ALREADY_RELEASED',
  });
  // Naming it does not make the same sum a new version (DECISIONS 85; a real version 2 comes from
  // a late contribution: tests/round/rerelease*.test.ts).
  await t.rejects(
    releaseRound({ home: f.home, shares: f.shares, bundleDir: dir, now: NOW, previous: r }),
    { code: 'SB_ERR_ALREADY_RELEASED', message: /same sum as version 1/ },
    'the same sum is not released again as version 2',
  );
}

t.test('thresholds 3 / 10: figures equal sector.json, suppressions follow the rules, signed, logged', async (t) => {
  const th = { min_institutions: 3, min_population: 10 };
  const { dir } = await f.bundle('2024-2025-r1', { thresholds: th });
  const phases: string[] = [];
  const res = await releaseRoundDetailed({
    home: f.home,
    shares: f.shares,
    bundleDir: dir,
    now: NOW,
    onPhase: (p) => phases.push(p),
  });
  checkSignedRelease(t, res, th, phases);
  checkDecryptionLog(t, res);
  await releasedOnce(t, dir, res.release);
});

t.test('thresholds 2 / 25: other cells published, population rule bites', async (t) => {
  const th = { min_institutions: 2, min_population: 25 };
  const { dir } = await f.bundle('2024-2025-r2', { thresholds: th });
  const r = await releaseRound({ home: f.home, shares: f.shares, bundleDir: dir, now: NOW });
  checkRelease(t, r, th, ['min_institutions', 'min_population']);
  // 90888|3|BBL: 2 institutions, 42 enrolments, 12 starters -> A passes the primary rules, B
  // min_population. A is then published, or withheld as a secondary suppression (under the zero
  // rule total_row it protects a neighbour: checkRelease checks that such a rule is a later pass).
  const row = r.cells['90888|3|BBL']!;
  if (row.slots.a_enrolments === null) t.equal(row.suppressed.a_enrolments?.rule, 'secondary');
  else t.equal(row.slots.a_enrolments, 42);
  t.equal(row.slots.b_starters, null);
  t.same(
    row.suppressed.b_starters,
    { rule: 'min_population', note: 'b_starters below 25' },
    'the note does not state the suppressed population',
  );
  t.same(row.institutions, { a: 2, b: 2 });
});
