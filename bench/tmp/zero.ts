import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { vectorFromJson, type VectorJson } from '../../shared/metrics/vector.js';
import { disclosureContext, runDisclosure, DEFAULT_PASSES, discloseAndAudit } from '../../keyholder/disclosure/index.js';
import { sectorOf, syntheticCodebook, syntheticInstitutions } from '../keyholder/synthetic-sector.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
const sampleDir = resolve(fileURLToPath(new URL('../../', import.meta.url)), '../shared/sample');
async function one(name: string, codebook: any, sector: any, n: number) {
  const out: string[] = [name, String(n)];
  for (const lit of [false, true]) {
    
    const ctx = disclosureContext({ codebook, sector, thresholds: ThresholdsSchema.parse({}), contributions: n });
    const t0 = performance.now();
    try {
      const r = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES, ...(lit ? { zeroRule: 'total_row' as const } : {}) });
      let cp = 0, cr = 0, rp = 0, rr = 0;
      for (const row of ctx.cells) for (const b of ['A', 'B'] as const) { if ((row.facts[b === 'A' ? 'c_contrib_a' : 'c_contrib_b'] as number) === 0) continue; cr++; if (r.decisions.cells.get(row.key)![b].status === 'published') cp++; }
      for (const row of ctx.rollups) for (const b of ['A', 'B'] as const) { if ((row.facts[b === 'A' ? 'c_contrib_a' : 'c_contrib_b'] as number) === 0) continue; rr++; if (r.decisions.rollups.get(row.key)![b].status === 'published') rp++; }
      out.push(`withheld ${r.audit.pinning.withheldSlots} slotProven ${r.audit.pinning.slotProven} cells ${cp}/${cr} rollups ${rp}/${rr} ${Math.round(performance.now() - t0)}ms`);
    } catch (e: any) { out.push(`REFUSED (${e.code}) ${Math.round(performance.now() - t0)}ms`); }
  }
  console.log('| ' + out.join(' | ') + ' |');
}
const cb = await readCodebookFile(join(sampleDir, 'codebook.csv'));
await one('sample', cb, vectorFromJson(cb, JSON.parse(readFileSync(join(sampleDir, 'expected', 'sector.json'), 'utf8')) as VectorJson), 3);
for (let k = 0; k < 20; k++) {
  const n = 5 + Math.round((k * 58) / 19);
  const scb = syntheticCodebook(400, 100 + k);
  await one(`synthetic ${k + 1}`, scb, sectorOf(scb, syntheticInstitutions(scb, n, 200 + k), '2024-2025', { fullSlots: true }), n);
}
