import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { vectorFromJson, type VectorJson } from '../../shared/metrics/vector.js';
import { disclosureContext, DEFAULT_PASSES, discloseAndAudit } from '../../keyholder/disclosure/index.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
const sampleDir = resolve(fileURLToPath(new URL('../../', import.meta.url)), '../shared/sample');
const cb = await readCodebookFile(join(sampleDir, 'codebook.csv'));
const sector = vectorFromJson(cb, JSON.parse(readFileSync(join(sampleDir, 'expected', 'sector.json'), 'utf8')) as VectorJson);
const ctx = disclosureContext({ codebook: cb, sector, thresholds: ThresholdsSchema.parse({}), contributions: 3 });
try { await discloseAndAudit(ctx, { passes: DEFAULT_PASSES, zeroRule: 'total_row', maxEscalations: Number(process.argv[2] ?? 12) }); console.log('passed'); }
catch (e: any) { for (const f of e.details.findings.slice(0, 12)) console.log(f.kind, f.entry, f.counts?.join(','), JSON.stringify(f.withhold ?? null)); console.log(e.details.total_findings); }
for (const r of ctx.rollups) console.log(r.key, r.facts.c_contrib_b, r.values.b_starters, r.values.b_early_dropout_1);
