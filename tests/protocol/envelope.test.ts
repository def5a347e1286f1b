import t from 'tap';
import { bfvPublicKeyDigest } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { CIPHERTEXT_BYTES } from '../../shared/crypto/he-params.js';
import { generateIdentity, identityFromSeed } from '../../shared/crypto/identity.js';
import { codebookDigest } from '../../shared/metrics/codebook.js';
import { canonicalBytes } from '../../shared/protocol/canonical.js';
import {
  buildEnvelope,
  encodeEnvelope,
  envelopeDigest,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type ContributionEnvelope,
} from '../../shared/protocol/envelope.js';
import { flatten } from '../../shared/protocol/layout.js';
import { encodeContribution, parseContribution } from '../../shared/protocol/wire.js';
import { katFixture, sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';

const { publicKey } = katFixture();
const cb = await sampleCodebook();
const inst = identityFromSeed(new Uint8Array(32).fill(9));
const cts = await encryptSlots(publicKey, flatten(cb, sampleVector(cb, 'inst-1').vector, { maxParticipants: 500 }));
const expect = {
  roundId: '2024-2025-r1',
  institutionId: 'INST1',
  codebookDigest: codebookDigest(cb),
  hePublicKeyDigest: bfvPublicKeyDigest(publicKey),
  ciphertextCount: cts.length,
};
const env = signEnvelope(
  buildEnvelope({ ...expect, ciphertexts: cts, createdAt: new Date('2025-10-15T08:00:00Z') }),
  inst.secretKey,
);

t.test('canonical bytes are RFC 8785', async (t) => {
  t.equal(
    new TextDecoder().decode(canonicalBytes({ b: [1, 'é'], a: 1e21, c: { z: null, y: true } })),
    '{"a":1e+21,"b":[1,"é"],"c":{"y":true,"z":null}}',
  );
  t.throws(() => canonicalBytes(undefined), { code: 'SB_ERR_CANONICAL' });
});

t.test('a signed envelope verifies and round-trips', async (t) => {
  t.doesNotThrow(() => verifyEnvelope(env, inst.publicKey, { expect, ciphertexts: cts }));
  const parsed = parseEnvelope(encodeEnvelope(env));
  t.same(parsed, env);
  t.match(envelopeDigest(env), /^[0-9a-f]{64}$/);
  t.equal(env.nonce.length, 24);
  t.not(
    buildEnvelope({ ...expect, ciphertexts: cts }).nonce,
    buildEnvelope({ ...expect, ciphertexts: cts }).nonce,
    'fresh nonces',
  );
});

t.test('tampered envelopes, wrong keys and altered ciphertexts fail', async (t) => {
  const tamper: [string, (e: ContributionEnvelope) => void][] = [
    ['round_id', (e) => (e.round_id = '2024-2025-r2')],
    ['institution_id', (e) => (e.institution_id = 'INST2')],
    ['codebook_digest', (e) => (e.codebook_digest = 'f'.repeat(64))],
    ['he_public_key_digest', (e) => (e.he_public_key_digest = '0'.repeat(64))],
    ['ciphertext_digests', (e) => e.ciphertext_digests.reverse()],
    ['created_at', (e) => (e.created_at = '2025-10-15T08:00:01.000Z')],
    ['nonce', (e) => (e.nonce = Buffer.alloc(16).toString('base64'))],
  ];
  for (const [name, f] of tamper) {
    const e = structuredClone(env);
    f(e);
    t.throws(() => verifyEnvelope(e, inst.publicKey), { code: 'SB_ERR_SIGNATURE' }, `tampered ${name}`);
  }
  const sig = Buffer.from(env.signature, 'base64');
  sig[5]! ^= 1;
  t.throws(
    () => verifyEnvelope({ ...env, signature: sig.toString('base64') }, inst.publicKey),
    { code: 'SB_ERR_SIGNATURE' },
    'flipped signature bit',
  );
  t.throws(() => verifyEnvelope(env, generateIdentity().publicKey), { code: 'SB_ERR_SIGNATURE' }, 'wrong key');
  t.throws(
    () => verifyEnvelope({ ...env, extra: 1 } as ContributionEnvelope, inst.publicKey),
    { code: 'SB_ERR_ENVELOPE_SCHEMA' },
    'unknown field',
  );
  const altered = cts.map((c) => c.slice());
  altered[2]![5000]! ^= 1;
  t.throws(() => verifyEnvelope(env, inst.publicKey, { ciphertexts: altered }), {
    code: 'SB_ERR_CT_DIGEST',
    details: { index: 2 },
  });
  t.throws(() => verifyEnvelope(env, inst.publicKey, { ciphertexts: cts.slice(1) }), { code: 'SB_ERR_CT_DIGEST' });
  t.throws(() => verifyEnvelope(env, inst.publicKey, { expect: { ...expect, roundId: 'other' } }), {
    code: 'SB_ERR_ENVELOPE_MISMATCH',
    details: { field: 'round_id' },
  });
  t.throws(() => parseEnvelope(new Uint8Array([0xff, 0xfe])), { code: 'SB_ERR_ENVELOPE_SCHEMA' });
});

t.test('wire format SBC1', async (t) => {
  const wire = encodeContribution({ envelope: env, ciphertexts: cts });
  const raw = cts.length * CIPHERTEXT_BYTES;
  t.ok(wire.byteLength <= raw * 1.1, `wire ${wire.byteLength} bytes vs raw ${raw}`);
  t.ok(wire.byteLength - raw < 4096, `overhead ${wire.byteLength - raw} bytes`);
  const back = parseContribution(wire);
  t.same(back.envelope, env);
  t.ok(back.ciphertexts.every((c, i) => Buffer.compare(c, cts[i]!) === 0));
  verifyEnvelope(back.envelope, inst.publicKey, { expect, ciphertexts: back.ciphertexts });

  t.throws(() => parseContribution(new Uint8Array(0)), { code: 'SB_ERR_WIRE' }, 'empty');
  t.throws(() => parseContribution(wire.subarray(0, wire.length - 1)), { code: 'SB_ERR_WIRE' }, 'truncated');
  const trailing = new Uint8Array(wire.length + 1);
  trailing.set(wire);
  t.throws(() => parseContribution(trailing), { code: 'SB_ERR_WIRE' }, 'trailing byte');
  const magic = wire.slice();
  magic[0] = 0;
  t.throws(() => parseContribution(magic), { code: 'SB_ERR_WIRE' }, 'magic');
  const len = wire.slice();
  new DataView(len.buffer).setUint32(4, 0xffffffff);
  t.throws(() => parseContribution(len), { code: 'SB_ERR_WIRE' }, 'huge envelope length');
  const flip = wire.slice();
  flip[wire.length - 10]! ^= 1;
  t.throws(() => parseContribution(flip), { code: 'SB_ERR_CT_DIGEST' }, 'altered ciphertext');
  t.throws(() => parseContribution(wire, { maxCiphertexts: 2 }), { code: 'SB_ERR_WIRE' }, 'too many ciphertexts');
});
