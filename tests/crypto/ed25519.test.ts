import t from 'tap';
import nacl from 'tweetnacl';
import { ed25519Sign, ed25519Verify } from '../../shared/crypto/ed25519.js';
import { identityFromSeed, signDetached, signingInput, verifyDetached } from '../../shared/crypto/identity.js';

// RFC 8032 section 7.1, "Test Vectors for Ed25519", TEST 1-3, typed in from the RFC text
// (SECRET KEY is the 32-byte seed). The expected values come from the RFC, not from either
// implementation.
const RFC8032 = [
  {
    name: 'TEST 1 (empty message)',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (two bytes)',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

for (const v of RFC8032) {
  t.test(`RFC 8032 ${v.name}: node:crypto and tweetnacl give the RFC's key and signature`, async (t) => {
    const kp = nacl.sign.keyPair.fromSeed(hex(v.seed));
    t.equal(toHex(kp.publicKey), v.publicKey, 'tweetnacl derives the RFC public key from the seed');
    const msg = hex(v.message);
    t.equal(toHex(nacl.sign.detached(msg, kp.secretKey)), v.signature, 'tweetnacl signature = RFC');
    t.equal(toHex(ed25519Sign(msg, kp.secretKey)), v.signature, 'node:crypto signature = RFC');
    t.ok(nacl.sign.detached.verify(msg, hex(v.signature), hex(v.publicKey)), 'tweetnacl verifies the RFC signature');
    t.ok(ed25519Verify(msg, hex(v.signature), hex(v.publicKey)), 'node:crypto verifies the RFC signature');
    const bad = hex(v.signature);
    bad[5] = (bad[5] as number) ^ 1;
    t.notOk(ed25519Verify(msg, bad, hex(v.publicKey)), 'node:crypto refuses a flipped bit in R');
    t.notOk(nacl.sign.detached.verify(msg, bad, hex(v.publicKey)), 'so does tweetnacl');
    const other = hex(RFC8032[(RFC8032.indexOf(v) + 1) % RFC8032.length]!.publicKey);
    t.notOk(ed25519Verify(msg, hex(v.signature), other), "node:crypto refuses another vector's public key");
    t.notOk(ed25519Verify(new Uint8Array([...msg, 0]), hex(v.signature), hex(v.publicKey)), 'and a longer message');
  });
}

t.test('the two implementations agree on our own identities and domain-separated messages', async (t) => {
  for (let i = 0; i < 8; i++) {
    const id = identityFromSeed(new Uint8Array(32).fill(i * 31 + 1));
    const canonical = new TextEncoder().encode(`{"round":"r${i}","n":${i}}`);
    const ours = signDetached('envelope', canonical, id.secretKey);
    const theirs = nacl.sign.detached(signingInput('envelope', canonical), id.secretKey);
    t.equal(toHex(ours), toHex(theirs), `identity ${i}: same signature`);
    t.ok(nacl.sign.detached.verify(signingInput('envelope', canonical), ours, id.publicKey), 'tweetnacl verifies ours');
    t.ok(verifyDetached('envelope', canonical, theirs, id.publicKey), "ours verifies tweetnacl's");
    t.notOk(verifyDetached('release', canonical, ours, id.publicKey), 'another purpose does not verify');
  }
});

t.test('malformed input: false, never a throw', async (t) => {
  const id = identityFromSeed(new Uint8Array(32).fill(9));
  const msg = new Uint8Array([1, 2, 3]);
  const sig = ed25519Sign(msg, id.secretKey);
  t.notOk(ed25519Verify(msg, sig.subarray(0, 63), id.publicKey), 'short signature');
  t.notOk(ed25519Verify(msg, sig, id.publicKey.subarray(0, 31)), 'short public key');
  t.notOk(ed25519Verify(msg, new Uint8Array(64), id.publicKey), 'zero signature');
  // y = 2 is not the y of any curve point (x^2 = (y^2 - 1) / (d y^2 + 1) has no root).
  const notAPoint = new Uint8Array(32);
  notAPoint[0] = 2;
  t.notOk(ed25519Verify(msg, sig, notAPoint), 'public key that is not a point');
  t.notOk(ed25519Verify(msg, sig, notAPoint), 'again, from the cache');
  // S + L (non-canonical S): tweetnacl accepts it, OpenSSL refuses it (RFC 8032 5.1.7 step 1).
  const L = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0x10,
  ];
  const malleable = new Uint8Array(sig);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const s = (malleable[32 + i] as number) + (L[i] as number) + carry;
    malleable[32 + i] = s & 0xff;
    carry = s >> 8;
  }
  t.equal(carry, 0, 'S + L fits in 32 bytes (S < L < 2^253)');
  t.ok(nacl.sign.detached.verify(msg, malleable, id.publicKey), 'tweetnacl accepts S + L');
  t.notOk(ed25519Verify(msg, malleable, id.publicKey), 'node:crypto refuses S + L');
  t.throws(() => ed25519Sign(msg, id.secretKey.subarray(0, 32)), RangeError, 'a 32-byte secret key is refused');
  t.throws(
    () => signDetached('x', msg, id.secretKey.subarray(0, 32)),
    { code: 'SB_ERR_KEY_FILE' },
    'signDetached names the key file',
  );
});

t.test('a secret-key array overwritten in place signs with the new key (no stale cache)', async (t) => {
  const a = identityFromSeed(new Uint8Array(32).fill(1));
  const b = identityFromSeed(new Uint8Array(32).fill(2));
  const msg = new Uint8Array([7]);
  const sk = new Uint8Array(a.secretKey);
  t.ok(ed25519Verify(msg, ed25519Sign(msg, sk), a.publicKey), 'signed by a');
  sk.set(b.secretKey);
  const sig = ed25519Sign(msg, sk);
  t.ok(ed25519Verify(msg, sig, b.publicKey), 'then by b');
  t.notOk(ed25519Verify(msg, sig, a.publicKey), 'not by a');
});
