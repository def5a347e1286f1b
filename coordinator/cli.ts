import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { readPublicIdentityFile } from '../shared/crypto/identity.js';
import { SbError } from '../shared/errors/sb-error.js';
import { openCoordinatorHome, type CoordinatorHome } from './home.js';
import { registerCoordinatorOpsCommands } from './ops/commands.js';

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}

async function withHome<T>(home: string, fn: (h: CoordinatorHome) => Promise<T> | T): Promise<T> {
  const h = await openCoordinatorHome(home);
  try {
    return await fn(h);
  } finally {
    h.db.close();
  }
}

function readJsonFile(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SbError('SB_ERR_USAGE', `cannot read ${what} ${path}: ${(e as Error).message}`, { path });
  }
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new SbError('SB_ERR_USAGE', `--port must be 0..65535, not '${value}'.`);
  return n;
}

/**
 * `sectorbench coordinator …`: what the coalition runs: init, pin the key holder, the
 * institution registry, rounds (open, status, close, publish) and the HTTP server.
 * @see ../../shared/spec/ARCHITECTURE.md "The round"
 */
export function registerCoordinatorCommands(program: Command): void {
  const c = program
    .command('coordinator')
    .description('the coordinator: institution registry, rounds, encrypted contributions and published benchmarks');

  c.command('init')
    .description('create a coordinator home: Ed25519 identity, coordinator.json, an empty database and optionally TLS')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .option('--public-url <url>', 'public base URL nodes use (default http(s)://HOST:PORT)')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port', '8443')
    .option(
      '--tls-ca [name]',
      "create a private coalition CA (nodes pin it) and a server certificate for the public URL's host",
    )
    .option('--tls-cert <file>', 'serve this TLS certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .action(
      async (o: {
        home: string;
        publicUrl?: string;
        host: string;
        port: string;
        tlsCa?: string | boolean;
        tlsCert?: string;
        tlsKey?: string;
      }) => {
        const { initCoordinator } = await import('./home.js');
        if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
          throw new SbError('SB_ERR_USAGE', '--tls-cert and --tls-key go together; give both, or --tls-ca.');
        if (o.tlsCert && o.tlsCa !== undefined)
          throw new SbError('SB_ERR_USAGE', 'give either --tls-ca or --tls-cert/--tls-key, not both.');
        const tls =
          o.tlsCa !== undefined
            ? { ca: { name: typeof o.tlsCa === 'string' ? o.tlsCa : undefined } }
            : o.tlsCert && o.tlsKey
              ? { certFile: o.tlsCert, keyFile: o.tlsKey }
              : undefined;
        const r = await initCoordinator({
          home: o.home,
          publicUrl: o.publicUrl,
          host: o.host,
          port: port(o.port),
          tls,
        });
        out(
          `Coordinator created in ${r.home}.\nIdentity: ${r.identityPath} (public key ${r.identityPath}.pub)\nFingerprint: ${r.fingerprint}\nRead this fingerprint to every institution and to the key holder when they pin the coordinator.`,
        );
        if (r.tls)
          out(
            r.tls.caFile
              ? `TLS: a private coalition CA (${r.home}/${r.tls.caFile}) and a server certificate for ${r.tls.names.join(', ')}.\nGive ${r.tls.caFile} to every institution with 'node init --coordinator-ca'; its SHA-256 fingerprint, to read out: ${r.tls.fingerprint}\nThe CA key ${r.tls.caFile.replace(/\.pem$/, '-key.pem')} (0600) is only needed to renew the server certificate; keep it off-line if you can.`
              : `TLS: serving ${r.tls.certFile} (valid for ${r.tls.names.join(', ') || 'the names in it'}).\nNodes pin its SHA-256 fingerprint with 'node init --coordinator-cert-sha256': ${r.tls.fingerprint}\n(or the CA that issued it, with --coordinator-ca).`,
          );
      },
    );

  c.command('pin-keyholder')
    .description("pin the key holder's Ed25519 key (compare the fingerprint with the key holder over the phone)")
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--key <file.pub>', "the key holder's public identity file")
    .option('--replace', 'replace a previously pinned key')
    .action(async (o: { home: string; key: string; replace?: boolean }) => {
      const { pinKeyHolder } = await import('./store/pins.js');
      const pk = await readPublicIdentityFile(o.key);
      const r = await withHome(o.home, (h) =>
        pinKeyHolder(h.db, { publicKey: pk, now: new Date(), replace: o.replace }),
      );
      out(
        `Pinned the key holder key.\nFingerprint: ${r.fingerprint}\nCompare it with the fingerprint the key holder reads out; if they differ, pin again with the right file.`,
      );
    });

  const inst = c.command('institution').description('the institution registry (Ed25519 public keys)');
  inst
    .command('add')
    .description("register an institution's node key")
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--id <id>', 'institution id')
    .requiredOption('--key <file.pub>', "the node's public identity file")
    .action(async (o: { home: string; id: string; key: string }) => {
      const { addInstitution } = await import('./store/institutions.js');
      const pk = await readPublicIdentityFile(o.key);
      const r = await withHome(o.home, (h) => addInstitution(h.db, { id: o.id, publicKey: pk, now: new Date() }));
      out(
        `Registered ${r.id}.\nFingerprint: ${r.fingerprint}\nCompare it with the fingerprint the institution reads out.`,
      );
    });
  inst
    .command('list')
    .description('list registered institutions')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .option('--json', 'print JSON')
    .action(async (o: { home: string; json?: boolean }) => {
      const { listInstitutions } = await import('./store/institutions.js');
      const list = await withHome(o.home, (h) => listInstitutions(h.db));
      if (o.json) return out(JSON.stringify(list, null, 2));
      if (!list.length) return out('No institutions registered.');
      for (const i of list)
        out(`${i.id.padEnd(12)} ${i.fingerprint}  added ${i.addedAt}${i.revokedAt ? `  REVOKED ${i.revokedAt}` : ''}`);
    });
  inst
    .command('revoke')
    .description("revoke an institution's key: its requests are refused from now on")
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--id <id>', 'institution id')
    .action(async (o: { home: string; id: string }) => {
      const { revokeInstitution } = await import('./store/institutions.js');
      const r = await withHome(o.home, (h) => revokeInstitution(h.db, { id: o.id, now: new Date() }));
      out(`Revoked ${r.id} (${r.revokedAt}).`);
    });

  const round = c.command('round').description('rounds: open, status, close, exclude, publish');
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
        const { openRound } = await import('./rounds/open-round.js');
        const { readBfvPublicKey } = await import('../shared/crypto/bfv-keys.js');
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
          `Opened round ${m.round_id} (${m.studiejaar}) with ${m.participants.length} participants until ${m.deadline}.\nManifest: ${m.he_public_key.url?.replace(/he-public-key$/, 'manifest')}`,
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
  round
    .command('status')
    .description('round status (counts only); all rounds without --round')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .option('--round <id>', 'round id')
    .option('--json', 'print JSON')
    .action(async (o: { home: string; round?: string; json?: boolean }) => {
      const { roundStatus } = await import('./rounds/status.js');
      const { listRounds } = await import('./store/rounds.js');
      const { listExclusions } = await import('./store/exclusions.js');
      const { lateAdmissions } = await import('./store/late.js');
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
      const { secaggStatus } = await import('./secagg/phases.js');
      const { findRound } = await import('./store/rounds.js');
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
          `${s.round_id} (${s.studiejaar}): ${s.state}; ${s.submitted} of ${s.participants} participants submitted (${s.submissions} submissions${s.excluded ? `, ${s.excluded} excluded` : ''}); deadline ${s.deadline}${s.closed_at ? `; closed ${s.closed_at}` : ''}; ${s.release_versions} release version(s)`,
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
            `  ${ph.phase.padEnd(12)} ${ph.state.padEnd(7)} until ${ph.deadline}; acted ${ph.acted.length}/${ph.expected.length}${ph.missing.length ? `; not yet: ${ph.missing.join(', ')}` : ''}`,
          );
      });
    });
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
      const { advanceRound } = await import('./secagg/phases.js');
      const st = await withHome(o.home, (h) => advanceRound(h.db, o.round, new Date(), { force: Boolean(o.force) }));
      out(`Round ${o.round}: phase now ${st.current_phase}.`);
      if (st.failure) {
        out(`FAILED CLOSED in ${st.failure.phase}: ${st.failure.code} — ${st.failure.message}`);
        process.exitCode = 3;
      }
    });
  round
    .command('close')
    .description('close a round: add the ciphertexts homomorphically and write the bundle for the key holder')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--round <id>', 'round id')
    .requiredOption('--bundle <dir>', 'folder to write the bundle to')
    .option('--force', 'close before the deadline although not every participant has submitted')
    .action(async (o: { home: string; round: string; bundle: string; force?: boolean }) => {
      const { closeRound } = await import('./rounds/close-round.js');
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
        `${what} round ${r.roundId}: ${r.contributions} of ${r.participants} participants contributed${r.excluded.length ? ` (excluded: ${r.excluded.join(', ')})` : ''}${r.late.length ? ` (late, unmasked: ${r.late.join(', ')})` : ''}.\nBundle for the key holder: ${r.bundleDir}${after !== undefined ? `\nIt carries the ${after} published version(s); the key holder signs version ${after + 1} from it (its audit covers every earlier version).` : ''}`,
      );
    });
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
      const { excludeContribution } = await import('./rounds/exclude.js');
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
        `Excluded ${r.institutionId} from round ${r.roundId}${r.sequence === null ? ' (it had not submitted)' : ` (its contribution, sequence ${r.sequence})`}: ${r.reason}
${r.institutionId} is told this reason on its next request.${
          r.needsReclose
            ? `
The round is closed: run 'sectorbench coordinator round close --home ${o.home} --round ${r.roundId} --bundle NEW_DIR' to sum without it, and hand the new bundle to the key holder.`
            : ''
        }`,
      );
    });
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
      const { reopenRound } = await import('./rounds/reopen.js');
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
        `Round ${o.round} reopened after version ${r[0]?.afterVersion} until ${r[0]?.deadline}: ${r.map((a) => `${a.institutionId} (${a.kind === 'late' ? 'late' : 'correction'})`).join(', ')}.\n` +
          `They send with 'sectorbench node submit --late'; then run 'sectorbench coordinator round close --home ${o.home} --round ${o.round} --bundle NEW_DIR' and hand the bundle to the key holder.`,
      );
    });
  round
    .command('publish')
    .description("publish the key holder's signed release (JSON, CSV and HTML)")
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--round <id>', 'round id')
    .requiredOption('--release <file>', 'signed release JSON from the key holder')
    .action(async (o: { home: string; round: string; release: string }) => {
      const { publishRelease } = await import('./rounds/publish-release.js');
      const release = readJsonFile(o.release, 'release');
      const r = await withHome(o.home, (h) => publishRelease({ db: h.db, roundId: o.round, release, now: new Date() }));
      out(
        `Published release version ${r.version} of round ${r.roundId} (digest ${r.digest}).\nServed at /v1/rounds/${r.roundId}/release, release.csv and release.html.`,
      );
    });

  c.command('import')
    .description(
      "air-gapped node: run the signed requests of a node's export file through the API and write the signed response file to carry back",
    )
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .argument('<file>', "the node's export file (….request.json)")
    .option('--out <file>', 'the response file (default: next to the export file, ….response.json)')
    .option('--max-age-days <days>', 'oldest carried request accepted, in days', '7')
    .action(async (file: string, o: { home: string; out?: string; maxAgeDays: string }) => {
      const days = Number(o.maxAgeDays);
      if (!Number.isFinite(days) || days <= 0 || days > 60)
        throw new SbError(
          'SB_ERR_USAGE',
          `--max-age-days must be a number of days from 1 to 60, not '${o.maxAgeDays}'.`,
        );
      const { importRequestFile } = await import('./airgap/import-file.js');
      const { loggerOptions } = await import('./server.js');
      const { pino } = await import('pino');
      const r = await withHome(o.home, (h) =>
        importRequestFile({
          h,
          file,
          ...(o.out ? { out: o.out } : {}),
          maxAgeSeconds: Math.round(days * 86400),
          logger: pino(loggerOptions(h.config.log_level)) as unknown as import('fastify').FastifyBaseLogger,
        }),
      );
      out(
        `Imported ${file} of institution ${r.institutionId}: ${r.ran} request(s) run, ${r.repeated} answered before.\n` +
          r.outcomes.map((l) => `  ${l}`).join('\n') +
          `\nAntwoordbestand om terug te brengen / response file to carry back: ${r.responseFile}`,
      );
    });

  c.command('serve')
    .description('run the coordinator HTTP server (graceful shutdown on SIGINT/SIGTERM)')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .option('--host <host>', 'listen address (default from coordinator.json)')
    .option('--port <port>', 'listen port (default from coordinator.json)')
    .action(async (o: { home: string; host?: string; port?: string }) => {
      const { startServer } = await import('./server.js');
      const { default: closeWithGrace } = await import('close-with-grace');
      const s = await startServer({
        home: o.home,
        host: o.host,
        port: o.port === undefined ? undefined : port(o.port),
      });
      out(`Coordinator listening on ${s.url} (OpenAPI at ${s.url}/docs).`);
      closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
        if (err) s.app.log.error({ err }, 'shutting down after an error');
        else s.app.log.info({ signal }, 'shutting down');
        await s.close();
      });
      await new Promise<void>((resolve) => s.app.server.once('close', () => resolve()));
    });

  registerCoordinatorOpsCommands(c);
}
