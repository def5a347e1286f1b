import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PASSES, discloseAndAudit, disclosureContext } from '../../keyholder/disclosure/index.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import { nodeSector } from '../keyholder/node-sector.js';
for (const n of (process.argv[2] ?? '3,5').split(',').map(Number)) {
  const work = mkdtempSync(join(tmpdir(), 'sb-tot-'));
  const s = await nodeSector({ work, institutions: n, students: 100, crebos: 60, seed: 'tot' });
  for (const zeroRule of ['published_rows', 'total_row'] as const) {
    const ctx = disclosureContext({ codebook: s.codebook, sector: s.sector, thresholds: ThresholdsSchema.parse({}), contributions: n });
    try {
      const r = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES, zeroRule });
      const tot = r.rollups.total!;
      const nulls = Object.entries(tot.slots).filter(([, v]) => v === null).map(([k]) => k);
      console.log(n, zeroRule, 'published blocks', r.blocks.published, 'total withheld:', nulls.join(','));
    } catch (e: any) { console.log(n, zeroRule, 'REFUSED', e.code); }
  }
}
