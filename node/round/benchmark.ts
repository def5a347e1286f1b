import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { ReleaseSchema, type Release } from '../../schemas/release.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { makeDir } from '../../shared/fs/make-dir.js';
import { vectorFromJson } from '../../shared/metrics/vector.js';
import {
  manifestCodebook,
  manifestYear,
  releaseManifestMismatch,
  verifyRelease,
} from '../../shared/protocol/round-documents.js';
import { buildComparison, type Comparison } from '../report/comparison.js';
import { comparisonCsv, comparisonExcelCsv, comparisonJson } from '../report/comparison-files.js';
import { comparisonHtml } from '../report/comparison-html.js';
import { comparisonTrendHtml, trendPointOf, type ComparisonTrendPoint } from '../report/comparison-trend.js';
import type { AuditedSession } from '../audit/session.js';
import { appendAudit, canonicalDigest } from '../audit/log.js';
import { RoundStore } from '../store/round-store.js';
import { fetchManifestAudited, openAuditedSession } from '../audit/session.js';
import { computeFromDb } from '../vector/node-vector.js';
import { amsterdamTime } from '../../shared/pages/time-nl.js';
import { escapeHtml as esc } from '../../shared/pages/html.js';
import type { Clock } from '../../shared/time/clock.js';
import { ROUTES } from '../../shared/protocol/routes.js';
import { releaseDigest } from '../../shared/protocol/release-digest.js';
import { versionChanges, versionChangesHtml, type VersionChanges } from '../../shared/pages/version-changes.js';

export interface BenchmarkOptions {
  home: string;
  roundId: string;
  out: string;
  coordinatorUrl?: string;
  dispatcher?: Dispatcher;
  now?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

/** Verify a release against the pinned key-holder key and the round's manifest. */
export function verifyReleaseForNode(raw: unknown, keyHolderKeyB64: string, manifest: RoundManifest): Release {
  const r = ReleaseSchema.safeParse(raw);
  if (!r.success)
    throw new SbError(
      'SB_ERR_RELEASE_INVALID',
      `the release of round ${manifest.round_id} is malformed; ask the coordinator.`,
    );
  if (!verifyRelease(r.data, new Uint8Array(Buffer.from(keyHolderKeyB64, 'base64')))) {
    throw new SbError(
      'SB_ERR_RELEASE_SIGNATURE',
      [
        `the release of round ${manifest.round_id} is not signed by the key holder pinned at enrolment;`,
        'it was not used. Contact the coordinator and the key holder.',
      ].join(' '),
    );
  }
  const mismatch = releaseManifestMismatch(r.data, manifest);
  if (mismatch) {
    throw new SbError(
      'SB_ERR_RELEASE_INVALID',
      [
        `the release does not belong to round ${manifest.round_id} as this node knows it`,
        `(its ${mismatch.field} differs).`,
      ].join(' '),
      { field: mismatch.field },
    );
  }
  return r.data;
}

/** The files `writeBenchmark` writes, by kind: their paths under `out`. */
export interface BenchmarkFiles {
  html: string;
  csv: string;
  excel: string;
  json: string;
  release: string;
}

/** File names of the benchmark folder, by kind. */
const BENCHMARK_FILES: BenchmarkFiles = {
  html: 'benchmark.html',
  csv: 'benchmark.csv',
  excel: 'benchmark-excel.csv',
  json: 'benchmark.json',
  release: 'release.json',
};

/**
 * `sectorbench node benchmark`: fetch the signed release, verify it, and write the
 * institution's comparison (HTML and CSV) under `out`. Own figures are those of the
 * contribution this node sent (or, without one, computed from the dataset); they stay local.
 */
export async function writeBenchmark(o: BenchmarkOptions): Promise<
  BenchmarkFiles & {
    rows: number;
    releaseVersion: number;
    /** Version 2 or later: what changed against the version it replaces. */
    changes?: VersionChanges;
  }
> {
  const s = await openAuditedSession(o);
  const { db, config } = s;
  try {
    const rounds = new RoundStore(db);
    const manifest: RoundManifest = rounds.manifest(o.roundId) ?? (await fetchManifestAudited(s, o.roundId));
    const release = await fetchReleaseAudited(s, manifest);
    // A re-release (issue 16, item 2): fetch the version it replaces, check the chain, say what changed.
    const changes = release.release_version > 1 ? await previousVersionChanges(s, manifest, release) : undefined;
    const codebook = manifestCodebook(manifest);
    const sent = rounds.receiptedVector(o.roundId);
    const own =
      sent !== undefined
        ? vectorFromJson(codebook, sent)
        : computeFromDb(db, o.home, codebook, manifestYear(manifest)).vector;
    const comparison = buildComparison(codebook, own, release, {
      institutionId: config.institution_id,
      institutionName: config.institution_name,
      // The sector sum holds our vector only when the coordinator receipted our contribution.
      ownIncluded: sent !== undefined,
    });
    const html = await comparisonHtml(
      comparison,
      {
        keyHolderFingerprint: config.pinned.key_holder.fingerprint,
        generatedAt: amsterdamTime(s.now()),
        trendHtml: await trendSectionHtml(s, manifest, comparison),
        ...(changes ? { versionHtml: versionChangesHtml(changes) } : {}),
      },
      BENCHMARK_FILES,
    );
    const paths = writeBenchmarkFiles(o.out, { html, comparison, release });
    return {
      ...paths,
      rows: comparison.rows.length,
      releaseVersion: release.release_version,
      ...(changes ? { changes } : {}),
    };
  } finally {
    s.close();
  }
}

/**
 * The round's newest release, fetched, verified against the pinned key-holder key and the
 * manifest, and logged (`release_fetched`); a failure is logged as a refusal and rethrown.
 */
async function fetchReleaseAudited(s: AuditedSession, manifest: RoundManifest): Promise<Release> {
  let release: Release;
  try {
    release = verifyReleaseForNode(
      await s.client.getJson(ROUTES.release(manifest.round_id)),
      s.config.pinned.key_holder.ed25519_public_key,
      manifest,
    );
  } catch (e) {
    throw s.refusal('release', manifest.round_id, e);
  }
  logReleaseFetched(s, manifest.round_id, release, {
    ...(release.previous_release_digest ? { previous_release_digest: release.previous_release_digest } : {}),
  });
  return release;
}

/** The trend section of the comparison page: this round after the earlier ones, and the rounds left out. */
async function trendSectionHtml(s: AuditedSession, manifest: RoundManifest, comparison: Comparison): Promise<string> {
  const earlier = await earlierTrendPoints(s, manifest, s.config.institution_id, s.config.institution_name);
  const points = [...earlier.points, trendPointOf(comparison, manifest.metric_spec, manifest.codebook.digest)];
  const skippedList = earlier.skipped.map((x) => `ronde ${x.roundId} (${x.why})`).join('; ');
  const skipped = earlier.skipped.length ? `<p class="sup">Niet in de reeks: ${esc(skippedList)}.</p>` : '';
  return `${await comparisonTrendHtml(points, comparison.institution.name)}${skipped}`;
}

/** Write the page, the CSVs, the JSON and the release under `out` (created if missing); returns their paths. */
function writeBenchmarkFiles(
  out: string,
  w: { html: string; comparison: Comparison; release: Release },
): BenchmarkFiles {
  makeDir(out, 0o777, 'the benchmark folder', 'folder');
  const paths: BenchmarkFiles = {
    html: join(out, BENCHMARK_FILES.html),
    csv: join(out, BENCHMARK_FILES.csv),
    excel: join(out, BENCHMARK_FILES.excel),
    json: join(out, BENCHMARK_FILES.json),
    release: join(out, BENCHMARK_FILES.release),
  };
  writeFileSync(paths.html, w.html);
  writeFileSync(paths.csv, comparisonCsv(w.comparison));
  writeFileSync(paths.excel, comparisonExcelCsv(w.comparison));
  writeFileSync(paths.json, comparisonJson(w.comparison));
  writeFileSync(paths.release, `${JSON.stringify(w.release, null, 2)}\n`);
  return paths;
}

/**
 * The version a re-release replaces (`release_version - 1`), fetched and verified like the
 * release itself, its digest checked against `previous_release_digest` (the chain), the fetch
 * logged; and what changed between the two. Throws `SB_ERR_RELEASE_INVALID` when the chain is broken.
 */
async function previousVersionChanges(
  s: AuditedSession,
  manifest: RoundManifest,
  release: Release,
): Promise<VersionChanges> {
  const roundId = manifest.round_id;
  const want = release.release_version - 1;
  let previous: Release;
  try {
    previous = verifyReleaseForNode(
      await s.client.getJson(ROUTES.release(roundId, '', want)),
      s.config.pinned.key_holder.ed25519_public_key,
      manifest,
    );
    if (previous.release_version !== want || releaseDigest(previous) !== release.previous_release_digest)
      throw new SbError(
        'SB_ERR_RELEASE_INVALID',
        [
          `version ${release.release_version} of round ${roundId} names previous`,
          `digest ${String(release.previous_release_digest)}, but the coordinator served a`,
          `version ${previous.release_version} with another digest; the chain of versions is broken.`,
          'Contact the coordinator and the key holder.',
        ].join(' '),
      );
  } catch (e) {
    throw s.refusal('release', roundId, e);
  }
  logReleaseFetched(s, roundId, previous, { replaced_by_version: release.release_version });
  return versionChanges(previous, release);
}

/**
 * The series points of the studiejaren before `current`'s in which this node took part (a
 * receipted submission): per round its newest release, fetched and verified against that
 * round's manifest (each fetch in the audit log), and this node's sent vector. Two rounds of
 * one studiejaar: the release published last. Rounds whose release cannot be fetched or
 * verified are left out and named (`skipped`), never guessed.
 */
async function earlierTrendPoints(
  s: AuditedSession,
  current: RoundManifest,
  institutionId: string,
  institutionName: string | undefined,
): Promise<{ points: ComparisonTrendPoint[]; skipped: { roundId: string; why: string }[] }> {
  const rows = new RoundStore(s.db).roundsWithSentVector(current.round_id);
  const byYear = new Map<string, { point: ComparisonTrendPoint; publishedAt: string }>();
  const skipped: { roundId: string; why: string }[] = [];
  for (const row of rows) {
    const manifest = row.manifest;
    if (manifest.studiejaar >= current.studiejaar || row.vector === undefined) continue;
    let release: Release;
    try {
      release = verifyReleaseForNode(
        await s.client.getJson(ROUTES.release(row.roundId)),
        s.config.pinned.key_holder.ed25519_public_key,
        manifest,
      );
    } catch (e) {
      s.refusal('release', row.roundId, e);
      skipped.push({
        roundId: row.roundId,
        why:
          e instanceof SbError && e.code === 'SB_ERR_RELEASE_SIGNATURE'
            ? 'handtekening klopt niet'
            : 'publicatie niet opgehaald of ongeldig',
      });
      continue;
    }
    logReleaseFetched(s, row.roundId, release);
    const codebook = manifestCodebook(manifest);
    const c = buildComparison(codebook, vectorFromJson(codebook, row.vector), release, {
      institutionId,
      institutionName,
      ownIncluded: true,
    });
    const prev = byYear.get(manifest.studiejaar);
    if (!prev || release.published_at > prev.publishedAt)
      byYear.set(manifest.studiejaar, {
        point: trendPointOf(c, release.metric_spec, release.codebook_digest),
        publishedAt: release.published_at,
      });
  }
  const points = [...byYear.values()]
    .map((x) => x.point)
    .sort((a, b) => (a.year.studiejaar < b.year.studiejaar ? -1 : 1));
  return { points, skipped };
}

/** The audit entry of a verified release this node fetched (digest, version, signature; no figures). */
function logReleaseFetched(
  s: AuditedSession,
  roundId: string,
  release: Release,
  extra: Record<string, unknown> = {},
): void {
  appendAudit(s.db, s.identity, {
    kind: 'release_fetched',
    roundId,
    at: s.now(),
    payload: {
      release_digest: canonicalDigest(release),
      release_version: release.release_version,
      key_holder_signature: release.key_holder_signature,
      ...extra,
    },
  });
}
