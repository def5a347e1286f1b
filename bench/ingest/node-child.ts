/**
 * Child process of bench/ingest: the node's import + vector on one institution, timed, with its
 * peak RSS. Prints one JSON line on stdout; writes the vector JSON to --out.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importDataset } from '../../node/import/import-dataset.js';
import { computeNodeVector } from '../../node/vector/node-vector.js';

const { values: a } = parseArgs({
  options: {
    home: { type: 'string' },
    codebook: { type: 'string' },
    enrolments: { type: 'string' },
    attendance: { type: 'string' },
    year: { type: 'string' },
    out: { type: 'string' },
  },
});
const t0 = performance.now();
await importDataset({ home: a.home as string, enrolments: a.enrolments as string, attendance: a.attendance as string });
const t1 = performance.now();
const { json } = await computeNodeVector({
  home: a.home as string,
  codebook: a.codebook as string,
  year: Number(a.year),
});
const t2 = performance.now();
writeFileSync(a.out as string, JSON.stringify(json));
process.stdout.write(
  `${JSON.stringify({ importMs: t1 - t0, vectorMs: t2 - t1, maxRssKb: process.resourceUsage().maxRSS })}\n`,
);
