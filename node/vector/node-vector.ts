import { SbError } from '../../shared/errors/sb-error.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { vectorToJson, type VectorJson } from '../../shared/metrics/vector.js';
import { iterateWeeks, loadDataset, type StoredDataset } from '../store/dataset-store.js';
import { inReadTransaction, nodeDbError, openNodeDb, type NodeDb } from '../store/node-db.js';
import { computeVector, type ComputedVector } from './compute.js';

/** Load the dataset or explain how to get one. */
export function requireDataset(db: NodeDb, home: string): StoredDataset {
  const ds = loadDataset(db);
  if (!ds) {
    throw new SbError(
      'SB_ERR_NO_DATASET',
      `no dataset has been imported into ${home} yet. Run \`sectorbench node import --home ${home} --enrolments FILE --attendance FILE\` first.`,
      { home },
    );
  }
  return ds;
}

/**
 * Compute the vector from an open node database. The dataset's metadata, enrolments and weekly
 * sums are read in one read transaction, so they always belong to the same import.
 */
export function computeFromDb(
  db: NodeDb,
  home: string,
  codebook: Codebook,
  year: number,
): ComputedVector & { dataset: StoredDataset } {
  return inReadTransaction(db, () => {
    const dataset = requireDataset(db, home);
    const computed = computeVector({
      codebook,
      year,
      enrolments: dataset.enrolments,
      weeks: iterateWeeks(db),
      records: { enrolments: dataset.meta.enrolmentsRecords, observations: dataset.meta.attendanceRecords },
    });
    return { ...computed, dataset };
  });
}

/**
 * `sectorbench node vector`: the METRICS.md vector of the node's dataset for a codebook and
 * studiejaar, as the JSON rendering of METRICS.md.
 */
export async function computeNodeVector(opts: {
  home: string;
  codebook: string;
  year: number;
}): Promise<{ json: VectorJson; computed: ComputedVector; codebook: Codebook }> {
  const codebook = await readCodebookFile(opts.codebook);
  const db = openNodeDb(opts.home, { mode: 'existing' });
  try {
    const computed = computeFromDb(db, opts.home, codebook, opts.year);
    const json = vectorToJson(codebook, computed.vector, {
      excluded_crebos: computed.excludedCrebos,
      data_quality: computed.dataQuality,
    });
    return { json, computed, codebook };
  } catch (e) {
    throw nodeDbError(e, `${opts.home}/node.sqlite`);
  } finally {
    db.close();
  }
}
