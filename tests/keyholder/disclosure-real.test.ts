/**
 * Issue 5: the real-data path at least once — synthetic institutions through the node
 * (synth → import → vector), their sector sum released by the key holder (encrypt, bundle,
 * releaseRound), and the audit's exchange certificates against the LP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  auditRelease,
  DEFAULT_PASSES,
  DEFAULT_PROTECTION,
  discloseAndAudit,
  disclosureContext,
  ExchangeSystem,
  primaryPass,
  renderReleaseRows,
  runDisclosure,
} from '../../keyholder/disclosure/index.js';
import { violatedConstraints } from '../../keyholder/disclosure/row-inequalities.js';
import { releaseRound } from '../../keyholder/release.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { nodeSector } from '../../bench/keyholder/node-sector.js';
import { NOW, roundFixture } from './round-fixture.js';

const work = mkdtempSync(join(tmpdir(), 'sb-disclosure-real-'));
t.teardown(async () => {
  await sealWorker().close();
  rmSync(work, { recursive: true, force: true });
});

/** Six institutions of about 150 students over a 60-crebo codebook, through the node. */
const real = await nodeSector({ work, institutions: 6, students: 150, crebos: 60, seed: 'disclosure-real' });

t.test('a release of node-computed vectors of synthetic institutions passes the audit', async (t) => {
  const f = await roundFixture(real);
  t.teardown(() => f.cleanup());
  const { dir } = await f.bundle('real-1');
  const release = await releaseRound({ home: f.home, shares: f.shares, bundleDir: dir, now: NOW });
  const d = release.disclosure;
  if (!d) throw new Error('a release carries its disclosure outcome');
  t.equal(d.audit.verdict, 'passed');
  t.equal(d.audit.determined, 0);
  t.ok(
    (d.rules.min_institutions ?? 0) > 0,
    `small institutions: many cells below min_institutions (${JSON.stringify(d.rules)})`,
  );
  t.ok(
    d.audit.intervals.checked > 0,
    `${d.audit.intervals.checked} protection intervals checked (${d.audit.intervals.lp_solved} by LP)`,
  );
  t.ok(
    d.audit.intervals.min_width_ratio_permille === null || d.audit.intervals.min_width_ratio_permille >= 1000,
    'every checked interval at least as wide as required',
  );
  for (const [key, row] of [...Object.entries(release.cells), ...Object.entries(release.rollups)]) {
    if (row.slots.a_enrolments !== null && row.institutions.a > 0)
      t.ok(row.institutions.a >= 3, `${key}: published block A has >= 3 institutions`);
  }
});

t.test('node-computed vectors meet every within-row constraint the attacker model assumes', async (t) => {
  const { codebook, vectors } = real;
  let rows = 0;
  const bad: string[] = [];
  for (const v of [...vectors, real.sector]) {
    const ctx = disclosureContext({ codebook, sector: v, thresholds: ThresholdsSchema.parse({}), contributions: 1 });
    for (const r of [...ctx.cells, ...ctx.rollups]) {
      rows++;
      for (const [block, slots] of [
        ['A', BLOCK_A_SLOTS],
        ['B', BLOCK_B_SLOTS],
      ] as const) {
        const row = Object.fromEntries(slots.map((s) => [s, r.values[s] as number]));
        for (const id of violatedConstraints(block, row)) bad.push(`${r.key} ${id}`);
      }
    }
  }
  t.same(bad, [], `${rows} rows (each institution's and the sector sum) meet every constraint of row-inequalities.ts`);
});

t.test('exchange certificates and LP agree on the real sector (same verdict, fewer LPs)', async (t) => {
  const { codebook, vectors, sector } = real;
  const ctx = disclosureContext({
    codebook,
    sector,
    thresholds: ThresholdsSchema.parse({}),
    contributions: vectors.length,
  });
  const truth = new Map<string, Readonly<Record<string, number>>>();
  for (const row of [...ctx.cells, ...ctx.rollups]) truth.set(`${row.kind}:${row.key}`, row.values);
  const input = (rows: ReturnType<typeof renderReleaseRows>) => ({
    codebook,
    thresholds: ctx.thresholds,
    ...rows,
    trueRow: (_b: 'A' | 'B', kind: 'cell' | 'rollup', key: string) => truth.get(`${kind}:${key}`)!,
    protection: DEFAULT_PROTECTION,
  });
  const released = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES });
  const rows = { cells: released.cells, rollups: released.rollups };
  const fast = await auditRelease(input(rows));
  const lp = await auditRelease({ ...input(rows), exchange: false });
  t.same(fast.findings, [], 'passes with exchange certificates');
  t.same(lp.findings, [], 'passes with LPs only');
  t.ok(
    fast.lpSolved <= lp.lpSolved,
    `LPs: ${fast.lpSolved} with exchange certificates, ${lp.lpSolved} without (${fast.exchangeCertified} certified exactly)`,
  );
  // Primary suppression only leaks; both methods must see the same determined values and narrow intervals.
  const leaky = renderReleaseRows(ctx, runDisclosure(ctx, [primaryPass]).decisions);
  const a = await auditRelease(input(leaky));
  const b = await auditRelease({ ...input(leaky), exchange: false });
  const key = (f: { kind: string; block: string; entry: string }) => `${f.kind} ${f.block} ${f.entry}`;
  t.same(
    a.findings.map(key).sort(),
    b.findings.map(key).sort(),
    `same findings on a leaky release (${a.findings.length})`,
  );
});

t.test('ExchangeSystem: moves keep the relations, verify rejects tables that do not', async (t) => {
  // Cells 0..3 (two classes: {4, 5} and {4, 6}), rollups 4 = 0+1+2+3 (known), 5 = 0+1 (unknown), 6 = 2+3 (unknown).
  const groupsOf = [
    [4, 5],
    [4, 5],
    [4, 6],
    [4, 6],
  ];
  const known = Uint8Array.from([0, 0, 0, 0, 1, 0, 0]);
  const value = [5, 1, 7, 2, 15, 6, 9];
  const lower = [1, 1, 1, 1, 0, 1, 1];
  const upper = [9, Infinity, Infinity, Infinity, 0, Infinity, Infinity];
  const x = new ExchangeSystem({ cells: 4, groupsOf, known, value, lower, upper });
  const up = x.push(0, 1, 10);
  t.equal(up.reached, 4, 'cell 0 can rise to its upper bound 9');
  t.ok(x.verify(up.delta), 'the table is feasible');
  const down = x.push(0, -1, 10);
  t.equal(down.reached, 4, 'and fall to its lower bound 1');
  t.ok(x.verify(down.delta));
  const roll = x.push(5, 1, 3);
  t.equal(roll.reached, 3, 'the unknown rollup 5 moves by moving cells across the known total');
  t.ok(x.verify(roll.delta));
  t.equal(roll.delta.get(5), 3);
  t.notOk(x.verify(new Map([[0, 1]])), 'a cell alone breaks its rollups');
  t.notOk(
    x.verify(
      new Map([
        [0, 1],
        [2, -1],
      ]),
    ),
    'across classes the unknown rollups must follow',
  );
  t.ok(
    x.verify(
      new Map([
        [0, 1],
        [2, -1],
        [5, 1],
        [6, -1],
      ]),
    ),
  );
  t.notOk(
    x.verify(
      new Map([
        [0, 1],
        [4, 1],
        [5, 1],
      ]),
    ),
    'a known entry never changes',
  );
  t.notOk(
    x.verify(
      new Map([
        [0, 5],
        [1, -5],
      ]),
    ),
    'bounds hold (cell 1 would be -4)',
  );
  t.notOk(
    x.verify(
      new Map([
        [0, 0.5],
        [1, -0.5],
      ]),
    ),
    'integer tables only',
  );
});
