import type { Command } from 'commander';
import type { initNode } from '../client/init.js';
import { orCarry } from './offline.js';

/**
 * `sectorbench node init | round | export | import-response | submit | benchmark`: enrolment and
 * taking part in a round, online or air-gapped.
 */
export function registerRoundCommands(node: Command): void {
  registerInit(node);
  registerRound(node);
  registerExport(node);
  registerImportResponse(node);
  registerSubmit(node);
  registerBenchmark(node);
}

function registerInit(node: Command): void {
  node
    .command('init')
    .description("create the node's identity and configuration; prints the fingerprint to read out at enrolment")
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--institution <id>', 'institution id as registered with the coordinator')
    .option('--name <name>', "the institution's name for its comparison page (default: the id)")
    .requiredOption('--coordinator <url>', "the coordinator's URL")
    .requiredOption('--coordinator-key <file>', "the coordinator's public key file (.pub), from enrolment")
    .requiredOption('--key-holder-key <file>', "the key holder's public key file (.pub), from enrolment")
    .option('--coordinator-ca <file>', 'https coordinator: the coalition CA certificate (PEM) to pin, from enrolment')
    .option(
      '--coordinator-cert-sha256 <fingerprint>',
      "https coordinator: pin its certificate's SHA-256 fingerprint instead " +
        '(as openssl x509 -fingerprint -sha256 prints it)',
    )
    .option('--offline', 'air-gapped node: round messages go as signed files carried by hand (transport "file")')
    .action(
      async (o: {
        home: string;
        institution: string;
        name?: string;
        coordinator: string;
        coordinatorKey: string;
        keyHolderKey: string;
        coordinatorCa?: string;
        coordinatorCertSha256?: string;
        offline?: boolean;
      }) => {
        const { initNode } = await import('../client/init.js');
        const r = await initNode({
          home: o.home,
          institutionId: o.institution,
          institutionName: o.name,
          coordinatorUrl: o.coordinator,
          coordinatorKeyFile: o.coordinatorKey,
          keyHolderKeyFile: o.keyHolderKey,
          coordinatorCaFile: o.coordinatorCa,
          coordinatorCertSha256: o.coordinatorCertSha256,
          offline: o.offline === true,
        });
        process.stdout.write(initText(o.institution, o.home, r));
      },
    );
}

/** What `node init` prints: the fingerprints to compare by phone, and the transport chosen. */
function initText(institution: string, home: string, r: Awaited<ReturnType<typeof initNode>>): string {
  const { pinned, transport, coordinator_tls: tls } = r.config;
  const airgap =
    transport === 'file'
      ? 'Air-gapped: this node never connects; `node round` writes signed export files to carry to the ' +
        'coordinator (docs/OPERATIONS.md "Air-gapped nodes").\n'
      : '';
  const tlsPin = tls
    ? `Pinned the coordinator's TLS ${
        tls.pin === 'ca' ? `CA certificate, SHA-256 ${tls.ca_sha256}` : `certificate, SHA-256 ${tls.cert_sha256}`
      }: compare it with what the coordinator reads out.\n`
    : '';
  return (
    `Node ${institution} initialised in ${home}.\n` +
    `Public key: ${r.publicKeyFile}\n` +
    `Vingerafdruk om voor te lezen bij aanmelding: ${r.fingerprint}\n` +
    `Pinned coordinator ${pinned.coordinator.fingerprint}, key holder ${pinned.key_holder.fingerprint}: ` +
    'compare these with what they read out to you.\n' +
    airgap +
    tlsPin
  );
}

function registerRound(node: Command): void {
  node
    .command('round')
    .description(
      'take part in a masked round (secure aggregation): does every phase that is possible now; ' +
        'safe to run again from cron',
    )
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id')
    .option('--coordinator <url>', 'the coordinator (must be the one the node was enrolled with)')
    .option('--wait <seconds>', 'keep going until this node is done, asking again every N seconds')
    .option(
      '--offline',
      'air-gapped: no network; write the requests into a signed export file to carry to the coordinator ' +
        '(also: "transport": "file" in node.json)',
    )
    .option('--export-dir <dir>', 'offline: folder for export files (default <home>/airgap)')
    .action(
      async (o: {
        home: string;
        round: string;
        coordinator?: string;
        wait?: string;
        offline?: boolean;
        exportDir?: string;
      }) => {
        const { runRound } = await import('../round/run-round.js');
        const every = o.wait === undefined ? 0 : Number(o.wait);
        if (!Number.isInteger(every) || every < 0) {
          const { SbError } = await import('../../shared/errors/sb-error.js');
          throw new SbError('SB_ERR_USAGE', `--wait must be a whole number of seconds, not '${o.wait}'.`);
        }
        for (;;) {
          const p = await runRound({
            home: o.home,
            roundId: o.round,
            coordinatorUrl: o.coordinator,
            ...(o.offline ? { offline: true } : {}),
            ...(o.exportDir ? { exportDir: o.exportDir } : {}),
            onStep: (l) => process.stdout.write(`${l}\n`),
          });
          process.stdout.write(`Round ${p.roundId}: ${p.state} (phase ${p.phase}). ${p.message}\n`);
          if (p.carry) {
            const requests = p.carry.requests.map((r) => `${r.method} ${r.path}`).join(', ');
            process.stdout.write(
              `Exportbestand om naar de coördinator te brengen / export file to carry: ${p.carry.file}\n` +
                `  ${p.carry.requests.length} request(s): ${requests}\n`,
            );
          }
          if (p.carry || (p.state === 'waiting' && o.offline)) return;
          if (p.state !== 'waiting' || every === 0) {
            if (p.state === 'dropped') process.exitCode = 4;
            return;
          }
          await new Promise((r) => setTimeout(r, every * 1000));
        }
      },
    );
}

function registerExport(node: Command): void {
  node
    .command('export')
    .description(
      'air-gapped node: write every request still waiting for an answer into one signed export file ' +
        'to carry to the coordinator',
    )
    .requiredOption('--home <dir>', "the node's home folder")
    .option('--out <dir>', 'folder for the export file (default <home>/airgap)')
    .action(async (o: { home: string; out?: string }) => {
      const { exportPending } = await import('../client/airgap-files.js');
      const r = await exportPending({ home: o.home, ...(o.out ? { out: o.out } : {}) });
      if (!r) {
        process.stdout.write('No request waits for the coordinator: nothing to carry.\n');
        return;
      }
      const requests = r.requests.map((q) => `${q.method} ${q.path}`).join(', ');
      process.stdout.write(
        `Exportbestand om naar de coördinator te brengen / export file to carry: ${r.file}\n` +
          `${r.requests.length} request(s) (${r.fresh} new): ${requests}\n` +
          "At the coordinator: 'sectorbench coordinator import --home DIR FILE'; " +
          "bring back the response file and run 'sectorbench node import-response'.\n",
      );
    });
}

function registerImportResponse(node: Command): void {
  node
    .command('import-response')
    .description(
      "air-gapped node: check and keep the coordinator's signed response file; " +
        'then run the command that waited (e.g. node round) again',
    )
    .requiredOption('--home <dir>', "the node's home folder")
    .argument('<file>', 'the response file from the coordinator (….response.json)')
    .action(async (file: string, o: { home: string }) => {
      const { importResponses } = await import('../client/airgap-files.js');
      const r = await importResponses({ home: o.home, file });
      const refused = r.refused.length ? `; refused by the coordinator: ${r.refused.join(', ')}` : '';
      process.stdout.write(
        r.already
          ? `${file} was imported before; nothing changed.\n`
          : `Antwoordbestand ingelezen / response file imported: ${r.answered} answer(s), ` +
              `${r.documents} document(s) kept${refused}.\n` +
              "Run the command that waited (e.g. 'sectorbench node round --offline') again.\n",
      );
    });
}

function registerSubmit(node: Command): void {
  node
    .command('submit')
    .description("compute, encrypt, sign and send this institution's contribution to a round")
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id')
    .option('--coordinator <url>', 'the coordinator (must be the one the node was enrolled with)')
    .option(
      '--late',
      'a late (or, unmasked round, corrected) contribution to a released round the coordinator reopened ' +
        'for this institution; sent UNMASKED (read preview --late first)',
    )
    .action(async (o: { home: string; round: string; coordinator?: string; late?: boolean }) => {
      const { submitContribution } = await import('../round/submit.js');
      const r = await orCarry(o.home, `sectorbench node submit${o.late ? ' --late' : ''}`, () =>
        submitContribution({
          home: o.home,
          roundId: o.round,
          coordinatorUrl: o.coordinator,
          late: Boolean(o.late),
          onPhase: (p) => process.stderr.write(`${p}…\n`),
        }),
      );
      if (!r) return;
      process.stdout.write(
        `${r.resent ? 'Resent the stored contribution' : 'Sent the contribution'} for round ${o.round}: ` +
          `${r.ciphertexts} ciphertexts, ${r.wireBytes.toLocaleString('en-GB')} bytes.\n` +
          `Receipt ${r.receipt.sequence} at ${r.receipt.received_at}, envelope ${r.envelopeDigest}.\n`,
      );
    });
}

function registerBenchmark(node: Command): void {
  node
    .command('benchmark')
    .description("fetch the signed release and write this institution's comparison (HTML and CSV)")
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id')
    .requiredOption('--out <dir>', 'folder for benchmark.html, benchmark.csv and release.json')
    .option('--coordinator <url>', 'the coordinator (must be the one the node was enrolled with)')
    .action(async (o: { home: string; round: string; out: string; coordinator?: string }) => {
      const { writeBenchmark } = await import('../round/benchmark.js');
      const r = await orCarry(o.home, 'sectorbench node benchmark', () =>
        writeBenchmark({ home: o.home, roundId: o.round, out: o.out, coordinatorUrl: o.coordinator }),
      );
      if (!r) return;
      const { versionChangesNl } = await import('../../shared/pages/version-changes.js');
      process.stdout.write(
        `Release version ${r.releaseVersion} verified. Comparison (${r.rows} rows): ${r.html}, ${r.csv}\n` +
          (r.changes ? `${versionChangesNl(r.changes)}\n` : ''),
      );
    });
}
