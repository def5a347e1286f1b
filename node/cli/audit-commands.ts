import { type Command, Option } from 'commander';
import { SbError } from '../../shared/errors/sb-error.js';
import type { VerifyResult } from '../audit/verify.js';
import { orCarry } from './offline.js';
import { writeOutput } from './options.js';

/**
 * `sectorbench node preview | approve | approver | audit | dataflow`: what leaves the building,
 * who approved it, and the record of it.
 */
export function registerAuditCommands(node: Command): void {
  registerPreview(node);
  registerApprove(node);
  registerApproverCommands(node.command('approver').description("the node's approvers (privacy officers)"));
  registerAuditLogCommands(node.command('audit').description("the node's audit log: what left the building"));
  registerDataflow(node);
}

function registerPreview(node: Command): void {
  node
    .command('preview')
    .description('show exactly what will leave the institution in a round, before anything is sent (Dutch)')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id')
    .addOption(new Option('--format <f>', 'output format').choices(['text', 'html', 'json']).default('text'))
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--coordinator <url>', 'the coordinator (must be the one the node was enrolled with)')
    .option('--late', 'preview a late or corrected contribution to a released round (submit --late): sent unmasked')
    .action(
      async (o: {
        home: string;
        round: string;
        format: 'text' | 'html' | 'json';
        out?: string;
        coordinator?: string;
        late?: boolean;
      }) => {
        const { previewRound } = await import('../audit/preview.js');
        const r = await orCarry(o.home, `sectorbench node preview${o.late ? ' --late' : ''}`, () =>
          previewRound({
            home: o.home,
            roundId: o.round,
            format: o.format,
            coordinatorUrl: o.coordinator,
            late: Boolean(o.late),
          }),
        );
        if (!r) return;
        writeOutput(o.out, r.rendered);
      },
    );
}

function registerApprove(node: Command): void {
  node
    .command('approve')
    .description("a privacy officer approves exactly this round's vector (after reading the preview)")
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id')
    .requiredOption('--key <file>', "the approver's identity (secret) file")
    .option('--digest <hex>', 'the digest shown in the preview; refused when the data changed since')
    .option('--late', "approve a late contribution to a released round, sent unmasked (after 'preview --late')")
    .action(async (o: { home: string; round: string; key: string; digest?: string; late?: boolean }) => {
      const { approveRound } = await import('../audit/approval.js');
      const r = await approveRound({
        home: o.home,
        roundId: o.round,
        approverKeyFile: o.key,
        expectDigest: o.digest,
        late: o.late === true,
      });
      const bytes = r.approval.wire_bytes.toLocaleString('nl-NL');
      const ready = r.approvals >= r.required ? '; submit kan nu versturen.' : '.';
      process.stdout.write(
        `Goedgekeurd door ${r.approval.approver_name}: ronde ${o.round}, ` +
          `digest ${r.approval.vector_digest}, ${bytes} bytes.\n` +
          `${r.approvals} van ${r.required} vereiste goedkeuring(en) aanwezig${ready}\n`,
      );
    });
}

/** `node approver keygen | add | list`. */
function registerApproverCommands(approver: Command): void {
  approver
    .command('keygen')
    .description("create a privacy officer's identity file (0600) and its .pub")
    .requiredOption('--out <file>', 'identity file to create')
    .action(async (o: { out: string }) => {
      const { approverKeygen } = await import('../audit/approval.js');
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
      const { addApprover } = await import('../audit/approval.js');
      const a = await addApprover({
        home: o.home,
        publicKeyFile: o.key,
        name: o.name,
        approvalsRequired: o.approvalsRequired ? (Number(o.approvalsRequired) as 1 | 2) : undefined,
      });
      process.stdout.write(
        `Goedkeurder toegevoegd: ${a.name}, vingerafdruk ${a.fingerprint}. ` +
          'Lees deze voor aan de goedkeurder ter controle.\n',
      );
    });
  approver
    .command('list')
    .description('list the configured approvers')
    .requiredOption('--home <dir>', "the node's home folder")
    .action(async (o: { home: string }) => {
      const { listApprovers } = await import('../audit/approval.js');
      const r = listApprovers(o.home);
      const names = r.approvers.map((a) => `${a.name}  ${a.fingerprint}`).join('\n') || '(geen goedkeurders)';
      process.stdout.write(`${r.approvalsRequired} goedkeuring(en) vereist.\n${names}\n`);
    });
}

function registerAuditVerify(audit: Command): void {
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
        const { verifyAuditLog } = await import('../audit/verify.js');
        const r = await verifyAuditLog({
          home: o.home,
          deep: o.deep,
          receiptFiles: o.receipt,
          expectHeads: o.expectHead,
          online: o.online ? { coordinatorUrl: o.coordinator } : false,
        });
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : auditVerifyText(r));
        if (!r.ok)
          throw new SbError(
            'SB_ERR_AUDIT_TAMPERED',
            `the audit log of ${o.home} does not verify (${r.findings.length} finding(s) above); ` +
              'keep a copy of node.sqlite as evidence and contact the privacy officer.',
          );
      },
    );
}

/** The Dutch summary of `node audit verify`: the verdict, the log head and the coordinator's head. */
function auditVerifyText(r: VerifyResult): string {
  const deep = r.deep ? `, ${r.deep.ciphertexts} versleutelde blokken opnieuw berekend en gelijk` : '';
  const verdict = r.ok
    ? `Auditlog in orde: ${r.entries} regels, ${r.receipts_checked} ontvangstbewijs/-bewijzen${deep}.\n`
    : `Auditlog NIET in orde:\n${r.findings.map((f) => `- [${f.kind}] ${f.message}`).join('\n')}\n`;
  const seenAt = r.coordinator?.seen_at ? ` (${r.coordinator.seen_at})` : '';
  const coordinator = r.coordinator
    ? `Laatst door de coördinator gezien: ${r.coordinator.head ?? '(nog geen)'}${seenAt}\n`
    : '';
  return `${verdict}Logkop: ${r.head ?? '(leeg)'}\n${coordinator}`;
}

/** `node audit verify | show | export`. */
function registerAuditLogCommands(audit: Command): void {
  registerAuditVerify(audit);
  audit
    .command('show')
    .description('render the log for a person (Dutch text or HTML)')
    .requiredOption('--home <dir>', "the node's home folder")
    .option('--round <id>', 'only this round')
    .addOption(new Option('--format <f>', 'output format').choices(['text', 'html']).default('text'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; round?: string; format: 'text' | 'html'; out?: string }) => {
      if (o.format === 'html') {
        // The privacy officer's view: per round the figures that left, with approval and receipt.
        const { renderOfficerView } = await import('../audit/officer-view.js');
        writeOutput(o.out, await renderOfficerView({ home: o.home, roundId: o.round }));
        return;
      }
      const { showAudit } = await import('../audit/render.js');
      writeOutput(o.out, await showAudit({ home: o.home, roundId: o.round, format: o.format }));
    });
  audit
    .command('export')
    .description('the AVG art. 30 record of processing, from the real config and log')
    .requiredOption('--home <dir>', "the node's home folder")
    .addOption(new Option('--format <f>', 'output format').choices(['text', 'json']).default('text'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; format: 'text' | 'json'; out?: string }) => {
      const { exportArt30, renderArt30Text } = await import('../audit/render.js');
      const r = await exportArt30({ home: o.home });
      writeOutput(o.out, o.format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : renderArt30Text(r));
    });
}

function registerDataflow(node: Command): void {
  node
    .command('dataflow')
    .description('the data-flow statement for a DPIA (Dutch and English), from the config and the round manifest')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--round <id>', 'round id (run preview first, to fetch and verify its manifest)')
    .addOption(new Option('--lang <l>', 'language').choices(['nl', 'en', 'both']).default('both'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; round: string; lang: 'nl' | 'en' | 'both'; out?: string }) => {
      const { dataflowStatement } = await import('../audit/render.js');
      const r = dataflowStatement({ home: o.home, roundId: o.round });
      writeOutput(o.out, o.lang === 'nl' ? r.nl : o.lang === 'en' ? r.en : `${r.nl}\n---\n\n${r.en}`);
    });
}
