import { join } from 'node:path';
import type { Thresholds } from '../../schemas/manifest.js';
import {
  setupLocalRound,
  type InstitutionData,
  type LocalNode,
  type LocalRound,
  type LocalRoundOptions,
} from '../../demo/local-round.js';
import { sampleDir } from './paths.js';
import type { Clock } from '../../shared/time/clock.js';

/** The three conformance institutions of ../shared/sample. */
export function sampleInstitutions(ids: readonly string[] = ['inst-1', 'inst-2', 'inst-3']): InstitutionData[] {
  return ids.map((id) => ({
    id,
    enrolments: join(sampleDir, id, 'enrolments.csv'),
    attendance: join(sampleDir, id, 'attendance.csv'),
  }));
}

/**
 * A real round on loopback for a test: key holder and coordinator homes in `dir`, the
 * coordinator listening on 127.0.0.1 port 0, one node home per institution with its data
 * imported and its key registered, the round open. Stop it with `round.stop()` (tap teardown).
 * With `tls` (or SB_TEST_TLS=1 for every round test) the coordinator serves https with a private
 * coalition CA that every node pins; `round.coordinator.dispatcher` trusts it for direct requests.
 */
export async function startRound(
  dir: string,
  o: {
    institutions?: InstitutionData[];
    thresholds?: Partial<Thresholds>;
    now?: Clock;
    codebook?: string;
    year?: number;
    /** Over real TLS on loopback; default: on when the environment has SB_TEST_TLS=1. */
    tls?: boolean;
  } & Pick<LocalRoundOptions, 'roundId' | 'maxParticipants' | 'masking'> = {},
): Promise<LocalRound> {
  return setupLocalRound({
    out: dir,
    codebook: o.codebook ?? join(sampleDir, 'codebook.csv'),
    institutions: o.institutions ?? sampleInstitutions(),
    year: o.year ?? 2024,
    thresholds: o.thresholds,
    now: o.now,
    roundId: o.roundId,
    maxParticipants: o.maxParticipants,
    tls: o.tls ?? process.env.SB_TEST_TLS === '1',
    ...(o.masking ? { masking: o.masking } : {}),
  });
}

/** The node of institution `id` in a round (throws if the round has none). */
export function nodeOf(round: LocalRound, id: string): LocalNode {
  const n = round.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id} in the round`);
  return n;
}
