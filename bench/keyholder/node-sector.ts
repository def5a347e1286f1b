/**
 * A sector built the real way: synthetic institutions (synth/) imported into node homes and
 * turned into METRICS.md vectors by the node's own code (node/import, node/vector), then summed.
 * Small institutions give many small cells, which the generator of synthetic-sector.ts does not.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { importDataset } from '../../node/import/import-dataset.js';
import { computeNodeVector } from '../../node/vector/node-vector.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { addVectors, type ContributionVector } from '../../shared/metrics/vector.js';
import { synthesize } from '../../synth/run-synth.js';

/** Options of {@link nodeSector}. */
export interface NodeSectorOptions {
  /** Scratch folder (synthetic data and one node home per institution). */
  work: string;
  institutions: number;
  /** Students of institution 1 (the others 0.6x..1.4x). */
  students: number;
  crebos: number;
  seed: string;
  year?: number;
}

/** Codebook, per-institution vectors and their sum, computed through the node. */
export async function nodeSector(
  o: NodeSectorOptions,
): Promise<{ codebook: Codebook; vectors: ContributionVector[]; sector: ContributionVector }> {
  const year = o.year ?? 2024;
  mkdirSync(o.work, { recursive: true });
  const data = await synthesize({
    out: join(o.work, 'data'),
    institutions: o.institutions,
    students: o.students,
    seed: o.seed,
    year,
    crebos: o.crebos,
    progress: false,
  });
  const vectors: ContributionVector[] = [];
  let codebook: Codebook | null = null;
  for (const [i, inst] of data.institutions.entries()) {
    const home = join(o.work, `node-${i + 1}`);
    await importDataset({ home, enrolments: inst.enrolments, attendance: inst.attendance });
    const v = await computeNodeVector({ home, codebook: data.codebook, year });
    vectors.push(v.computed.vector);
    codebook = v.codebook;
  }
  if (!codebook) throw new Error('nodeSector needs at least one institution');
  return { codebook, vectors, sector: addVectors(codebook, vectors) };
}
