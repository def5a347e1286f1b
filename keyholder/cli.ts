import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { registerKeyHolderOpsCommands } from './ops/commands.js';
import { ReleaseSchema, type Release } from '../schemas/release.js';
import { SbError } from '../shared/errors/sb-error.js';
import { collect } from './custody/cli-input.js';

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new SbError('SB_ERR_USAGE', `${name} must be a positive whole number, not '${value}'.`);
  return n;
}

function shareOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0 && n <= 1))
    throw new SbError('SB_ERR_USAGE', `${name} must be a number above 0 and at most 1, not '${value}'.`);
  return n;
}

function readJsonFile(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SbError('SB_ERR_USAGE', `${path} could not be read as JSON ${what} (${(e as Error).message}).`);
  }
}

/** Shares from the command line: share files, custodians' X25519 key files and passphrases. */
async function presented(shareFiles: string[], keyFiles: string[], passphrases: string[]) {
  const { presentShareFiles } = await import('./custody/present.js');
  const { passphraseOption } = await import('./custody/cli-input.js');
  const map = new Map<string, string>();
  for (const p of passphrases) {
    const [name, value] = await passphraseOption(p, false);
    map.set(name, value);
  }
  if (shareFiles.length === 0)
    throw new SbError(
      'SB_ERR_CUSTODY_QUORUM',
      "no custodian share given; the BFV secret key is sealed and needs k custodians' shares (--share FILE with --custodian-key KEYFILE or --passphrase NAME).",
    );
  return presentShareFiles({ shareFiles, keyFiles, passphrases: map });
}

async function closeSeal(): Promise<void> {
  const { sealWorker } = await import('../shared/crypto/seal-worker-host.js');
  await sealWorker().close();
}

/** `sectorbench keyholder …`: what the independent key holder runs. */
export function registerKeyholderCommands(program: Command): void {
  const kh = program
    .command('keyholder')
    .description(
      'the independent key holder: round keys, endorsements, decryption of the sector sum and signed releases',
    );

  kh.command('custodian-key')
    .description(
      "a custodian's own X25519 key pair (run by the custodian, on their own machine; only the .pub goes to the ceremony)",
    )
    .requiredOption('--name <name>', "the custodian's name, as the ceremony and every refusal will call them")
    .requiredOption('--out <file>', 'secret key file to write (0600); the public key goes to <file>.pub')
    .action(async (o: { name: string; out: string }) => {
      const { generateCustodianKey, writeCustodianKeyFiles, custodianFingerprint } = await import(
        './custody/custodian-key.js'
      );
      const key = generateCustodianKey(o.name);
      await writeCustodianKeyFiles(key, o.out);
      process.stdout.write(
        `Custodian key of ${key.name}: ${o.out} (secret, keep it yourself) and ${o.out}.pub (give it to the key ceremony).\nFingerprint: ${custodianFingerprint(key.publicKey)}\n`,
      );
      key.secretKey.fill(0);
    });

  kh.command('init')
    .description(
      'create a key holder home and hold the key ceremony: BFV key pair sealed k of n among custodians, Ed25519 identity, configuration and log',
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
        const { initKeyHolder } = await import('./init.js');
        const { readPublicIdentityFile } = await import('../shared/crypto/identity.js');
        const { custodianSpecs, ceremonyText } = await import('./custody/cli-input.js');
        const coordinatorKey = o.coordinatorKey ? await readPublicIdentityFile(o.coordinatorKey) : undefined;
        const custodians = await custodianSpecs(o.custodianKey, o.custodianPassphrase);
        try {
          const r = await initKeyHolder({
            home: o.home,
            ...(coordinatorKey ? { coordinatorKey } : {}),
            custody: { k: intOption('--k', o.k) as number, custodians, shareDir: o.sharesOut },
          });
          process.stdout.write(
            `Key holder created in ${r.home}.\nFingerprint: ${r.fingerprint}\n(read it out to the coordinator and the institutions, who pin it)\nBFV public key digest: ${r.hePublicKeyDigest}\n` +
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
        const { sealExistingKey, reshareKey } = await import('./custody/ceremony.js');
        const { custodianSpecs, ceremonyText } = await import('./custody/cli-input.js');
        const custodians = await custodianSpecs(o.custodianKey, o.custodianPassphrase);
        const base = { home: o.home, k: intOption('--k', o.k) as number, custodians, shareDir: o.sharesOut };
        const r =
          o.share.length > 0
            ? await reshareKey({ ...base, shares: await presented(o.share, o.unlockKey, o.passphrase) })
            : await sealExistingKey(base);
        process.stdout.write(
          `${ceremonyText(r)}${o.share.length > 0 ? 'The old shares no longer open anything.\n' : 'The plain bfv-secret.key was deleted; it may survive in backups or free disk blocks, so a fresh key holder home (new key pair) is cleaner.\n'}`,
        );
      },
    );

  kh.command('check-share')
    .description('a custodian checks their share opens and is the one dealt (nothing is unsealed, nothing logged)')
    .requiredOption('--share <file>', 'the share file')
    .option('--custodian-key <file>', 'your X25519 secret key file (x25519 shares)')
    .option('--passphrase <name[=file]>', 'your passphrase (passphrase shares)')
    .option('--home <dir>', "also check it belongs to this key holder's sealed key")
    .action(async (o: { share: string; custodianKey?: string; passphrase?: string; home?: string }) => {
      const { checkShare } = await import('./custody/seal.js');
      const [p] = await presented(
        [o.share],
        o.custodianKey ? [o.custodianKey] : [],
        o.passphrase ? [o.passphrase] : [],
      );
      let sealed: import('../schemas/custody.js').SealedKeyFile | undefined;
      if (o.home) {
        const { keyHolderPaths, readKeyHolderConfig } = await import('./config.js');
        const { readSealedFile } = await import('./custody/unseal.js');
        const { SealedKeyFileSchema } = await import('../schemas/custody.js');
        sealed = SealedKeyFileSchema.parse(readSealedFile(keyHolderPaths(o.home, readKeyHolderConfig(o.home))));
      }
      const r = await checkShare(p as NonNullable<typeof p>, sealed);
      process.stdout.write(
        `The share of ${r.custodian} opens and holds the share dealt to them (${r.k} of ${r.n}, seal ${r.sealId}${o.home ? ", the key holder's current seal" : ''}).\nShare fingerprint: ${r.fingerprint} (compare with the one written down at the ceremony)\n`,
      );
    });

  kh.command('pin-coordinator')
    .description("pin the coordinator's Ed25519 key (compare the printed fingerprint with the coordinator's)")
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--key <file>', "the coordinator's identity .pub file")
    .action(async (o: { home: string; key: string }) => {
      const { pinCoordinator } = await import('./init.js');
      const { readPublicIdentityFile } = await import('../shared/crypto/identity.js');
      const fp = pinCoordinator({ home: o.home, coordinatorKey: await readPublicIdentityFile(o.key) });
      process.stdout.write(`Pinned coordinator key, fingerprint ${fp}. Compare it with the coordinator's, by phone.\n`);
    });

  const participant = kh
    .command('participant')
    .description(
      'the institutions this key holder enrolled itself (name, BRIN code, identity key): the only ones it endorses as participants',
    );
  participant
    .command('add')
    .description("enrol an institution after comparing its key's fingerprint with the institution by phone")
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--id <id>', 'institution id (as the coordinator and the node use it)')
    .requiredOption('--name <name>', "the institution's name")
    .requiredOption('--brin <code>', 'its BRIN code, e.g. 25LX')
    .requiredOption('--key <file>', "the institution's identity .pub file (its node's identity.key.pub)")
    .action(async (o: { home: string; id: string; name: string; brin: string; key: string }) => {
      const { addParticipant } = await import('./participants.js');
      const { readPublicIdentityFile } = await import('../shared/crypto/identity.js');
      const r = await addParticipant({
        home: o.home,
        institutionId: o.id,
        name: o.name,
        brin: o.brin,
        publicKey: await readPublicIdentityFile(o.key),
      });
      process.stdout.write(
        `Enrolled ${r.institutionId} (${r.name}, BRIN ${r.brin}), key fingerprint ${r.fingerprint}.\nCompare the fingerprint with the institution by phone; if it differs, run 'keyholder participant remove' at once.\n`,
      );
    });
  participant
    .command('list')
    .description('the enrolled institutions')
    .requiredOption('--home <dir>', "the key holder's home folder")
    .action(async (o: { home: string }) => {
      const { loadKeyHolder } = await import('./init.js');
      const { KeyHolderStore } = await import('./store/keyholder-store.js');
      const k = await loadKeyHolder(o.home);
      const store = KeyHolderStore.open(k.paths.dataDir);
      try {
        const rows = store.participants();
        process.stdout.write(
          rows.length === 0
            ? "No institutions enrolled; add them with 'keyholder participant add'.\n"
            : `${rows
                .map(
                  (p) =>
                    `${p.institutionId.padEnd(12)} ${p.brin}  ${p.name.padEnd(40)} ${p.fingerprint}${p.removedAt ? `  (removed ${p.removedAt})` : ''}`,
                )
                .join('\n')}\n`,
        );
      } finally {
        store.close();
      }
    });
  participant
    .command('remove')
    .description('remove an institution: later endorsements leave it out')
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--id <id>', 'institution id')
    .action(async (o: { home: string; id: string }) => {
      const { removeParticipant } = await import('./participants.js');
      await removeParticipant({ home: o.home, institutionId: o.id });
      process.stdout.write(`Removed ${o.id}; rounds endorsed from now on leave it out.\n`);
    });

  kh.command('endorse')
    .description(
      "sign the round key, the thresholds this key holder will enforce and the participant list (enrolled institutions), for the coordinator's manifest",
    )
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--round <id>', 'round id, e.g. 2024-2025-r1')
    .option('--max-participants <n>', 'largest number of contributions', '500')
    .option(
      '--participants <ids>',
      'comma-separated ids of enrolled institutions taking part (default: every enrolled one)',
    )
    .option('--min-institutions <n>', 'institutions a published block needs (default 3)')
    .option('--min-population <n>', 'population a published block needs (default 10)')
    .option('--dominance-share <x>', 'largest share one institution may hold (default 0.85)')
    .option('--min-institutions-distribution <n>', 'institutions a published distribution needs (default 5)')
    .option('--masked', 'masked round (secure aggregation) over the endorsed participants')
    .option(
      '--masking-threshold <t>',
      'Shamir threshold t of the masked round; implies --masked (default max(ceil(2n/3), min-institutions))',
    )
    .requiredOption('--out <file>', 'endorsement file to write')
    .action(
      async (o: {
        home: string;
        round: string;
        maxParticipants: string;
        minInstitutions?: string;
        minPopulation?: string;
        dominanceShare?: string;
        minInstitutionsDistribution?: string;
        participants?: string;
        masked?: boolean;
        maskingThreshold?: string;
        out: string;
      }) => {
        const { endorseRound } = await import('./endorse.js');
        const thresholds = Object.fromEntries(
          Object.entries({
            min_institutions: intOption('--min-institutions', o.minInstitutions),
            min_population: intOption('--min-population', o.minPopulation),
            dominance_share: shareOption('--dominance-share', o.dominanceShare),
            min_institutions_distribution: intOption('--min-institutions-distribution', o.minInstitutionsDistribution),
          }).filter(([, v]) => v !== undefined),
        );
        const e = await endorseRound({
          home: o.home,
          roundId: o.round,
          maxParticipants: intOption('--max-participants', o.maxParticipants) as number,
          thresholds,
          ...(o.participants
            ? {
                participants: o.participants
                  .split(',')
                  .map((x) => x.trim())
                  .filter((x) => x !== ''),
              }
            : {}),
          ...(o.masked || o.maskingThreshold !== undefined
            ? {
                masking: {
                  ...(o.maskingThreshold !== undefined
                    ? { threshold: intOption('--masking-threshold', o.maskingThreshold) as number }
                    : {}),
                },
              }
            : {}),
        });
        writeFileSync(o.out, `${JSON.stringify(e, null, 2)}\n`);
        process.stdout.write(
          `Endorsed round ${e.round_id} (max ${e.max_participants} participants, thresholds ${JSON.stringify(e.thresholds)}${e.masking ? `, masked with threshold t = ${e.masking.threshold} over the ${e.masking.graph.kind} graph` : ', unmasked'}) with ${e.participants.length} participant(s): ${e.participants.map((p) => `${p.institution_id} (${p.name}, BRIN ${p.brin})`).join(', ')}; wrote ${o.out}. Send it to the coordinator: it may open the round with exactly these participants.\n`,
        );
      },
    );

  kh.command('release')
    .description(
      "verify the coordinator's bundle, decrypt the sector sum, apply disclosure control and sign the release",
    )
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--bundle <dir>', "the coordinator's close-of-round bundle folder")
    .requiredOption('--out <file>', 'release.json to write')
    .option(
      '--previous <file>',
      'the latest release of this round, to sign the next version (not needed for a bundle of a reopened round: it carries the published versions)',
    )
    .option('--share <file>', "a custodian's share file (repeat: k custodians)", collect, [])
    .option('--custodian-key <file>', "a custodian's X25519 secret key file, opening their share (repeat)", collect, [])
    .option(
      '--passphrase <name[=file]>',
      "a custodian's passphrase (typed, or first line of file; repeat)",
      collect,
      [],
    )
    .addHelpText(
      'after',
      `
The BFV secret key is unsealed with the shares of k custodians for this release only (logged in
'keyholder log'), and wiped from memory when the sum is decrypted. Example with two custodians:
  sectorbench keyholder release --home kh --bundle bundle --out release.json \\
      --share share-alice.json --custodian-key alice.key --share share-carol.json --passphrase carol`,
    )
    .action(
      async (o: {
        home: string;
        bundle: string;
        out: string;
        previous?: string;
        share: string[];
        custodianKey: string[];
        passphrase: string[];
      }) => {
        const { releaseRoundDetailed } = await import('./release.js');
        let previous: Release | undefined;
        if (o.previous) {
          const p = ReleaseSchema.safeParse(readJsonFile(o.previous, 'release'));
          if (!p.success) throw new SbError('SB_ERR_PREVIOUS_RELEASE', `${o.previous} is not a release file.`);
          previous = p.data;
        }
        try {
          const shares = await presented(o.share, o.custodianKey, o.passphrase);
          const r = await releaseRoundDetailed({
            home: o.home,
            bundleDir: o.bundle,
            shares,
            ...(previous ? { previous } : {}),
          });
          writeFileSync(o.out, `${JSON.stringify(r.release, null, 2)}\n`);
          for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
          const rules = Object.entries(r.blocks.byRule)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          process.stdout.write(
            `Released round ${r.release.round_id} version ${r.release.release_version} from ${r.release.institutions} institutions: ${r.blocks.published} blocks published, ${r.blocks.suppressed} suppressed${rules ? ` (${rules})` : ''}.\nWrote ${o.out} (digest ${r.releaseDigest}).\n`,
          );
        } finally {
          await closeSeal();
        }
      },
    );

  kh.command('log')
    .description("the key holder's log: key ceremonies, every unseal of the key, every decryption, release and refusal")
    .requiredOption('--home <dir>', "the key holder's home folder")
    .option('--round <id>', 'only this round')
    .action(async (o: { home: string; round?: string }) => {
      const { loadKeyHolder } = await import('./init.js');
      const { KeyHolderStore } = await import('./store/keyholder-store.js');
      const k = await loadKeyHolder(o.home);
      const store = KeyHolderStore.open(k.paths.dataDir);
      try {
        const out = {
          ceremonies: o.round ? undefined : store.ceremonies(),
          unseals: store.unseals(o.round),
          decryptions: store.decryptions(o.round),
          refusals: store.refusals(o.round),
          releases: o.round ? store.releases(o.round) : undefined,
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } finally {
        store.close();
      }
    });

  registerKeyHolderOpsCommands(kh);
}
