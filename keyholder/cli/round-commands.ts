import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { EndorsementFile } from '../../schemas/endorsement.js';
import { type Release, ReleaseSchema } from '../../schemas/release.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { collect } from '../custody/cli-input.js';
import { closeSeal, intOption, presented, readJsonFile, requiredInt, shareOption } from './options.js';

/**
 * `sectorbench keyholder endorse | release | log`: the key holder's part in a round, from the
 * endorsement the coordinator's manifest carries to the signed release, and its log.
 */
export function registerKeyHolderRoundCommands(kh: Command): void {
  registerEndorse(kh);
  registerRelease(kh);
  registerLog(kh);
}

interface EndorseOptions {
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
}

function registerEndorse(kh: Command): void {
  kh.command('endorse')
    .description(
      'sign the round key, the thresholds this key holder will enforce and the participant list ' +
        "(enrolled institutions), for the coordinator's manifest",
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
    .action(async (o: EndorseOptions) => {
      const { endorseRound } = await import('../endorse.js');
      const e = await endorseRound({
        home: o.home,
        roundId: o.round,
        maxParticipants: requiredInt('--max-participants', o.maxParticipants),
        thresholds: endorseThresholds(o),
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
                  ? { threshold: requiredInt('--masking-threshold', o.maskingThreshold) }
                  : {}),
              },
            }
          : {}),
      });
      writeFileSync(o.out, `${JSON.stringify(e, null, 2)}\n`);
      process.stdout.write(endorsedText(e, o.out));
    });
}

/** The thresholds given on the command line; the ones left out keep endorseRound's defaults. */
function endorseThresholds(o: EndorseOptions): Record<string, number> {
  const given = {
    min_institutions: intOption('--min-institutions', o.minInstitutions),
    min_population: intOption('--min-population', o.minPopulation),
    dominance_share: shareOption('--dominance-share', o.dominanceShare),
    min_institutions_distribution: intOption('--min-institutions-distribution', o.minInstitutionsDistribution),
  };
  return Object.fromEntries(Object.entries(given).filter((entry): entry is [string, number] => entry[1] !== undefined));
}

function endorsedText(e: EndorsementFile, out: string): string {
  const masking = e.masking
    ? `, masked with threshold t = ${e.masking.threshold} over the ${e.masking.graph.kind} graph`
    : ', unmasked';
  const participants = e.participants.map((p) => `${p.institution_id} (${p.name}, BRIN ${p.brin})`).join(', ');
  return (
    `Endorsed round ${e.round_id} (max ${e.max_participants} participants, ` +
    `thresholds ${JSON.stringify(e.thresholds)}${masking}) ` +
    `with ${e.participants.length} participant(s): ${participants}; wrote ${out}. ` +
    'Send it to the coordinator: it may open the round with exactly these participants.\n'
  );
}

function registerRelease(kh: Command): void {
  kh.command('release')
    .description(
      "verify the coordinator's bundle, decrypt the sector sum, apply disclosure control and sign the release",
    )
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--bundle <dir>', "the coordinator's close-of-round bundle folder")
    .requiredOption('--out <file>', 'release.json to write')
    .option(
      '--previous <file>',
      'the latest release of this round, to sign the next version ' +
        '(not needed for a bundle of a reopened round: it carries the published versions)',
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
        const { releaseRoundDetailed } = await import('../release.js');
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
            `Released round ${r.release.round_id} version ${r.release.release_version} ` +
              `from ${r.release.institutions} institutions: ${r.blocks.published} blocks published, ` +
              `${r.blocks.suppressed} suppressed${rules ? ` (${rules})` : ''}.\n` +
              `Wrote ${o.out} (digest ${r.releaseDigest}).\n`,
          );
        } finally {
          await closeSeal();
        }
      },
    );
}

function registerLog(kh: Command): void {
  kh.command('log')
    .description("the key holder's log: key ceremonies, every unseal of the key, every decryption, release and refusal")
    .requiredOption('--home <dir>', "the key holder's home folder")
    .option('--round <id>', 'only this round')
    .action(async (o: { home: string; round?: string }) => {
      const { loadKeyHolder } = await import('../init.js');
      const { KeyHolderStore } = await import('../store/keyholder-store.js');
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
}
