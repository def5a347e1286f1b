import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { renderJsonSchemas } from '../../schemas/json-schemas.js';
import {
  ReleaseRowSchema,
  RoundManifestSchema,
  ThresholdsSchema,
  NodeConfigSchema,
  SCHEMAS,
} from '../../schemas/index.js';

const dir = fileURLToPath(new URL('../../schemas/json/', import.meta.url));

t.test('committed JSON Schemas are up to date (run npm run schemas)', async (t) => {
  const want = renderJsonSchemas();
  t.same(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort(),
    Object.keys(want).sort(),
    'same files',
  );
  for (const [file, text] of Object.entries(want))
    t.equal(readFileSync(dir + file, 'utf8'), text, `${file} is current`);
  t.equal(
    Object.keys(SCHEMAS).length,
    19,
    '12 + the 5 secure-aggregation schemas (secagg-message, -ack, -relay, -status, -bundle) + the 2 air-gap files (airgap-requests, -responses)',
  );
});

const b64 = (n: number, fill = 1) => Buffer.alloc(n, fill).toString('base64');
const manifest = {
  type: 'sectorbench.round-manifest',
  version: 1,
  round_id: '2024-2025-r1',
  studiejaar: '2024-2025',
  metric_spec: 'v1',
  slot_layout: 'sb-layout-v1',
  he_params: 'bfv-n4096-t40-tc128-v1',
  codebook: {
    digest: 'a'.repeat(64),
    entries: [
      { crebo: '90001', name: 'X (synthetisch)', niveau: 2, sectorkamer_code: 'TL', sectorkamer_name: 'Techniek' },
    ],
  },
  thresholds: { min_institutions: 3, min_population: 10, dominance_share: 0.85, min_institutions_distribution: 5 },
  participants: [{ institution_id: 'INST1', name: 'Instelling 1', brin: '9901', ed25519_public_key: b64(32) }],
  max_participants: 500,
  deadline: '2025-11-01T00:00:00Z',
  he_public_key: { digest: 'b'.repeat(64), url: 'https://coordinator.example/rounds/2024-2025-r1/bfv.pub' },
  key_holder_endorsement: { ed25519_public_key: b64(32, 2), signature: b64(64) },
  coordinator_signature: b64(64, 3),
};

t.test('manifest, thresholds, release rows, configs', async (t) => {
  t.ok(RoundManifestSchema.safeParse(manifest).success);
  t.notOk(RoundManifestSchema.safeParse({ ...manifest, studiejaar: '2024-2026' }).success);
  t.notOk(RoundManifestSchema.safeParse({ ...manifest, max_participants: 0 }).success);
  t.notOk(
    RoundManifestSchema.safeParse({ ...manifest, participants: [...manifest.participants, ...manifest.participants] })
      .success,
    'duplicate institution',
  );
  t.notOk(
    RoundManifestSchema.safeParse({ ...manifest, he_public_key: { digest: 'b'.repeat(64) } }).success,
    'key location needed',
  );
  t.notOk(RoundManifestSchema.safeParse({ ...manifest, extra: 1 }).success, 'strict');
  t.same(ThresholdsSchema.parse({}), {
    min_institutions: 3,
    min_population: 10,
    dominance_share: 0.85,
    min_institutions_distribution: 5,
  });
  t.ok(
    ReleaseRowSchema.safeParse({
      institutions: { a: 4, b: 3 },
      slots: { a_enrolments: 120, a_late: null },
      suppressed: { a_late: { rule: 'secondary' } },
    }).success,
  );
  t.notOk(
    ReleaseRowSchema.safeParse({ institutions: { a: 4, b: 3 }, slots: { a_late: null }, suppressed: {} }).success,
    'null needs a rule',
  );
  t.notOk(NodeConfigSchema.safeParse({ institution_id: 'X' }).success);
});
