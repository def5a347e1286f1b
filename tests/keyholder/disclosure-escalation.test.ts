// The last resort of secondary suppression (keyholder/disclosure/escalate.ts): what one step
// suppresses, that it climbs when a relation is suppressed whole already, that it never
// suppresses the sector total, and that repeated steps end. The groups expected here are read
// from ../shared/sample/codebook.csv by hand (crebo, niveau, sectorkamer), not from relations.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { allPublished, disclosureContext, type RowDecision } from '../../keyholder/disclosure/index.js';
import { escalateSuppression } from '../../keyholder/disclosure/escalate.js';
import type { DisclosureDecisions } from '../../keyholder/disclosure/types.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import { sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';
import { sampleDir } from '../helpers/paths.js';

const cb = await sampleCodebook();
const { vector: sector } = sampleVector(cb, 'sector');
const ctx = disclosureContext({
  codebook: cb,
  sector,
  thresholds: ThresholdsSchema.parse({ min_institutions: 2, min_population: 1 }),
  contributions: 3,
});

// crebo -> [niveau, sectorkamer], straight from the CSV (no quoted commas before the niveau column? the
// name may hold commas, so read niveau and sectorkamer from the end of the line).
const rows = readFileSync(join(sampleDir, 'codebook.csv'), 'utf8').trim().split('\n').slice(1);
const info = new Map(
  rows.map((line) => {
    const crebo = line.slice(0, line.indexOf(','));
    const tail = line.split(',').slice(-3); // niveau, sectorkamer_code, sectorkamer_name
    return [crebo, { niveau: tail[0] as string, sk: tail[1] as string }] as const;
  }),
);

const suppressedIn = (d: DisclosureDecisions, block: 'A' | 'B') => {
  const out: string[] = [];
  for (const [k, r] of d.cells) if (r[block].status === 'suppressed') out.push(`cell:${k}`);
  for (const [k, r] of d.rollups) if (r[block].status === 'suppressed') out.push(`rollup:${k}`);
  return out.sort();
};

const firstCell = cb.cellKeys[0] as string; // crebo|niveau|leerweg
const [crebo, niveau] = firstCell.split('|') as [string, string];
const sk = info.get(crebo)?.sk as string;

t.test('one step: the smallest relation around the finding, whole, in that block only', async (t) => {
  t.equal(info.get(crebo)?.niveau, niveau, 'the codebook file and the cell key agree on the niveau');
  const next = escalateSuppression(ctx, allPublished(ctx), [{ block: 'A', entry: `cell:${firstCell}` }]);
  t.ok(next, 'something was suppressed');
  // The smallest relation holding the cell: its sectorkamer x niveau group (cells of the same
  // sectorkamer and niveau, both leerwegen) or its leerweg group, whichever has fewer cells.
  const snCells = cb.cellKeys.filter((k) => {
    const [c, n] = k.split('|') as [string, string];
    return n === niveau && info.get(c)?.sk === sk;
  });
  const lwCells = cb.cellKeys.filter((k) => k.endsWith(`|${firstCell.split('|')[2]}`));
  t.ok(snCells.length < lwCells.length, 'the sample has a sectorkamer x niveau group smaller than a leerweg');
  const want = [...snCells.map((k) => `cell:${k}`), `rollup:sectorkamer_niveau|${sk}|${niveau}`].sort();
  t.same(suppressedIn(next as DisclosureDecisions, 'A'), want, 'exactly the group and its cells in block A');
  t.same(suppressedIn(next as DisclosureDecisions, 'B'), [], 'block B untouched');
});

t.test('climbs when the relation is suppressed whole; never the sector total; ends', async (t) => {
  let d: DisclosureDecisions = allPublished(ctx);
  const seen: number[] = [];
  for (let step = 0; step < 200; step++) {
    const next = escalateSuppression(ctx, d, [{ block: 'A', entry: `cell:${firstCell}` }]);
    if (!next) break;
    d = next;
    seen.push(suppressedIn(d, 'A').length);
  }
  t.ok(seen.length >= 2, `it climbed (${seen.length} steps)`);
  t.ok(
    seen.every((n, i) => i === 0 || n > (seen[i - 1] as number)),
    'every step suppresses more',
  );
  t.equal((d.rollups.get('total') as RowDecision).A.status, 'published', 'the sector total stays published');
  const final = suppressedIn(d, 'A');
  for (const g of [`rollup:sectorkamer|${sk}`, `rollup:niveau|${niveau}`])
    t.ok(final.includes(g), `climbed up to ${g}`);
  t.equal(
    escalateSuppression(ctx, d, [{ block: 'A', entry: `cell:${firstCell}` }]),
    null,
    'then nothing is left to do',
  );
});
