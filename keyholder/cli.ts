import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ReleaseSchema, type Release } from '../schemas/release.js';
import { SbError } from '../shared/errors/sb-error.js';

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

  kh.command('init')
    .description('create a key holder home: BFV key pair, Ed25519 identity, configuration and log')
    .requiredOption('--home <dir>', "the key holder's home folder")
    .option('--coordinator-key <file>', "the coordinator's identity .pub file, to pin")
    .action(async (o: { home: string; coordinatorKey?: string }) => {
      const { initKeyHolder } = await import('./init.js');
      const { readPublicIdentityFile } = await import('../shared/crypto/identity.js');
      const coordinatorKey = o.coordinatorKey ? await readPublicIdentityFile(o.coordinatorKey) : undefined;
      try {
        const r = await initKeyHolder({ home: o.home, ...(coordinatorKey ? { coordinatorKey } : {}) });
        process.stdout.write(
          `Key holder created in ${r.home}.\nFingerprint: ${r.fingerprint}\n(read it out to the coordinator and the institutions, who pin it)\nBFV public key digest: ${r.hePublicKeyDigest}\n` +
            (r.coordinatorFingerprint
              ? `Pinned coordinator: ${r.coordinatorFingerprint}\n`
              : `No coordinator pinned yet: run 'keyholder pin-coordinator' before the first release.\n`),
        );
      } finally {
        await closeSeal();
      }
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

  kh.command('endorse')
    .description("sign the round key and the thresholds this key holder will enforce, for the coordinator's manifest")
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--round <id>', 'round id, e.g. 2024-2025-r1')
    .option('--max-participants <n>', 'largest number of contributions', '500')
    .option('--min-institutions <n>', 'institutions a published block needs (default 3)')
    .option('--min-population <n>', 'population a published block needs (default 10)')
    .option('--dominance-share <x>', 'largest share one institution may hold (default 0.85)')
    .option('--min-institutions-distribution <n>', 'institutions a published distribution needs (default 5)')
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
        });
        writeFileSync(o.out, JSON.stringify(e, null, 2) + '\n');
        process.stdout.write(
          `Endorsed round ${e.round_id} (max ${e.max_participants} participants, thresholds ${JSON.stringify(e.thresholds)}); wrote ${o.out}. Send it to the coordinator.\n`,
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
    .option('--previous <file>', 'the latest release of this round, to sign a corrected re-release')
    .action(async (o: { home: string; bundle: string; out: string; previous?: string }) => {
      const { releaseRoundDetailed } = await import('./release.js');
      let previous: Release | undefined;
      if (o.previous) {
        const p = ReleaseSchema.safeParse(readJsonFile(o.previous, 'release'));
        if (!p.success) throw new SbError('SB_ERR_PREVIOUS_RELEASE', `${o.previous} is not a release file.`);
        previous = p.data;
      }
      try {
        const r = await releaseRoundDetailed({ home: o.home, bundleDir: o.bundle, ...(previous ? { previous } : {}) });
        writeFileSync(o.out, JSON.stringify(r.release, null, 2) + '\n');
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
    });

  kh.command('log')
    .description("the key holder's log: every decryption, release and refusal")
    .requiredOption('--home <dir>', "the key holder's home folder")
    .option('--round <id>', 'only this round')
    .action(async (o: { home: string; round?: string }) => {
      const { loadKeyHolder } = await import('./init.js');
      const { KeyHolderStore } = await import('./store/keyholder-store.js');
      const k = await loadKeyHolder(o.home);
      const store = KeyHolderStore.open(k.paths.dataDir);
      try {
        const out = {
          decryptions: store.decryptions(o.round),
          refusals: store.refusals(o.round),
          releases: o.round ? store.releases(o.round) : undefined,
        };
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      } finally {
        store.close();
      }
    });
}
