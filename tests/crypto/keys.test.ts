import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  bfvPublicKeyDigest,
  generateBfvKeyPair,
  readBfvPublicKey,
  readBfvSecretKey,
  writeBfvKeyPair,
} from '../../shared/crypto/bfv-keys.js';
import { decryptSum } from '../../shared/crypto/decrypt.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import {
  fingerprint,
  generateIdentity,
  identityFromSeed,
  readIdentityFile,
  readPublicIdentityFile,
  signDetached,
  verifyDetached,
  writeIdentityFiles,
} from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';

const dir = await mkdtemp(join(tmpdir(), 'sb-keys-'));
t.teardown(async () => {
  await rm(dir, { recursive: true, force: true });
  await sealWorker().close();
});

t.test('BFV key files: secret 0600, round trip, refusals', async (t) => {
  const kp = await generateBfvKeyPair();
  const paths = { publicKey: join(dir, 'bfv.pub'), secretKey: join(dir, 'bfv.key') };
  await writeBfvKeyPair(kp, paths);
  t.equal((await stat(paths.secretKey)).mode & 0o777, 0o600, 'secret key mode 0600');
  await t.rejects(writeBfvKeyPair(kp, paths), { code: 'SB_ERR_KEY_EXISTS' }, 'never overwrites');
  const pk = await readBfvPublicKey(paths.publicKey);
  const sk = await readBfvSecretKey(paths.secretKey);
  t.equal(bfvPublicKeyDigest(pk), bfvPublicKeyDigest(kp.publicKey));
  const out = await decryptSum(sk, await encryptSlots(pk, BigUint64Array.of(5n, 6n)));
  t.same([out[0], out[1]], [5n, 6n]);
  await chmod(paths.secretKey, 0o644);
  await t.rejects(readBfvSecretKey(paths.secretKey), { code: 'SB_ERR_KEY_PERMISSIONS' });
  await t.rejects(readBfvPublicKey(paths.secretKey), { code: 'SB_ERR_CT_LENGTH' }, 'a secret key is no public key');
});

t.test('Ed25519 identities, fingerprints and detached signatures', async (t) => {
  const id = generateIdentity();
  const path = join(dir, 'node.id');
  await writeIdentityFiles(id, path);
  t.equal((await stat(path)).mode & 0o777, 0o600);
  const back = await readIdentityFile(path);
  t.same(back.publicKey, id.publicKey);
  t.same(await readPublicIdentityFile(`${path}.pub`), id.publicKey);
  const fp = fingerprint(id.publicKey);
  t.match(fp, /^(\d{5} ){5}\d{5}$/, 'six groups of five digits');
  t.equal(
    fingerprint(identityFromSeed(new Uint8Array(32)).publicKey),
    fingerprint(identityFromSeed(new Uint8Array(32)).publicKey),
  );
  t.not(
    fingerprint(identityFromSeed(new Uint8Array(32)).publicKey),
    fingerprint(identityFromSeed(new Uint8Array(32).fill(1)).publicKey),
  );
  const msg = new TextEncoder().encode('{"a":1}');
  const sig = signDetached('test', msg, id.secretKey);
  t.ok(verifyDetached('test', msg, sig, id.publicKey));
  t.notOk(verifyDetached('other-purpose', msg, sig, id.publicKey), 'domain separated');
  t.notOk(verifyDetached('test', new TextEncoder().encode('{"a":2}'), sig, id.publicKey));
  t.notOk(verifyDetached('test', msg, sig, generateIdentity().publicKey), 'wrong key');
  t.notOk(verifyDetached('test', msg, sig.subarray(1), id.publicKey), 'short signature');
  await chmod(path, 0o640);
  await t.rejects(readIdentityFile(path), { code: 'SB_ERR_KEY_PERMISSIONS' });
});
