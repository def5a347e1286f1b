import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { SbError } from '../shared/errors/sb-error.js';
import { vectorToCsv } from './vector/vector-csv.js';
import { importProgressReporter } from './cli-progress.js';

function intOption(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new SbError('SB_ERR_USAGE', `${name} must be a whole number, not '${value}'.`);
  return n;
}

function write(out: string | undefined, text: string): void {
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}

/** `sectorbench node …`: what an institution's data team runs on-prem. */
export function registerNodeCommands(program: Command): void {
  const node = program
    .command('node')
    .description("an institution's node: import SIS exports, compute, check and send its contribution");

  node
    .command('import')
    .description('import enrolments and attendance exports into the node database (all or nothing)')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--enrolments <file>', 'enrolments export (INPUT.md)')
    .requiredOption('--attendance <file>', 'attendance export (INPUT.md)')
    .option('--mapping <file>', 'mapping file for SIS column names and codes (see node/mappings/)')
    .option('--max-errors <n>', 'skip up to N bad rows instead of refusing the import', '0')
    .addOption(
      new Option('--encoding <enc>', 'encoding of the files')
        .choices(['auto', 'utf-8', 'windows-1252'])
        .default('auto'),
    )
    .option('--codebook <file>', 'check niveaus against this codebook while importing')
    .action(
      async (o: {
        home: string;
        enrolments: string;
        attendance: string;
        mapping?: string;
        maxErrors: string;
        encoding: 'auto' | 'utf-8' | 'windows-1252';
        codebook?: string;
      }) => {
        const { importDataset } = await import('./import/import-dataset.js');
        const progress = importProgressReporter();
        try {
          const r = await importDataset({
            home: o.home,
            enrolments: o.enrolments,
            attendance: o.attendance,
            mapping: o.mapping,
            maxErrors: intOption('--max-errors', o.maxErrors),
            encoding: o.encoding,
            codebook: o.codebook,
            onProgress: progress.update,
          });
          progress.stop();
          process.stdout.write(
            `Imported ${r.enrolments.imported} enrolments (${r.enrolments.encoding}, '${r.enrolments.delimiter === '\t' ? 'tab' : r.enrolments.delimiter}') and ${r.attendance.records - r.observationsDropped} observations (${r.attendance.encoding}) into ${o.home} in ${(r.durationMs / 1000).toFixed(1)} s; stored as ${r.attendance.weeks} weekly sums.\n` +
              (r.rowsSkipped
                ? `${r.rowsSkipped} bad row(s) skipped under --max-errors (${r.problemsTotal} problem(s)); ${r.observationsDropped} observation(s) dropped with skipped enrolments. They are recorded with the dataset and shown in the quality report.\n`
                : ''),
          );
        } finally {
          progress.stop();
        }
      },
    );

  node
    .command('vector')
    .description('compute the METRICS.md contribution vector of the imported dataset')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--codebook <file>', "the round's codebook")
    .requiredOption('--year <S>', 'studiejaar S (2024 for 2024-2025)')
    .addOption(new Option('--format <f>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; codebook: string; year: string; format: 'json' | 'csv'; out?: string }) => {
      const { computeNodeVector } = await import('./vector/node-vector.js');
      const r = await computeNodeVector({ home: o.home, codebook: o.codebook, year: intOption('--year', o.year) });
      write(o.out, o.format === 'json' ? `${JSON.stringify(r.json, null, 2)}\n` : vectorToCsv(r.json));
    });

  node
    .command('quality')
    .description('the data-quality report a data team reads before anything is sent')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--codebook <file>', "the round's codebook")
    .requiredOption('--year <S>', 'studiejaar S (2024 for 2024-2025)')
    .addOption(new Option('--format <f>', 'output format').choices(['text', 'json']).default('text'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; codebook: string; year: string; format: 'text' | 'json'; out?: string }) => {
      const { qualityReport, renderQualityText } = await import('./quality/quality-report.js');
      const r = await qualityReport({ home: o.home, codebook: o.codebook, year: intOption('--year', o.year) });
      write(o.out, o.format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : renderQualityText(r));
    });

  node
    .command('init')
    .description("create the node's identity and configuration; prints the fingerprint to read out at enrolment")
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--institution <id>', 'institution id as registered with the coordinator')
    .option('--name <name>', "the institution's name for its comparison page (default: the id)")
    .requiredOption('--coordinator <url>', "the coordinator's URL")
    .requiredOption('--coordinator-key <file>', "the coordinator's public key file (.pub), from enrolment")
    .requiredOption('--key-holder-key <file>', "the key holder's public key file (.pub), from enrolment")
    .action(
      async (o: {
        home: string;
        institution: string;
        name?: string;
        coordinator: string;
        coordinatorKey: string;
        keyHolderKey: string;
      }) => {
        const { initNode } = await import('./client/init.js');
        const r = await initNode({
          home: o.home,
          institutionId: o.institution,
          institutionName: o.name,
          coordinatorUrl: o.coordinator,
          coordinatorKeyFile: o.coordinatorKey,
          keyHolderKeyFile: o.keyHolderKey,
        });
        process.stdout.write(
          `Node ${o.institution} initialised in ${o.home}.\n` +
            `Public key: ${r.publicKeyFile}\n` +
            `Vingerafdruk om voor te lezen bij aanmelding: ${r.fingerprint}\n` +
            `Pinned coordinator ${r.config.pinned.coordinator.fingerprint}, key holder ${r.config.pinned.key_holder.fingerprint}: compare these with what they read out to you.\n`,
        );
      },
    );

  node
    .command('submit')
    .description("compute, encrypt, sign and send this institution's contribution to a round")
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id')
    .option('--coordinator <url>', 'the coordinator (must be the one the node was enrolled with)')
    .action(async (o: { home: string; round: string; coordinator?: string }) => {
      const { submitContribution } = await import('./client/submit.js');
      const r = await submitContribution({
        home: o.home,
        roundId: o.round,
        coordinatorUrl: o.coordinator,
        onPhase: (p) => process.stderr.write(`${p}…\n`),
      });
      process.stdout.write(
        `${r.resent ? 'Resent the stored contribution' : 'Sent the contribution'} for round ${o.round}: ${r.ciphertexts} ciphertexts, ${r.wireBytes.toLocaleString('en-GB')} bytes.\n` +
          `Receipt ${r.receipt.sequence} at ${r.receipt.received_at}, envelope ${r.envelopeDigest}.\n`,
      );
    });

  node
    .command('benchmark')
    .description("fetch the signed release and write this institution's comparison (HTML and CSV)")
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id')
    .requiredOption('--out <dir>', 'folder for benchmark.html, benchmark.csv and release.json')
    .option('--coordinator <url>', 'the coordinator (must be the one the node was enrolled with)')
    .action(async (o: { home: string; round: string; out: string; coordinator?: string }) => {
      const { writeBenchmark } = await import('./client/benchmark.js');
      const r = await writeBenchmark({ home: o.home, roundId: o.round, out: o.out, coordinatorUrl: o.coordinator });
      process.stdout.write(
        `Release version ${r.releaseVersion} verified. Comparison (${r.rows} rows): ${r.html}, ${r.csv}\n`,
      );
    });

  node
    .command('preview')
    .description('show exactly what will leave the institution in a round, before anything is sent (Dutch)')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id')
    .addOption(new Option('--format <f>', 'output format').choices(['text', 'html', 'json']).default('text'))
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--coordinator <url>', 'the coordinator (must be the one the node was enrolled with)')
    .action(
      async (o: {
        home: string;
        round: string;
        format: 'text' | 'html' | 'json';
        out?: string;
        coordinator?: string;
      }) => {
        const { previewRound } = await import('./audit/preview.js');
        const r = await previewRound({
          home: o.home,
          roundId: o.round,
          format: o.format,
          coordinatorUrl: o.coordinator,
        });
        write(o.out, r.rendered);
      },
    );

  node
    .command('approve')
    .description("a privacy officer approves exactly this round's vector (after reading the preview)")
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id')
    .requiredOption('--key <file>', "the approver's identity (secret) file")
    .option('--digest <hex>', 'the digest shown in the preview; refused when the data changed since')
    .action(async (o: { home: string; round: string; key: string; digest?: string }) => {
      const { approveRound } = await import('./audit/approval.js');
      const r = await approveRound({ home: o.home, roundId: o.round, approverKeyFile: o.key, expectDigest: o.digest });
      process.stdout.write(
        `Goedgekeurd door ${r.approval.approver_name}: ronde ${o.round}, digest ${r.approval.vector_digest}, ${r.approval.wire_bytes.toLocaleString('nl-NL')} bytes.\n` +
          `${r.approvals} van ${r.required} vereiste goedkeuring(en) aanwezig${r.approvals >= r.required ? '; submit kan nu versturen.' : '.'}\n`,
      );
    });

  const approver = node.command('approver').description("the node's approvers (privacy officers)");
  approver
    .command('keygen')
    .description("create a privacy officer's identity file (0600) and its .pub")
    .requiredOption('--out <file>', 'identity file to create')
    .action(async (o: { out: string }) => {
      const { approverKeygen } = await import('./audit/approval.js');
      const r = await approverKeygen(o.out);
      process.stdout.write(
        `Sleutel gemaakt: ${o.out} (geheim) en ${r.publicKeyFile}.\nVingerafdruk: ${r.fingerprint}\n`,
      );
    });
  approver
    .command('add')
    .description('configure an approver by public key (.pub); logged')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--name <name>', "the approver's name and role")
    .requiredOption('--key <file>', "the approver's public key file (.pub)")
    .addOption(new Option('--approvals-required <n>', 'approvals needed to send (2 = four-eyes)').choices(['1', '2']))
    .action(async (o: { home: string; name: string; key: string; approvalsRequired?: '1' | '2' }) => {
      const { addApprover } = await import('./audit/approval.js');
      const a = await addApprover({
        home: o.home,
        publicKeyFile: o.key,
        name: o.name,
        approvalsRequired: o.approvalsRequired ? (Number(o.approvalsRequired) as 1 | 2) : undefined,
      });
      process.stdout.write(
        `Goedkeurder toegevoegd: ${a.name}, vingerafdruk ${a.fingerprint}. Lees deze voor aan de goedkeurder ter controle.\n`,
      );
    });
  approver
    .command('list')
    .description('list the configured approvers')
    .requiredOption('--home <dir>', "the node's home folder")
    .action(async (o: { home: string }) => {
      const { listApprovers } = await import('./audit/approval.js');
      const r = listApprovers(o.home);
      process.stdout.write(
        `${r.approvalsRequired} goedkeuring(en) vereist.\n${r.approvers.map((a) => `${a.name}  ${a.fingerprint}`).join('\n') || '(geen goedkeurders)'}\n`,
      );
    });

  const audit = node.command('audit').description("the node's audit log: what left the building");
  audit
    .command('verify')
    .description(
      'detect any edit, deletion, reordering or truncation of the log; --deep re-encrypts each logged vector',
    )
    .requiredOption('--home <dir>', "the node's home folder")
    .option('--deep', 'also re-encrypt every logged vector and compare with the sent and receipted ciphertext digests')
    .option('--receipt <file...>', 'receipt files kept outside the node (JSON)')
    .option('--expect-head <hex...>', 'chain heads written down elsewhere; each must be in the log')
    .option(
      '--online',
      'also ask the coordinator (signed, logged request) for the newest head it saw; it must be in the log',
    )
    .option('--coordinator <url>', 'with --online: the coordinator (must be the one the node was enrolled with)')
    .option('--json', 'machine-readable result')
    .action(
      async (o: {
        home: string;
        deep?: boolean;
        receipt?: string[];
        expectHead?: string[];
        online?: boolean;
        coordinator?: string;
        json?: boolean;
      }) => {
        const { verifyAuditLog } = await import('./audit/verify.js');
        const r = await verifyAuditLog({
          home: o.home,
          deep: o.deep,
          receiptFiles: o.receipt,
          expectHeads: o.expectHead,
          online: o.online ? { coordinatorUrl: o.coordinator } : false,
        });
        if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          process.stdout.write(
            (r.ok
              ? `Auditlog in orde: ${r.entries} regels, ${r.receipts_checked} ontvangstbewijs/-bewijzen${r.deep ? `, ${r.deep.ciphertexts} versleutelde blokken opnieuw berekend en gelijk` : ''}.\n`
              : `Auditlog NIET in orde:\n${r.findings.map((f) => `- [${f.kind}] ${f.message}`).join('\n')}\n`) +
              `Logkop: ${r.head ?? '(leeg)'}\n` +
              (r.coordinator
                ? `Laatst door de coördinator gezien: ${r.coordinator.head ?? '(nog geen)'}${r.coordinator.seen_at ? ` (${r.coordinator.seen_at})` : ''}\n`
                : ''),
          );
        }
        if (!r.ok)
          throw new SbError(
            'SB_ERR_AUDIT_TAMPERED',
            `the audit log of ${o.home} does not verify (${r.findings.length} finding(s) above); keep a copy of node.sqlite as evidence and contact the privacy officer.`,
          );
      },
    );
  audit
    .command('show')
    .description('render the log for a person (Dutch text or HTML)')
    .requiredOption('--home <dir>', "the node's home folder")
    .option('--round <id>', 'only this round')
    .addOption(new Option('--format <f>', 'output format').choices(['text', 'html']).default('text'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; round?: string; format: 'text' | 'html'; out?: string }) => {
      const { showAudit } = await import('./audit/render.js');
      write(o.out, await showAudit({ home: o.home, roundId: o.round, format: o.format }));
    });
  audit
    .command('export')
    .description('the AVG art. 30 record of processing, from the real config and log')
    .requiredOption('--home <dir>', "the node's home folder")
    .addOption(new Option('--format <f>', 'output format').choices(['text', 'json']).default('text'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; format: 'text' | 'json'; out?: string }) => {
      const { exportArt30, renderArt30Text } = await import('./audit/render.js');
      const r = await exportArt30({ home: o.home });
      write(o.out, o.format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : renderArt30Text(r));
    });

  node
    .command('dataflow')
    .description('the data-flow statement for a DPIA (Dutch and English), from the config and the round manifest')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id (run preview first, to fetch and verify its manifest)')
    .addOption(new Option('--lang <l>', 'language').choices(['nl', 'en', 'both']).default('both'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; round: string; lang: 'nl' | 'en' | 'both'; out?: string }) => {
      const { dataflowStatement } = await import('./audit/render.js');
      const r = dataflowStatement({ home: o.home, roundId: o.round });
      write(o.out, o.lang === 'nl' ? r.nl : o.lang === 'en' ? r.en : `${r.nl}\n---\n\n${r.en}`);
    });
}
