import type { Command } from 'commander';
import { out, readJsonFile, withHome } from './options.js';

/**
 * `sectorbench coordinator round open | status | advance | close | exclude | reopen | publish`:
 * a round from its signed manifest to the published release and its later versions.
 */
export function registerCoordinatorRoundCommands(c: Command): void {
  const round = c.command('round').description('rounds: open, status, close, exclude, publish');
  registerOpen(round);
  registerStatus(round);
  registerAdvance(round);
  registerClose(round);
  registerExclude(round);
  registerReopen(round);
  registerPublish(round);
}

function registerOpen(round: Command): void {
  round
    .command('open')
    .description(
      'open a round: sign a manifest with the codebook, thresholds, participants, deadline and the endorsed BFV key',
    )
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--round <id>', 'round id, e.g. 2024-2025-r1')
    .requiredOption('--studiejaar <year>', 'first year S of studiejaar S-(S+1), e.g. 2024')
    .requiredOption('--codebook <file>', 'codebook CSV')
    .requiredOption('--endorsement <file>', "the key holder's endorsement (sectorbench keyholder endorse)")
    .requiredOption('--he-public-key <file>', "the key holder's BFV public key")
    .requiredOption('--deadline <iso>', 'deadline, ISO date-time (UTC), e.g. 2025-11-01T00:00:00Z')
    .option('--participants <ids>', 'comma-separated institution ids (default: every active institution)')
    .action(
      async (o: {
        home: string;
        round: string;
        studiejaar: string;
        codebook: string;
        endorsement: string;
        hePublicKey: string;
        deadline: string;
        participants?: string;
      }) => {
        const { openRound } = await import('../rounds/open-round.js');
        const { readBfvPublicKey } = await import('../../shared/crypto/bfv-keys.js');
        const hePublicKey = await readBfvPublicKey(o.hePublicKey);
        const endorsement = readJsonFile(o.endorsement, 'endorsement');
        const m = await withHome(o.home, (h) =>
          openRound({
            db: h.db,
            identity: h.identity,
            roundId: o.round,
            studiejaar: o.studiejaar,
            codebook: o.codebook,
            endorsement,
            hePublicKey,
            participants: o.participants
              ? o.participants
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean)
              : undefined,
            deadline: o.deadline,
            publicUrl: h.appConfig.publicUrl,
            now: new Date(),
          }),
        );
        out(
          `Opened round ${m.round_id} (${m.studiejaar}) with ${m.participants.length} participants until ${m.deadline}.\n` +
            `Manifest: ${m.he_public_key.url?.replace(/he-public-key$/, 'manifest')}`,
        );
        if (m.secagg)
          out(
            `Masked (secure aggregation): threshold t = ${m.secagg.threshold}; phases end ${Object.entries(
              m.secagg.deadlines,
            )
              .map(([p, d]) => `${p} ${d}`)
              .join(', ')}.`,
          );
        else
          out(
            'UNMASKED: the key holder could decrypt one institution\u2019s contribution. Endorse with --masked for a masked round.',
          );
      },
    );
}

function registerStatus(round: Command): void {
  round
    .command('status')
    .description('round status (counts only); all rounds without --round')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .option('--round <id>', 'round id')
    .option('--json', 'print JSON')
    .action(async (o: { home: string; round?: string; json?: boolean }) => {
      const { roundStatus } = await import('../rounds/status.js');
      const { listRounds } = await import('../store/rounds.js');
      const { listExclusions } = await import('../store/exclusions.js');
      const { lateAdmissions } = await import('../store/late.js');
      // The operator's own view: which institutions were excluded and why (the HTTP status gives counts only).
      const list = await withHome(o.home, (h) =>
        (o.round ? [o.round] : listRounds(h.db).map((r) => r.id)).map((id) => ({
          ...roundStatus(h.db, id),
          exclusions: listExclusions(h.db, id).map((e) => ({
            institution_id: e.institutionId,
            reason: e.reason,
            excluded_at: e.excludedAt,
            sequence: e.sequence,
          })),
          late: lateAdmissions(h.db, id).map((a) => ({
            institution_id: a.institutionId,
            kind: a.kind,
            admitted_at: a.admittedAt,
            deadline: a.deadline,
            after_version: a.afterVersion,
          })),
        })),
      );
      const { secaggStatus } = await import('../secagg/phases.js');
      const { findRound } = await import('../store/rounds.js');
      const phases = await withHome(o.home, (h) =>
        list.map((s) =>
          findRound(h.db, s.round_id)?.manifest.secagg ? secaggStatus(h.db, s.round_id, new Date()) : null,
        ),
      );
      if (o.json)
        return out(
          JSON.stringify(
            o.round ? { ...list[0], secagg: phases[0] } : list.map((s, i) => ({ ...s, secagg: phases[i] })),
            null,
            2,
          ),
        );
      if (!list.length) return out('No rounds.');
      list.forEach((s, i) => {
        out(
          `${s.round_id} (${s.studiejaar}): ${s.state}; ` +
            `${s.submitted} of ${s.participants} participants submitted ` +
            `(${s.submissions} submissions${s.excluded ? `, ${s.excluded} excluded` : ''}); ` +
            `deadline ${s.deadline}${s.closed_at ? `; closed ${s.closed_at}` : ''}; ${s.release_versions} release version(s)`,
        );
        for (const e of s.exclusions) out(`  excluded ${e.institution_id} on ${e.excluded_at}: ${e.reason}`);
        for (const a of s.late)
          out(`  reopened after version ${a.after_version} for ${a.institution_id} (${a.kind}) until ${a.deadline}`);
        const p = phases[i];
        if (!p) {
          out('  unmasked round');
          return;
        }
        out(`  masked, t = ${p.threshold}; phase now: ${p.current_phase}`);
        if (p.failure) out(`  FAILED CLOSED in ${p.failure.phase}: ${p.failure.code} — ${p.failure.message}`);
        for (const ph of p.phases)
          out(
            `  ${ph.phase.padEnd(12)} ${ph.state.padEnd(7)} until ${ph.deadline}; ` +
              `acted ${ph.acted.length}/${ph.expected.length}${ph.missing.length ? `; not yet: ${ph.missing.join(', ')}` : ''}`,
          );
      });
    });
}

function registerAdvance(round: Command): void {
  round
    .command('advance')
    .description('masked round: end phases whose deadline passed; with --force end the running phase now')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--round <id>', 'round id')
    .option(
      '--force',
      'end the running phase now; who has not acted counts as dropped out (below t the round fails closed)',
    )
    .action(async (o: { home: string; round: string; force?: boolean }) => {
      const { advanceRound } = await import('../secagg/phases.js');
      const st = await withHome(o.home, (h) => advanceRound(h.db, o.round, new Date(), { force: Boolean(o.force) }));
      out(`Round ${o.round}: phase now ${st.current_phase}.`);
      if (st.failure) {
        out(`FAILED CLOSED in ${st.failure.phase}: ${st.failure.code} — ${st.failure.message}`);
        process.exitCode = 3;
      }
    });
}

function registerClose(round: Command): void {
  round
    .command('close')
    .description('close a round: add the ciphertexts homomorphically and write the bundle for the key holder')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--round <id>', 'round id')
    .requiredOption('--bundle <dir>', 'folder to write the bundle to')
    .option('--force', 'close before the deadline although not every participant has submitted')
    .action(async (o: { home: string; round: string; bundle: string; force?: boolean }) => {
      const { closeRound } = await import('../rounds/close-round.js');
      const r = await withHome(o.home, (h) =>
        closeRound({ db: h.db, roundId: o.round, bundleDir: o.bundle, force: o.force, now: new Date() }),
      );
      const after = r.index.releases?.at(-1)?.version;
      const what = r.closedNow
        ? 'Closed'
        : after !== undefined
          ? `Round was released (version ${after}); summed again with the late or corrected contribution(s) for`
          : r.resummed
            ? 'Round was already closed; summed again without the excluded contribution(s) for'
            : 'Round was already closed; wrote the bundle again for';
      out(
        `${what} round ${r.roundId}: ${r.contributions} of ${r.participants} participants contributed` +
          (r.excluded.length ? ` (excluded: ${r.excluded.join(', ')})` : '') +
          (r.late.length ? ` (late, unmasked: ${r.late.join(', ')})` : '') +
          (r.corrections.length ? ` (corrected by an encrypted difference: ${r.corrections.join(', ')})` : '') +
          `.\nBundle for the key holder: ${r.bundleDir}` +
          (after !== undefined
            ? `\nIt carries the ${after} published version(s); the key holder signs version ${after + 1} from it ` +
              '(its audit covers every earlier version).'
            : ''),
      );
    });
}

function registerExclude(round: Command): void {
  round
    .command('exclude')
    .description(
      "exclude an institution's contribution from a round (the one the key holder named); close again to sum without it",
    )
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--round <id>', 'round id')
    .requiredOption('--institution <id>', 'institution id, as the key holder named it')
    .requiredOption('--reason <text>', "why (shown to the institution), e.g. the key holder's refusal code")
    .action(async (o: { home: string; round: string; institution: string; reason: string }) => {
      const { excludeContribution } = await import('../rounds/exclude.js');
      const r = await withHome(o.home, (h) =>
        excludeContribution({
          db: h.db,
          roundId: o.round,
          institutionId: o.institution,
          reason: o.reason,
          now: new Date(),
        }),
      );
      out(
        `Excluded ${r.institutionId} from round ${r.roundId}` +
          `${r.sequence === null ? ' (it had not submitted)' : ` (its contribution, sequence ${r.sequence})`}: ${r.reason}
${r.institutionId} is told this reason on its next request.${
            r.needsReclose
              ? `
The round is closed: ` +
                `run 'sectorbench coordinator round close --home ${o.home} --round ${r.roundId} --bundle NEW_DIR' to sum without it, ` +
                `and hand the new bundle to the key holder.`
              : ''
          }`,
      );
    });
}

function registerReopen(round: Command): void {
  round
    .command('reopen')
    .description(
      'after a release: admit late (or, unmasked, corrected) contributions; close again for the key holder to sign the next version',
    )
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--round <id>', 'round id (released)')
    .requiredOption('--late <ids>', 'institution ids, comma-separated (participants of the round)')
    .requiredOption('--deadline <iso>', 'until when their contributions are accepted (ISO 8601)')
    .action(async (o: { home: string; round: string; late: string; deadline: string }) => {
      const { reopenRound } = await import('../rounds/reopen.js');
      const r = await withHome(o.home, (h) =>
        reopenRound({
          db: h.db,
          roundId: o.round,
          institutions: o.late.split(','),
          deadline: new Date(o.deadline),
          now: new Date(),
        }),
      );
      out(
        `Round ${o.round} reopened after version ${r[0]?.afterVersion} until ${r[0]?.deadline}: ` +
          `${r.map((a) => `${a.institutionId} (${a.kind === 'late' ? 'late' : 'correction'})`).join(', ')}.\n` +
          `They send with 'sectorbench node submit --late'; ` +
          `then run 'sectorbench coordinator round close --home ${o.home} --round ${o.round} --bundle NEW_DIR' and hand the bundle to the key holder.`,
      );
    });
}

function registerPublish(round: Command): void {
  round
    .command('publish')
    .description("publish the key holder's signed release (JSON, CSV and HTML)")
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--round <id>', 'round id')
    .requiredOption('--release <file>', 'signed release JSON from the key holder')
    .action(async (o: { home: string; round: string; release: string }) => {
      const { publishRelease } = await import('../rounds/publish-release.js');
      const release = readJsonFile(o.release, 'release');
      const r = await withHome(o.home, (h) => publishRelease({ db: h.db, roundId: o.round, release, now: new Date() }));
      out(
        `Published release version ${r.version} of round ${r.roundId} (digest ${r.digest}).\n` +
          `Served at /v1/rounds/${r.roundId}/release, release.csv and release.html.`,
      );
    });
}
