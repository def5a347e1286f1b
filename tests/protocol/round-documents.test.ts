import { createHash } from 'node:crypto';
import t from 'tap';
import type { RoundManifest } from '../../schemas/manifest.js';
import type { Release } from '../../schemas/release.js';
import { releaseManifestMismatch } from '../../shared/protocol/round-documents.js';
import { vectorDigest } from '../../shared/protocol/vector-digest.js';

const thresholds = {
  min_institutions: 3,
  min_population: 10,
  dominance_share: 0.6,
  min_institutions_distribution: 3,
};
// Only the fields releaseManifestMismatch reads; the schemas are checked elsewhere.
const manifest = {
  round_id: 'r-2024',
  studiejaar: '2024-2025',
  metric_spec: 'v1',
  codebook: { digest: 'c'.repeat(64) },
  thresholds,
} as unknown as RoundManifest;
const release = {
  round_id: 'r-2024',
  studiejaar: '2024-2025',
  metric_spec: 'v1',
  codebook_digest: 'c'.repeat(64),
  // another member order: the comparison must not depend on it
  thresholds: {
    min_institutions_distribution: 3,
    dominance_share: 0.6,
    min_population: 10,
    min_institutions: 3,
  },
} as unknown as Release;

t.test('releaseManifestMismatch: a release of this round matches, each differing field is named', async (t) => {
  t.equal(releaseManifestMismatch(release, manifest), null);
  const cases: [string, Partial<Release>][] = [
    ['round_id', { round_id: 'r-2023' }],
    ['studiejaar', { studiejaar: '2023-2024' }],
    ['metric_spec', { metric_spec: 'v0' } as unknown as Partial<Release>],
    ['codebook_digest', { codebook_digest: 'd'.repeat(64) }],
    ['thresholds', { thresholds: { ...thresholds, min_population: 5 } }],
  ];
  for (const [field, change] of cases) {
    const m = releaseManifestMismatch({ ...release, ...change } as Release, manifest);
    t.equal(m?.field, field, field);
  }
});

t.test('vectorDigest: SHA-256 of the JCS document over the big-endian slots', async (t) => {
  const slots = BigUint64Array.from([0n, 1n, 258n, 2n ** 63n]);
  // Computed by hand from the definition: 4 x 8 bytes big-endian, then the JSON with sorted keys.
  const bytes = Buffer.from('0000000000000000' + '0000000000000001' + '0000000000000102' + '8000000000000000', 'hex');
  const slotsSha = createHash('sha256').update(bytes).digest('hex');
  const doc = `{"codebook_digest":"${'c'.repeat(64)}","metric_spec":"v1","slot_layout":"sb-layout-v1","slots_sha256":"${slotsSha}","studiejaar":"2024-2025"}`;
  const want = createHash('sha256').update(doc).digest('hex');
  t.equal(vectorDigest({ codebookDigest: 'c'.repeat(64), studiejaar: '2024-2025', slots }), want);
  slots[2] = 259n;
  t.not(vectorDigest({ codebookDigest: 'c'.repeat(64), studiejaar: '2024-2025', slots }), want);
});
