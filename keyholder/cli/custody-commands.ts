import type { Command } from 'commander';
import { collect } from '../custody/cli-input.js';
import { closeSeal, presented, requiredInt } from './options.js';
import { SbError } from '../../shared/errors/sb-error.js';

/**
 * `sectorbench keyholder custodian-key | init | ceremony | check-share`: the key ceremony and
 * key custody (the BFV secret key sealed k of n among custodians; keyholder/README.md, custody/).
 */
export function registerCustodyCommands(kh: Command): void {
  registerCustodianKey(kh);
  registerInit(kh);
  registerCeremony(kh);
  registerCheckShare(kh);
}

function registerCustodianKey(kh: Command): void {
  kh.command('custodian-key')
    .description(
      "a custodian's own X25519 key pair (run by the custodian, on their own machine; only the .pub goes to the ceremony)",
    )
    .requiredOption('--name <name>', "the custodian's name, as the ceremony and every refusal will call them")
    .requiredOption('--out <file>', 'secret key file to write (0600); the public key goes to <file>.pub')
    .action(async (o: { name: string; out: string }) => {
      const { generateCustodianKey, writeCustodianKeyFiles, custodianFingerprint } = await import(
        '../custody/custodian-key.js'
      );
      const key = generateCustodianKey(o.name);
      await writeCustodianKeyFiles(key, o.out);
      process.stdout.write(
        `Custodian key of ${key.name}: ${o.out} (secret, keep it yourself) and ${o.out}.pub ` +
          `(give it to the key ceremony).\nFingerprint: ${custodianFingerprint(key.publicKey)}\n`,
      );
      key.secretKey.fill(0);
    });
}

function registerInit(kh: Command): void {
  kh.command('init')
    .description(
      'create a key holder home and hold the key ceremony: BFV key pair sealed k of n among custodians, ' +
        'Ed25519 identity, configuration and log',
    )
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--k <n>', 'custodian shares needed to unseal the key (at least 2)')
    .option('--custodian-key <file>', "a custodian's X25519 .pub file (repeat per custodian)", collect, [])
    .option(
      '--custodian-passphrase <name[=file]>',
      'a custodian protected by a passphrase (typed twice, or the first line of file); repeat per custodian',
      collect,
      [],
    )
    .requiredOption('--shares-out <dir>', "folder for the custodians' share files (not inside --home)")
    .option('--coordinator-key <file>', "the coordinator's identity .pub file, to pin")
    .addHelpText(
      'after',
      `
Example (three custodians, any two unseal):
  sectorbench keyholder custodian-key --name alice --out alice.key     (each custodian, own machine)
  sectorbench keyholder init --home kh --k 2 --custodian-key alice.key.pub --custodian-key bob.key.pub \\
      --custodian-passphrase carol --shares-out ceremony-shares
The plain BFV secret key never touches the disk; the home keeps only bfv-secret.sealed.`,
    )
    .action(
      async (o: {
        home: string;
        k: string;
        custodianKey: string[];
        custodianPassphrase: string[];
        sharesOut: string;
        coordinatorKey?: string;
      }) => {
        const { initKeyHolder } = await import('../init.js');
        const { readPublicIdentityFile } = await import('../../shared/crypto/identity.js');
        const { custodianSpecs, ceremonyText } = await import('../custody/cli-input.js');
        const coordinatorKey = o.coordinatorKey ? await readPublicIdentityFile(o.coordinatorKey) : undefined;
        const custodians = await custodianSpecs(o.custodianKey, o.custodianPassphrase);
        try {
          const r = await initKeyHolder({
            home: o.home,
            ...(coordinatorKey ? { coordinatorKey } : {}),
            custody: { k: requiredInt('--k', o.k), custodians, shareDir: o.sharesOut },
          });
          process.stdout.write(
            `Key holder created in ${r.home}.\nFingerprint: ${r.fingerprint}\n` +
              '(read it out to the coordinator and the institutions, who pin it)\n' +
              `BFV public key digest: ${r.hePublicKeyDigest}\n` +
              (r.coordinatorFingerprint
                ? `Pinned coordinator: ${r.coordinatorFingerprint}\n`
                : `No coordinator pinned yet: run 'keyholder pin-coordinator' before the first release.\n`) +
              `\n${ceremonyText(r.ceremony)}`,
          );
        } finally {
          await closeSeal();
        }
      },
    );
}

function registerCeremony(kh: Command): void {
  kh.command('ceremony')
    .description(
      'seal the key of a home made before key custody, or reshare it to new custodians (with k current shares)',
    )
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--k <n>', 'custodian shares needed to unseal the key (at least 2)')
    .option('--custodian-key <file>', "a new custodian's X25519 .pub file (repeat)", collect, [])
    .option('--custodian-passphrase <name[=file]>', 'a new custodian protected by a passphrase (repeat)', collect, [])
    .requiredOption('--shares-out <dir>', 'folder for the new share files (not inside --home)')
    .option('--share <file>', "reshare: a current custodian's share file (repeat, k of them)", collect, [])
    .option('--unlock-key <file>', "reshare: a current custodian's X25519 secret key file (repeat)", collect, [])
    .option('--passphrase <name[=file]>', "reshare: a current custodian's passphrase (repeat)", collect, [])
    .action(
      async (o: {
        home: string;
        k: string;
        custodianKey: string[];
        custodianPassphrase: string[];
        sharesOut: string;
        share: string[];
        unlockKey: string[];
        passphrase: string[];
      }) => {
        const { sealExistingKey, reshareKey } = await import('../custody/ceremony.js');
        const { custodianSpecs, ceremonyText } = await import('../custody/cli-input.js');
        const custodians = await custodianSpecs(o.custodianKey, o.custodianPassphrase);
        const base = { home: o.home, k: requiredInt('--k', o.k), custodians, shareDir: o.sharesOut };
        const reshare = o.share.length > 0;
        const r = reshare
          ? await reshareKey({ ...base, shares: await presented(o.share, o.unlockKey, o.passphrase) })
          : await sealExistingKey(base);
        const after = reshare
          ? 'The old shares no longer open anything.\n'
          : 'The plain bfv-secret.key was deleted; it may survive in backups or free disk blocks, ' +
            'so a fresh key holder home (new key pair) is cleaner.\n';
        process.stdout.write(`${ceremonyText(r)}${after}`);
      },
    );
}

function registerCheckShare(kh: Command): void {
  kh.command('check-share')
    .description('a custodian checks their share opens and is the one dealt (nothing is unsealed, nothing logged)')
    .requiredOption('--share <file>', 'the share file')
    .option('--custodian-key <file>', 'your X25519 secret key file (x25519 shares)')
    .option('--passphrase <name[=file]>', 'your passphrase (passphrase shares)')
    .option('--home <dir>', "also check it belongs to this key holder's sealed key")
    .action(async (o: { share: string; custodianKey?: string; passphrase?: string; home?: string }) => {
      const { checkShare } = await import('../custody/seal.js');
      const [p] = await presented(
        [o.share],
        o.custodianKey ? [o.custodianKey] : [],
        o.passphrase ? [o.passphrase] : [],
      );
      let sealed: import('../../schemas/custody.js').SealedKeyFile | undefined;
      if (o.home) {
        const { keyHolderPaths, readKeyHolderConfig } = await import('../config.js');
        const { readSealedFile } = await import('../custody/unseal.js');
        const { SealedKeyFileSchema } = await import('../../schemas/custody.js');
        sealed = SealedKeyFileSchema.parse(readSealedFile(keyHolderPaths(o.home, readKeyHolderConfig(o.home))));
      }
      if (!p) throw new SbError('SB_ERR_USAGE', 'give the share file with --share.');
      const r = await checkShare(p, sealed);
      process.stdout.write(
        `The share of ${r.custodian} opens and holds the share dealt to them ` +
          `(${r.k} of ${r.n}, seal ${r.sealId}${o.home ? ", the key holder's current seal" : ''}).\n` +
          `Share fingerprint: ${r.fingerprint} (compare with the one written down at the ceremony)\n`,
      );
    });
}
