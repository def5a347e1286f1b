import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { RoundManifestSchema, type RoundManifest } from '../../schemas/manifest.js';
import { InstitutionId, RoundId, Sha256Hex } from '../../schemas/common.js';
import { SecAggBundleSchema, type SecAggBundle } from '../../schemas/secagg.js';
import { SbError } from '../errors/sb-error.js';
import { makeDir } from '../fs/make-dir.js';
import { formatZodIssues } from '../errors/zod-issues.js';

/**
 * The close-of-round bundle the coordinator hands the key holder (ARCHITECTURE.md "The round",
 * step 3): a folder with
 * - `bundle.json` — index (schema below),
 * - `manifest.json` — the signed round manifest,
 * - `contributions/<institution_id>.sbc` — each accepted contribution in the wire format
 *   (shared/protocol/wire.ts: signed envelope + ciphertexts), exactly as received,
 * - `sum/<k>.ct` — the coordinator's homomorphic sum, one raw SEAL ciphertext per index,
 * - `secagg.json` — masked rounds only: phases, advertisements, survivor-set signatures and
 *   reveals encrypted to the key holder (schemas/secagg.ts, SecAggBundleSchema),
 * - `corrections/<institution_id>-<i>.sbc` — a masked round summed again after late data: each
 *   survivor's correction, an encrypted difference new − old (wire format, unmasked), in the sum;
 * - `releases/v<N>.json` — a released round summed again after late contributions (issue 16,
 *   item 2): every version the coordinator published, as signed, so the key holder audits the
 *   next version against all of them and chains it to the latest.
 * Files are checked against the SHA-256 digests in `bundle.json` when read.
 */
export const BundleIndexSchema = z
  .object({
    type: z.literal('sectorbench.round-bundle'),
    version: z.literal(1),
    round_id: RoundId,
    manifest_sha256: Sha256Hex,
    contributions: z.array(
      z
        .object({ institution_id: InstitutionId, file: z.string(), sha256: Sha256Hex, envelope_digest: Sha256Hex })
        .strict(),
    ),
    sum: z.array(z.object({ file: z.string(), sha256: Sha256Hex }).strict()),
    /** Masked rounds: `secagg.json` (SecAggBundleSchema). */
    secagg: z
      .object({ file: z.literal('secagg.json'), sha256: Sha256Hex })
      .strict()
      .optional(),
    /**
     * Masked round summed again after its release: the institutions whose contributions came
     * late, outside the survivor set, as ordinary (unmasked) encrypted contributions.
     */
    late: z.array(InstitutionId).optional(),
    /**
     * Masked round summed again after its release: survivors' corrections, each an encrypted
     * difference new − old (unmasked) added to the sum, with the latest published version when it
     * was received (it changes every later version).
     */
    corrections: z
      .array(
        z
          .object({
            institution_id: InstitutionId,
            file: z.string(),
            sha256: Sha256Hex,
            envelope_digest: Sha256Hex,
            after_version: z.number().int().min(1),
          })
          .strict(),
      )
      .optional(),
    /** The published versions of the round (oldest first), for a re-release. */
    releases: z
      .array(z.object({ version: z.number().int().min(1), file: z.string(), sha256: Sha256Hex }).strict())
      .optional(),
  })
  .strict();
export type BundleIndex = z.infer<typeof BundleIndexSchema>;

export interface Bundle {
  index: BundleIndex;
  manifest: RoundManifest;
  /** Wire bytes per institution, in index order. */
  contributions: { institutionId: string; wire: Uint8Array; envelopeDigest: string }[];
  sum: Uint8Array[];
  /** Masked rounds: the secure-aggregation record. */
  secagg?: SecAggBundle;
  /** Masked round summed again after its release: the late (unmasked) contributions' institutions. */
  late?: string[];
  /** Masked round summed again after its release: survivors' differences (new − old), in the sum. */
  corrections?: BundleCorrection[];
  /** The published versions of the round, each as its signed JSON text (parse and verify before use). */
  releases?: { version: number; json: string }[];
}

/** A survivor's correction of a masked round: an encrypted difference in the wire format. */
export interface BundleCorrection {
  institutionId: string;
  wire: Uint8Array;
  envelopeDigest: string;
  afterVersion: number;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Write a bundle folder. */
export function writeBundle(
  dir: string,
  b: {
    manifest: RoundManifest;
    contributions: { institutionId: string; wire: Uint8Array; envelopeDigest: string }[];
    sum: readonly Uint8Array[];
    secagg?: SecAggBundle;
    late?: readonly string[];
    corrections?: readonly BundleCorrection[];
    releases?: readonly { version: number; json: string }[];
  },
): BundleIndex {
  makeDir(join(dir, 'contributions'), 0o777, 'the bundle folder', 'folder');
  makeDir(join(dir, 'sum'), 0o777, 'the bundle folder', 'folder');
  const manifestBytes = Buffer.from(`${JSON.stringify(b.manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'manifest.json'), manifestBytes);
  const index: BundleIndex = {
    type: 'sectorbench.round-bundle',
    version: 1,
    round_id: b.manifest.round_id,
    manifest_sha256: sha(manifestBytes),
    contributions: b.contributions.map((c) => {
      const file = `contributions/${c.institutionId}.sbc`;
      writeFileSync(join(dir, file), c.wire);
      return { institution_id: c.institutionId, file, sha256: sha(c.wire), envelope_digest: c.envelopeDigest };
    }),
    sum: b.sum.map((ct, k) => {
      const file = `sum/${k}.ct`;
      writeFileSync(join(dir, file), ct);
      return { file, sha256: sha(ct) };
    }),
  };
  if (b.secagg) {
    const bytes = Buffer.from(`${JSON.stringify(b.secagg, null, 2)}\n`);
    writeFileSync(join(dir, 'secagg.json'), bytes);
    index.secagg = { file: 'secagg.json', sha256: sha(bytes) };
  }
  if (b.late?.length) index.late = [...b.late];
  if (b.corrections?.length) {
    makeDir(join(dir, 'corrections'), 0o777, 'the bundle folder', 'folder');
    index.corrections = b.corrections.map((c, i) => {
      const file = `corrections/${c.institutionId}-${i + 1}.sbc`;
      writeFileSync(join(dir, file), c.wire);
      return {
        institution_id: c.institutionId,
        file,
        sha256: sha(c.wire),
        envelope_digest: c.envelopeDigest,
        after_version: c.afterVersion,
      };
    });
  }
  if (b.releases?.length) {
    makeDir(join(dir, 'releases'), 0o777, 'the bundle folder', 'folder');
    index.releases = b.releases.map((r) => {
      const file = `releases/v${r.version}.json`;
      const bytes = Buffer.from(r.json);
      writeFileSync(join(dir, file), bytes);
      return { version: r.version, file, sha256: sha(bytes) };
    });
  }
  writeFileSync(join(dir, 'bundle.json'), `${JSON.stringify(index, null, 2)}\n`);
  return index;
}

/** Read a bundle folder, checking every file against its digest. */
export function readBundle(dir: string): Bundle {
  const read = (file: string, digest?: string): Buffer => {
    if (file.includes('..')) throw new SbError('SB_ERR_BUNDLE', `bundle file name ${file} is not allowed.`);
    let b: Buffer;
    try {
      b = readFileSync(join(dir, file));
    } catch {
      throw new SbError(
        'SB_ERR_BUNDLE',
        `${join(dir, file)} is missing from the bundle; ask the coordinator for the complete bundle.`,
        { file },
      );
    }
    if (digest && sha(b) !== digest)
      throw new SbError(
        'SB_ERR_BUNDLE',
        `${join(dir, file)} does not match its digest in bundle.json; the bundle is damaged or altered.`,
        { file },
      );
    return b;
  };
  const idx = BundleIndexSchema.safeParse(JSON.parse(read('bundle.json').toString('utf8')));
  if (!idx.success)
    throw new SbError(
      'SB_ERR_BUNDLE',
      `${dir}/bundle.json is not a valid bundle index: ${formatZodIssues(idx.error.issues)}`,
    );
  const index = idx.data;
  const m = RoundManifestSchema.safeParse(JSON.parse(read('manifest.json', index.manifest_sha256).toString('utf8')));
  if (!m.success) throw new SbError('SB_ERR_BUNDLE', `${dir}/manifest.json is not a valid round manifest.`);
  let secagg: SecAggBundle | undefined;
  if (index.secagg) {
    const sa = SecAggBundleSchema.safeParse(JSON.parse(read(index.secagg.file, index.secagg.sha256).toString('utf8')));
    if (!sa.success)
      throw new SbError(
        'SB_ERR_BUNDLE',
        `${dir}/secagg.json is not a valid secure-aggregation record: ${formatZodIssues(sa.error.issues, { limit: 3 })}`,
      );
    secagg = sa.data;
  }
  return {
    ...(secagg ? { secagg } : {}),
    ...(index.late ? { late: index.late } : {}),
    ...(index.corrections
      ? {
          corrections: index.corrections.map((c) => ({
            institutionId: c.institution_id,
            wire: new Uint8Array(read(c.file, c.sha256)),
            envelopeDigest: c.envelope_digest,
            afterVersion: c.after_version,
          })),
        }
      : {}),
    ...(index.releases
      ? { releases: index.releases.map((r) => ({ version: r.version, json: read(r.file, r.sha256).toString('utf8') })) }
      : {}),
    index,
    manifest: m.data,
    contributions: index.contributions.map((c) => ({
      institutionId: c.institution_id,
      wire: new Uint8Array(read(c.file, c.sha256)),
      envelopeDigest: c.envelope_digest,
    })),
    sum: index.sum.map((s) => new Uint8Array(read(s.file, s.sha256))),
  };
}
