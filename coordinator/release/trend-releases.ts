/**
 * Which releases make up the series on a round's publication site (issue 16, "Trends"): for
 * the round's own studiejaar the release being shown, and for every earlier studiejaar the
 * newest release version of the round of that studiejaar published last on this coordinator.
 * Later studiejaren are left out, so a round's site shows the series as it stood up to that
 * round, and the newest round's site shows every published studiejaar.
 */
import { listRounds } from '../store/rounds.js';
import { findRelease, type StoredRelease } from '../store/releases.js';
import type { CoordinatorDb } from '../store/db.js';

/**
 * The releases of the series up to and including `shown`, oldest studiejaar first.
 * @param shown the release version the site is rendered for
 */
export function trendReleases(db: CoordinatorDb, shown: StoredRelease): StoredRelease[] {
  const own = shown.release.studiejaar;
  const byYear = new Map<string, StoredRelease>();
  for (const round of listRounds(db)) {
    const year = round.manifest.studiejaar;
    if (year >= own || round.id === shown.roundId) continue;
    const r = findRelease(db, round.id);
    if (!r) continue;
    const prev = byYear.get(year);
    // Two rounds of one studiejaar: the one published last (a re-run replaces the earlier one).
    if (!prev || r.publishedAt > prev.publishedAt) byYear.set(year, r);
  }
  return [...byYear.values(), shown].sort((a, b) => (a.release.studiejaar < b.release.studiejaar ? -1 : 1));
}
