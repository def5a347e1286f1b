import type { Command } from 'commander';

/**
 * `sectorbench keyholder pin-coordinator | participant add | list | remove`: whom this key holder
 * trusts. It pins the coordinator's key and enrols institutions itself, and endorses only those
 * as participants, so a coordinator cannot add institutions of its own.
 */
export function registerEnrolmentCommands(kh: Command): void {
  kh.command('pin-coordinator')
    .description("pin the coordinator's Ed25519 key (compare the printed fingerprint with the coordinator's)")
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--key <file>', "the coordinator's identity .pub file")
    .action(async (o: { home: string; key: string }) => {
      const { pinCoordinator } = await import('../init.js');
      const { readPublicIdentityFile } = await import('../../shared/crypto/identity.js');
      const fp = pinCoordinator({ home: o.home, coordinatorKey: await readPublicIdentityFile(o.key) });
      process.stdout.write(`Pinned coordinator key, fingerprint ${fp}. Compare it with the coordinator's, by phone.\n`);
    });

  const participant = kh
    .command('participant')
    .description(
      'the institutions this key holder enrolled itself (name, BRIN code, identity key): ' +
        'the only ones it endorses as participants',
    );
  registerParticipantAdd(participant);
  registerParticipantList(participant);
  registerParticipantRemove(participant);
}

function registerParticipantAdd(participant: Command): void {
  participant
    .command('add')
    .description("enrol an institution after comparing its key's fingerprint with the institution by phone")
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--id <id>', 'institution id (as the coordinator and the node use it)')
    .requiredOption('--name <name>', "the institution's name")
    .requiredOption('--brin <code>', 'its BRIN code, e.g. 25LX')
    .requiredOption('--key <file>', "the institution's identity .pub file (its node's identity.key.pub)")
    .action(async (o: { home: string; id: string; name: string; brin: string; key: string }) => {
      const { addParticipant } = await import('../participants.js');
      const { readPublicIdentityFile } = await import('../../shared/crypto/identity.js');
      const r = await addParticipant({
        home: o.home,
        institutionId: o.id,
        name: o.name,
        brin: o.brin,
        publicKey: await readPublicIdentityFile(o.key),
      });
      process.stdout.write(
        `Enrolled ${r.institutionId} (${r.name}, BRIN ${r.brin}), key fingerprint ${r.fingerprint}.\n` +
          "Compare the fingerprint with the institution by phone; if it differs, run 'keyholder participant remove' at once.\n",
      );
    });
}

function registerParticipantList(participant: Command): void {
  participant
    .command('list')
    .description('the enrolled institutions')
    .requiredOption('--home <dir>', "the key holder's home folder")
    .action(async (o: { home: string }) => {
      const { loadKeyHolder } = await import('../init.js');
      const { KeyHolderStore } = await import('../store/keyholder-store.js');
      const k = await loadKeyHolder(o.home);
      const store = KeyHolderStore.open(k.paths.dataDir);
      try {
        const rows = store.participants();
        const line = (p: (typeof rows)[number]) =>
          `${p.institutionId.padEnd(12)} ${p.brin}  ${p.name.padEnd(40)} ${p.fingerprint}` +
          (p.removedAt ? `  (removed ${p.removedAt})` : '');
        process.stdout.write(
          rows.length === 0
            ? "No institutions enrolled; add them with 'keyholder participant add'.\n"
            : `${rows.map(line).join('\n')}\n`,
        );
      } finally {
        store.close();
      }
    });
}

function registerParticipantRemove(participant: Command): void {
  participant
    .command('remove')
    .description('remove an institution: later endorsements leave it out')
    .requiredOption('--home <dir>', "the key holder's home folder")
    .requiredOption('--id <id>', 'institution id')
    .action(async (o: { home: string; id: string }) => {
      const { removeParticipant } = await import('../participants.js');
      await removeParticipant({ home: o.home, institutionId: o.id });
      process.stdout.write(`Removed ${o.id}; rounds endorsed from now on leave it out.\n`);
    });
}
