// The disclosure audit's refusal (SB_ERR_DISCLOSURE_AUDIT) says what to do next and how many
// findings there were in all, without any figure of its own (issue 12 follow-up): the details
// carry at most 50 findings, the message the total and the count per kind.
import t from 'tap';
import { sectorOf, syntheticCodebook, syntheticInstitutions } from '../../bench/keyholder/synthetic-sector.js';
import { DEFAULT_PASSES, discloseAndAudit, disclosureContext } from '../../keyholder/disclosure/index.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import type { Release } from '../../schemas/release.js';
import { isSbError } from '../../shared/errors/sb-error.js';

async function refusal(run: () => Promise<unknown>): Promise<{ message: string; details: Record<string, unknown> }> {
  try {
    await run();
  } catch (e) {
    if (isSbError(e) && e.code === 'SB_ERR_DISCLOSURE_AUDIT') return { message: e.message, details: e.details };
    throw e;
  }
  throw new Error('the audit did not refuse');
}

t.test('a version that isolates a late institution: the total number of findings, per kind', async (t) => {
  const scb = syntheticCodebook(120, 11);
  const insts = syntheticInstitutions(scb, 12, 4);
  const thr = ThresholdsSchema.parse({});
  const ctx1 = disclosureContext({
    codebook: scb,
    sector: sectorOf(scb, insts.slice(0, 11)),
    thresholds: thr,
    contributions: 11,
  });
  const v1 = await discloseAndAudit(ctx1, { passes: DEFAULT_PASSES });
  const release1 = { release_version: 1, cells: v1.cells, rollups: v1.rollups } as unknown as Release;
  const ctx2 = disclosureContext({ codebook: scb, sector: sectorOf(scb, insts), thresholds: thr, contributions: 12 });
  const r = await refusal(() => discloseAndAudit(ctx2, { passes: DEFAULT_PASSES, earlier: [release1] }));
  const listed = r.details.findings;
  if (!Array.isArray(listed)) throw new Error('findings in the details');
  const total = r.details.total_findings;
  t.type(total, 'number');
  t.ok(listed.length <= 50, 'at most 50 findings in the details');
  t.equal(listed.length, Math.min(50, Number(total)), 'the first 50 of them (or all)');
  t.match(r.message, new RegExp(`The audit had ${total} finding\\(s\\) in all \\(\\d+ × version_difference`));
  t.match(r.message, Number(total) > 50 ? /the first 50 are in the details\.$/ : /all are in the details\.$/);
  t.match(r.message, /wait until more late contributions are in/, 'the version next step');
  t.notMatch(r.message, /In a small sector/, 'not the small-sector step');
});

t.test('a tiny demo sector: the refusal names the next step and the total, no figure of its own', async (t) => {
  const { runDemo } = await import('../../demo/run-demo.js');
  const out = t.testdir({});
  const r = await refusal(() => runDemo({ out, institutions: 3, students: 30, seed: '1', year: 2024, log: () => {} }));
  t.match(r.message, /Nothing was signed\./);
  t.match(
    r.message,
    /run the round with more institutions or with more students per programme \(the demo: a larger '--institutions' or '--students'\), or raise min_population/,
    'the next step: more institutions or students, or a higher min_population',
  );
  const total = Number(r.details.total_findings);
  t.ok(total >= 1);
  t.match(
    r.message,
    new RegExp(`The audit had ${total} finding\\(s\\) in all \\(\\d+ × [a-z_]+`),
    'the total, per kind',
  );
  // What this change added (after "Nothing was signed.") holds no number other than counts of findings.
  const added = r.message.slice(r.message.indexOf('In a small sector'));
  t.same(
    [...added.matchAll(/\d+/g)].map((m) => Number(m[0])).filter((n) => n !== total && n !== 50),
    [...added.matchAll(/(\d+) × /g)].map((m) => Number(m[1])).filter((n) => n !== total && n !== 50),
    'no figure beyond the finding counts',
  );
});

t.test('summary_nl counts blocks without a contributing institution apart from suppressed ones', async (t) => {
  const scb = syntheticCodebook(120, 11);
  const insts = syntheticInstitutions(scb, 6, 2);
  const ctx = disclosureContext({
    codebook: scb,
    sector: sectorOf(scb, insts),
    thresholds: ThresholdsSchema.parse({}),
    contributions: 6,
  });
  // Expected from the sector input: blocks A and B of every cell and rollup whose contributor count is 0.
  let empty = 0;
  for (const row of [...ctx.cells, ...ctx.rollups])
    for (const slot of ['c_contrib_a', 'c_contrib_b']) if (row.facts[slot] === 0) empty++;
  t.ok(empty > 0, `the synthetic sector has empty blocks (${empty})`);
  const r = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES });
  const s = r.outcome.summary_nl;
  t.match(s, `leeg (geen bijdragende instelling, niets te publiceren): ${empty};`, 'the empty blocks counted apart');
  t.match(s, `weggelaten: ${r.outcome.blocks.suppressed - empty}`, 'and not among the suppressed');
  // Single slots withheld in published rollup blocks (zero rule total_row), counted from the rows.
  let single = 0;
  for (const row of Object.values(r.rollups))
    for (const [pop, prefix] of [
      ['a_enrolments', 'a_'],
      ['b_starters', 'b_'],
    ] as const)
      if (row.slots[pop] !== null)
        single += Object.keys(row.slots).filter((k) => k.startsWith(prefix) && row.slots[k] === null).length;
  if (single > 0) t.match(s, `daarnaast ${single} losse cijfers weggelaten`, 'single withheld figures counted');
  else t.notMatch(s, /losse cijfers/, 'no single withheld figures, no sentence');
});
