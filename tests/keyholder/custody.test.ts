// Issue 11, key custody: the BFV secret key is sealed under a key split k of n among named
// custodians; k - 1 shares cannot unseal it, a wrong or foreign share is refused with its
// custodian named, no file of the key holder's home yields a SEAL secret key, and every unseal
// is in the log.
import { readFileSync, writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { reshareKey, sealExistingKey, shareFileName } from '../../keyholder/custody/ceremony.js';
import { type GeneratedCustodians, generateCustodians, presentShareFiles } from '../../keyholder/custody/present.js';
import { checkShare, unsealSecretKey, type PresentedShare } from '../../keyholder/custody/seal.js';
import { HOME_FILES, readKeyHolderConfig, writeKeyHolderConfig } from '../../keyholder/config.js';
import { initKeyHolder } from '../../keyholder/init.js';
import { releaseRound } from '../../keyholder/release.js';
import { KeyHolderStore } from '../../keyholder/store/keyholder-store.js';
import { getHe } from '../../shared/crypto/he-context.js';
import { SECRET_KEY_BYTES } from '../../shared/crypto/he-params.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { NOW, roundFixture } from './round-fixture.js';

const f = await roundFixture();
t.teardown(async () => {
  await sealWorker().close();
  f.cleanup();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

function log() {
  const s = KeyHolderStore.open(f.home);
  try {
    return { unseals: s.unseals(), decryptions: s.decryptions(), ceremonies: s.ceremonies() };
  } finally {
    s.close();
  }
}

const sealed = () => JSON.parse(readFileSync(join(f.home, HOME_FILES.sealedSecretKey), 'utf8')) as unknown;

/** True when SEAL loads `bytes` as a secret key of the round parameters. */
async function loadsAsSecretKey(bytes: Uint8Array): Promise<boolean> {
  const { seal, context } = await getHe();
  const sk = seal.SecretKey();
  try {
    sk.loadArray(context, bytes);
    return true;
  } catch {
    return false;
  } finally {
    sk.delete();
  }
}

t.test('k - 1 shares cannot unseal; nothing is decrypted and the attempt is logged', async (t) => {
  const { dir } = await f.bundle('custody-quorum');
  const one = await f.custodians.present(['custodian-2']);
  await t.rejects(releaseRound({ home: f.home, bundleDir: dir, shares: one, now: NOW }), {
    code: 'SB_ERR_CUSTODY_QUORUM',
    message: /1 custodian share\(s\) presented \(custodian-2\), 2 of 3 are needed/,
  });
  await t.rejects(releaseRound({ home: f.home, bundleDir: dir, shares: [], now: NOW }), {
    code: 'SB_ERR_CUSTODY_QUORUM',
  });
  // The same share twice is still one custodian.
  const twice = [...one, ...(await f.custodians.present(['custodian-2']))];
  await t.rejects(unsealSecretKey(sealed(), twice), { code: 'SB_ERR_CUSTODY_QUORUM' });
  const l = log();
  const rows = l.unseals.filter((u) => u.roundId === 'custody-quorum');
  t.equal(rows.length, 2, 'both attempts are in the unseal log');
  t.ok(
    rows.every((u) => u.outcome === 'refused' && u.errorCode === 'SB_ERR_CUSTODY_QUORUM'),
    'logged as refused',
  );
  t.same(rows[0]?.presented, ['custodian-2']);
  t.equal(l.decryptions.filter((d) => d.roundId === 'custody-quorum').length, 0, 'nothing was decrypted');
});

t.test('a wrong or foreign share is refused with its custodian named', async (t) => {
  const [s1, s2] = (await f.custodians.present(['custodian-1', 'custodian-2'])) as [PresentedShare, PresentedShare];
  // Altered share file: one byte of the box flipped.
  const altered = structuredClone(s2.share) as { protection: { box: string } };
  const box = Buffer.from(altered.protection.box, 'base64');
  box[5] = (box[5] as number) ^ 1;
  altered.protection.box = box.toString('base64');
  const e1 = await unsealSecretKey(sealed(), [s1, { ...s2, share: altered }]).catch((e) => e);
  t.equal(e1.code, 'SB_ERR_CUSTODY_WRONG_SHARE');
  t.match(e1.message, /custodian custodian-2/);
  t.equal(e1.details.custodian, 'custodian-2');

  // The share of custodian-1 opened with custodian-3's key.
  const [s3] = (await f.custodians.present(['custodian-3'])) as [PresentedShare];
  const e2 = await unsealSecretKey(sealed(), [
    { ...s1, custodianSecretKey: s3.custodianSecretKey as Uint8Array },
    s2,
  ]).catch((e) => e);
  t.equal(e2.code, 'SB_ERR_CUSTODY_UNLOCK');
  t.match(e2.message, /custodian custodian-1 .*is not custodian-1's/);

  // custodian-3's share presented under custodian-1's name: the commitment is not theirs.
  const renamed = { ...(s3.share as Record<string, unknown>), custodian: 'custodian-1' };
  const e3 = await unsealSecretKey(sealed(), [{ ...s3, share: renamed }, s2]).catch((e) => e);
  t.equal(e3.code, 'SB_ERR_CUSTODY_WRONG_SHARE');
  t.equal(e3.details.custodian, 'custodian-1');

  // A share of another key holder's ceremony (same custodian names, other sealing).
  const other = await generateCustodians(join(f.base, 'other-custodians'));
  await initKeyHolder({ home: join(f.base, 'other-home'), custody: other.custody });
  const [foreign] = (await other.present(['custodian-3'])) as [PresentedShare];
  const e4 = await unsealSecretKey(sealed(), [s1, foreign]).catch((e) => e);
  t.equal(e4.code, 'SB_ERR_CUSTODY_FOREIGN_SHARE');
  t.match(e4.message, /custodian custodian-3 .*belongs to another sealing/);

  // Someone who is no custodian at all.
  const stranger = { ...(s1.share as Record<string, unknown>), custodian: 'mallory' };
  const e5 = await unsealSecretKey(sealed(), [{ ...s1, share: stranger }, s2]).catch((e) => e);
  t.equal(e5.code, 'SB_ERR_CUSTODY_FOREIGN_SHARE');
  t.match(e5.message, /mallory is not a custodian of this key/);

  // Through a release, the refusal is logged with the custodian named, and nothing decrypted.
  const { dir } = await f.bundle('custody-wrong');
  await t.rejects(releaseRound({ home: f.home, bundleDir: dir, shares: [s1, { ...s2, share: altered }], now: NOW }), {
    code: 'SB_ERR_CUSTODY_WRONG_SHARE',
  });
  const row = log().unseals.find((u) => u.roundId === 'custody-wrong');
  t.equal(row?.outcome, 'refused');
  t.equal(row?.errorCustodian, 'custodian-2', 'the log names the custodian');
  t.equal(log().decryptions.filter((d) => d.roundId === 'custody-wrong').length, 0);
});

t.test('no SEAL secret key can be loaded from any file of the home without the shares', async (t) => {
  // Control: the unsealed key (k shares) does load, so the check below would see one.
  const { secretKey } = await unsealSecretKey(sealed(), f.shares);
  t.equal(secretKey.byteLength, SECRET_KEY_BYTES);
  t.ok(await loadsAsSecretKey(secretKey), 'control: the real key loads as a SEAL secret key');
  const body = Buffer.from(secretKey.subarray(88, 88 + 64));
  const forms = [
    ['raw key', Buffer.from(secretKey)],
    ['key body (64 bytes)', body],
    ['base64 of the key', Buffer.from(Buffer.from(secretKey).toString('base64'))],
    ['base64 of the key body', Buffer.from(body.toString('base64').slice(0, 80))],
    ['hex of the key body', Buffer.from(body.toString('hex'))],
  ] as const;
  const files = filesUnder(f.home);
  t.ok(files.length >= 5, `${files.length} files in the home`);
  t.notOk(
    files.some((p) => p.endsWith(HOME_FILES.bfvSecretKey)),
    'no plain bfv-secret.key in the home',
  );
  for (const file of files) {
    const bytes = readFileSync(file);
    t.notOk(await loadsAsSecretKey(new Uint8Array(bytes)), `${file}: not loadable as a SEAL secret key`);
    for (const [what, needle] of forms) t.equal(bytes.indexOf(needle), -1, `${file}: holds no ${what}`);
    // Every base64 string in a JSON file (the sealed key's ciphertext too) is not a secret key either.
    for (const m of bytes.toString('latin1').matchAll(/[A-Za-z0-9+/]{200,}={0,2}/g)) {
      t.notOk(await loadsAsSecretKey(new Uint8Array(Buffer.from(m[0], 'base64'))), `${file}: base64 run is no key`);
    }
  }
  secretKey.fill(0);
});

t.test('every unseal and every use is in the log; the key is wiped after the release', async (t) => {
  const before = log().unseals.length;
  const { dir } = await f.bundle('custody-ok');
  const shares = await f.custodians.present(['custodian-3', 'custodian-1']);
  const r = await releaseRound({ home: f.home, bundleDir: dir, shares, now: NOW });
  t.equal(r.institutions, 3);
  const l = log();
  t.equal(l.unseals.length, before + 1, 'one unseal for the release');
  const u = l.unseals.at(-1);
  t.equal(u?.outcome, 'unsealed');
  t.equal(u?.purpose, 'release');
  t.equal(u?.roundId, 'custody-ok');
  t.same(u?.custodians, ['custodian-3', 'custodian-1'], 'the custodians whose shares were combined');
  t.ok(u?.unsealedAt && u.wipedAt, 'unsealed and wiped times are recorded');
  const uses = l.decryptions.filter((d) => d.roundId === 'custody-ok');
  t.equal(uses.length, 1);
  t.equal(uses[0]?.unsealId, u?.id, 'the decryption names its unseal');
  t.ok(
    l.decryptions.every((d) => d.unsealId !== null && l.unseals.some((x) => x.id === d.unsealId)),
    'every use of the key follows a logged unseal',
  );
  t.equal(l.ceremonies.length, 1);
  t.equal(l.ceremonies[0]?.kind, 'init');
  t.same(
    l.ceremonies[0]?.custodians.map((c) => c.name),
    ['custodian-1', 'custodian-2', 'custodian-3'],
  );
});

/** The sealed BFV secret key file of a key holder home, parsed. */
const sealedIn = (home: string) => JSON.parse(readFileSync(join(home, HOME_FILES.sealedSecretKey), 'utf8')) as unknown;

type Unsealed = Awaited<ReturnType<typeof unsealSecretKey>>;

/** Init refuses a lone custodian, a short passphrase and a share folder inside the home; then a 2-of-3 ceremony. */
async function passphraseCeremony(t: Test, home: string, shareDir: string, keyed: GeneratedCustodians) {
  await t.rejects(
    initKeyHolder({
      home,
      custody: { k: 2, custodians: [{ name: 'bram', passphrase: 'short' }], shareDir },
    }),
    { code: 'SB_ERR_USAGE' },
    'one custodian or a short passphrase is refused',
  );
  await t.rejects(
    initKeyHolder({
      home,
      custody: {
        k: 2,
        custodians: [
          { name: 'bram', passphrase: 'a long passphrase 1' },
          { name: 'cas', passphrase: 'a long passphrase 2' },
        ],
        shareDir: join(home, 'shares'),
      },
    }),
    { code: 'SB_ERR_USAGE', message: /inside the key holder's home/ },
  );
  const init = await initKeyHolder({
    home,
    custody: {
      k: 2,
      custodians: [
        ...keyed.custody.custodians,
        { name: 'bram', passphrase: 'correct horse battery' },
        { name: 'cas', passphrase: 'staple of the week' },
      ],
      shareDir,
    },
  });
  t.equal(init.ceremony.custodians.length, 3);
  t.match(init.ceremony.custodians[1], { name: 'bram', protection: 'passphrase' });
  return init;
}

/** Passphrase shares unseal the key only with the right passphrases; check-share gives the fingerprint. */
async function passphraseShares(
  t: Test,
  home: string,
  shareDir: string,
  init: Awaited<ReturnType<typeof initKeyHolder>>,
) {
  const files = (n: string) => join(shareDir, shareFileName(n));
  const sealedHere = () => sealedIn(home);
  const good = await presentShareFiles({
    shareFiles: [files('bram'), files('cas')],
    passphrases: new Map([
      ['bram', 'correct horse battery'],
      ['cas', 'staple of the week'],
    ]),
  });
  const k1 = await unsealSecretKey(sealedHere(), good);
  t.same(k1.custodians, ['bram', 'cas']);
  const wrong = await presentShareFiles({
    shareFiles: [files('bram'), files('cas')],
    passphrases: new Map([
      ['bram', 'correct horse battery'],
      ['cas', 'staple of the month'],
    ]),
  });
  await t.rejects(unsealSecretKey(sealedHere(), wrong), {
    code: 'SB_ERR_CUSTODY_WRONG_SHARE',
    message: /custodian cas .*wrong passphrase/,
  });
  const checked = await checkShare(good[0] as PresentedShare);
  t.equal(
    checked.fingerprint,
    init.ceremony.custodians[1]?.shareFingerprint,
    'check-share gives the ceremony fingerprint',
  );

  return { good, k1 };
}

/** Reshare to two new key custodians (2 of 2): the same BFV key, the old shares become foreign. */
async function reshareToFresh(t: Test, base: string, home: string, good: PresentedShare[], k1: Unsealed) {
  // Reshare to two new key custodians (2 of 2); the old shares become foreign.
  const fresh = await generateCustodians(join(base, 'fresh'), { names: ['dirk', 'eva'], k: 2 });
  const re = await reshareKey({ home, shares: good, ...fresh.custody });
  t.equal(re.n, 2);
  const k2 = await unsealSecretKey(sealedIn(home), await fresh.present());
  t.same(Buffer.compare(Buffer.from(k1.secretKey), Buffer.from(k2.secretKey)), 0, 'the same BFV key, resealed');
  await t.rejects(unsealSecretKey(sealedIn(home), good), { code: 'SB_ERR_CUSTODY_FOREIGN_SHARE' });

  return { fresh, k2 };
}

/** A home from before custody: plain key file, released nothing until sealed; every ceremony logged. */
async function sealLegacyHome(
  t: Test,
  base: string,
  home: string,
  fresh: GeneratedCustodians,
  k1: Unsealed,
  k2: Unsealed,
) {
  // A home from before custody: plain key file, released nothing until sealed.
  const cfg = readKeyHolderConfig(home);
  const { sealed_bfv_secret_key_file: _s, custodians: _c, ...legacy } = cfg;
  writeFileSync(join(home, HOME_FILES.bfvSecretKey), k2.secretKey, { mode: 0o600 });
  writeKeyHolderConfig(home, { ...legacy, bfv_secret_key_file: HOME_FILES.bfvSecretKey });
  const { dir } = await f.bundle('custody-legacy');
  await t.rejects(releaseRound({ home, bundleDir: dir, shares: await fresh.present(), now: NOW }), {
    code: 'SB_ERR_CUSTODY_REQUIRED',
  });
  const later = await generateCustodians(join(base, 'later'), { names: ['fay', 'gus', 'hal'], k: 2 });
  await sealExistingKey({ home, ...later.custody });
  t.notOk(
    filesUnder(home).some((p) => p.endsWith(HOME_FILES.bfvSecretKey)),
    'the plain key file is gone',
  );
  const k3 = await unsealSecretKey(sealedIn(home), await later.present(['gus', 'hal']));
  t.equal(Buffer.compare(Buffer.from(k3.secretKey), Buffer.from(k1.secretKey)), 0);
  const s = KeyHolderStore.open(home);
  t.same(
    s.ceremonies().map((c) => c.kind),
    ['init', 'reshare', 'seal-existing'],
    'every ceremony is logged',
  );
  t.same(
    s.unseals().map((u) => [u.purpose, u.outcome]),
    [['reshare', 'unsealed']],
    'the reshare unseal is logged',
  );
  s.close();
  k3.secretKey.fill(0);
}

t.test('passphrase custodians, reshare, and sealing a home made before custody', async (t) => {
  const base = join(f.base, 'pass');
  const keyed = await generateCustodians(join(base, 'keys'), { names: ['anna'], k: 2 });
  const home = join(base, 'home');
  const shareDir = join(base, 'shares');
  const init = await passphraseCeremony(t, home, shareDir, keyed);
  const { good, k1 } = await passphraseShares(t, home, shareDir, init);
  const { fresh, k2 } = await reshareToFresh(t, base, home, good, k1);
  await sealLegacyHome(t, base, home, fresh, k1, k2);
  for (const k of [k1, k2]) k.secretKey.fill(0);
});
