// Issue 4 "Done when": the three sample institutions through a whole round over real HTTP on
// loopback. Every published figure equals ../shared/sample/expected/sector.json, and every
// suppression follows the rules (worked out here from sector.json, not by the key holder's code).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, submitAll, writeAllBenchmarks, type LocalRound } from '../../demo/local-round.js';
import { revokeInstitution } from '../../coordinator/index.js';
import { submitContribution } from '../../node/round/submit.js';
import type { Release } from '../../schemas/release.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { readExpected } from '../helpers/expected.js';
import { sampleDir } from '../helpers/paths.js';
import { startRound } from '../helpers/round-harness.js';

type Row = Record<string, number>;
const sector = readExpected('sector');
const codebook = await readCodebookFile(join(sampleDir, 'codebook.csv'));
const THRESHOLDS = { min_institutions: 2, min_population: 25, dominance_share: 0.85, min_institutions_distribution: 5 };
const zero = (): Row => ({});

/** Expected A and B sums and institution counts of a cell or rollup, from sector.json alone. */
function expectedRow(
  kind: 'cell' | 'rollup',
  key: string,
): { sums: Row; a: number; b: number; sqA: number; sqB: number } {
  if (kind === 'cell') {
    const r = sector.cells[key] ?? zero();
    const sums = Object.fromEntries([...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS].map((s) => [s, r[s] ?? 0]));
    return { sums, a: r.c_contrib_a ?? 0, b: r.c_contrib_b ?? 0, sqA: r.c_sq_a ?? 0, sqB: r.c_sq_b ?? 0 };
  }
  const cells = (codebook.groupCells.get(key) ?? []).map((i) => sector.cells[codebook.cellKeys[i]!] ?? zero());
  const sums = Object.fromEntries(
    [...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS].map((s) => [s, cells.reduce((acc, r) => acc + (r[s] ?? 0), 0)]),
  );
  const g = sector.groups[key] ?? zero();
  return { sums, a: g.c_contrib_a ?? 0, b: g.c_contrib_b ?? 0, sqA: g.c_sq_a ?? 0, sqB: g.c_sq_b ?? 0 };
}

/** Published and suppressed blocks counted, and suppressed blocks by rule. */
interface Tally {
  published: number;
  suppressed: number;
  byRule: Record<string, number>;
}

type ReleaseRow = Release['cells'][string];

/**
 * One block (A or B) of a cell or rollup row: published exactly as sector.json says or suppressed
 * whole; suppressed when it fails the primary rules; a suppression's rule applies, worked out here.
 * A published rollup block may withhold single slots (zero rule total_row, the default:
 * docs/DECISIONS.md 98): null with rule secondary, never its population, never in a cell.
 */
function checkBlock(
  t: Test,
  kind: 'cell' | 'rollup',
  key: string,
  row: ReleaseRow,
  [block, slots, n, pop, sq]: readonly ['A' | 'B', readonly string[], number, number, number],
  sums: Row,
  tally: Tally,
): void {
  const primaryFails = n < THRESHOLDS.min_institutions || pop < THRESHOLDS.min_population;
  const isSuppressed = slots.every((s) => row.slots[s] === null);
  const withheld = (s: string) =>
    kind === 'rollup' && s !== slots[0] && row.slots[s] === null && row.suppressed[s]?.rule === 'secondary';
  const isPublished = row.slots[slots[0]!] !== null && slots.every((s) => row.slots[s] === sums[s] || withheld(s));
  if (!isSuppressed && !isPublished) t.fail(`${key} block ${block}: published figures differ from sector.json`);
  if (primaryFails) t.ok(isSuppressed, `${key} block ${block}: fails the primary rules, so suppressed`);
  if (!isSuppressed) {
    tally.published++;
    return;
  }
  tally.suppressed++;
  const rule = row.suppressed[slots[0]!]!.rule;
  tally.byRule[rule] = (tally.byRule[rule] ?? 0) + 1;
  if (rule === 'min_institutions')
    t.ok(n < THRESHOLDS.min_institutions, `${key} ${block}: min_institutions rule applies (${n})`);
  else if (rule === 'min_population')
    t.ok(
      n >= THRESHOLDS.min_institutions && pop < THRESHOLDS.min_population,
      `${key} ${block}: min_population rule applies`,
    );
  else if (rule === 'dominance') t.ok(sq * 100 * 100 > 85 * 85 * pop * pop, `${key} ${block}: dominance applies`);
  else t.equal(rule, 'secondary', `${key} ${block}: a rule that protects other figures`);
  for (const s of slots) t.ok(row.suppressed[s], `${key} ${s}: carries its rule`);
}

/**
 * Every cell and rollup of the codebook has a row; its institution counts and each block follow
 * sector.json and the rules; no c_sq_* slot leaves the key holder; both outcomes and both primary
 * rules occur.
 */
function assertEveryFigureFollowsSectorJson(t: Test, release: Release): void {
  const tally: Tally = { published: 0, suppressed: 0, byRule: {} };
  for (const [kind, rows] of [
    ['cell', release.cells],
    ['rollup', release.rollups],
  ] as const) {
    const keys = kind === 'cell' ? codebook.cellKeys : codebook.groupKeys;
    t.same(Object.keys(rows).sort(), [...keys].sort(), `every ${kind} of the codebook has a row`);
    for (const key of keys) {
      const row = rows[key]!;
      const exp = expectedRow(kind, key);
      t.same(row.institutions, { a: exp.a, b: exp.b }, `${key}: institution counts`);
      for (const b of [
        ['A', BLOCK_A_SLOTS, exp.a, exp.sums.a_enrolments!, exp.sqA],
        ['B', BLOCK_B_SLOTS, exp.b, exp.sums.b_starters!, exp.sqB],
      ] as const)
        checkBlock(t, kind, key, row, b, exp.sums, tally);
      for (const s of Object.keys(row.slots)) t.notOk(s.startsWith('c_sq'), 'c_sq_* never leaves the key holder');
    }
  }
  const { published, suppressed, byRule } = tally;
  t.ok(published > 0 && suppressed > 0, `both outcomes occur (published ${published}, suppressed ${suppressed})`);
  t.ok(
    (byRule.min_institutions ?? 0) > 0 && (byRule.min_population ?? 0) > 0,
    `both primary rules occur: ${JSON.stringify(byRule)}`,
  );
}

/** Each node's comparison: its own figures are those of its expected vector. */
async function assertEachComparisonShowsItsOwnFigures(t: Test, round: LocalRound): Promise<void> {
  const reports = await writeAllBenchmarks(round);
  for (const inst of ['inst-1', 'inst-2', 'inst-3']) {
    const cells = Object.values(readExpected(inst).cells);
    const present = cells.reduce((a, r) => a + r.a_min_present!, 0);
    const registered = cells.reduce((a, r) => a + r.a_min_registered!, 0);
    const csv = readFileSync(reports.get(inst)!.csv, 'utf8').split('\n');
    const line = csv.find((l) => l.startsWith('rollup,total,attendance_rate,'))!;
    t.equal(
      Number(line.split(',')[3]).toFixed(6),
      (present / registered).toFixed(6),
      `${inst}: own total attendance rate in its comparison`,
    );
    t.match(readFileSync(reports.get(inst)!.html, 'utf8'), /Benchmark verzuim en uitval/);
  }
}

t.test('a full round of the three sample institutions over loopback HTTP', async (t) => {
  const dir = t.testdir();
  const round = await startRound(dir, { thresholds: THRESHOLDS });
  t.teardown(() => round.stop());
  const submitted = await submitAll(round, approveAsPrivacyOfficer);
  t.equal(submitted.size, 3, 'three contributions receipted');
  const { release } = await closeAndRelease(round);
  t.equal(release.institutions, 3);

  assertEveryFigureFollowsSectorJson(t, release);
  await assertEachComparisonShowsItsOwnFigures(t, round);

  // After the round is closed, a node's submission is refused.
  const late = await submitContribution({ home: round.nodes[0]!.home, roundId: round.roundId, now: round.now }).catch(
    (e) => e,
  );
  t.match(
    late.code,
    /SB_ERR_ROUND_CLOSED|SB_ERR_APPROVAL_MISSING/,
    `a submission after close is refused (${late.code})`,
  );
});

t.test('a revoked institution cannot submit; below min_institutions the key holder refuses', async (t) => {
  const dir = t.testdir();
  const round = await startRound(dir, { thresholds: { min_institutions: 3 } });
  t.teardown(() => round.stop());
  revokeInstitution(round.coordinator.db, { id: 'inst-3', now: round.now() });
  const [n1, n2, n3] = round.nodes;
  for (const n of [n1!, n2!]) {
    await approveAsPrivacyOfficer(n, round);
    await submitContribution({ home: n.home, roundId: round.roundId, now: round.now });
  }
  await approveAsPrivacyOfficer(n3!, round).catch(() => {});
  const refused = await submitContribution({ home: n3!.home, roundId: round.roundId, now: round.now }).catch((e) => e);
  t.ok(refused instanceof Error, 'the revoked institution is refused');
  t.match(String(refused.message), /refused|revoked|403/i);
  const { closeRound } = await import('../../coordinator/index.js');
  await closeRound({
    db: round.coordinator.db,
    roundId: round.roundId,
    bundleDir: join(dir, 'bundle'),
    force: true,
    now: round.now(),
  });
  const { releaseRound } = await import('../../keyholder/release.js');
  const below = await releaseRound({
    home: round.keyHolder.home,
    bundleDir: join(dir, 'bundle'),
    shares: await round.keyHolder.custodians.present(),
  }).catch((e) => e);
  t.equal(
    below.code,
    'SB_ERR_BELOW_MIN_INSTITUTIONS',
    'two contributions are below min_institutions 3: nothing decrypted',
  );
});
