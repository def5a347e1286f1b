import { EndorsementFileSchema, type EndorsementFile } from '../schemas/endorsement.js';
import { ThresholdsSchema, type Participant, type Thresholds } from '../schemas/manifest.js';
import { RoundId } from '../schemas/common.js';
import { HE_PARAMS } from '../shared/crypto/he-params.js';
import { SbError } from '../shared/errors/sb-error.js';
import { canonicalBytes } from '../shared/protocol/canonical.js';
import { signEndorsement } from '../shared/protocol/round-documents.js';
import { loadKeyHolder } from './init.js';
import { endorsedParticipants } from './participants.js';
import { KeyHolderStore } from './store/keyholder-store.js';
import { isoSeconds } from './time.js';
import { formatZodIssues } from '../shared/errors/zod-issues.js';
import { type Clock, systemClock } from '../shared/time/clock.js';
import { createRevealKey } from './reveal-keys.js';
import { defaultThreshold, sparseDegree } from '../shared/secagg/index.js';
import { maskingThresholdProblem, type MaskGraph } from '../schemas/secagg.js';

/** Options of {@link endorseRound}. */
export interface EndorseOptions {
  home: string;
  roundId: string;
  /** Upper bound on contributions (fixes the per-institution value bound); default 500. */
  maxParticipants?: number;
  /** Thresholds to enforce; missing fields take the defaults of ThresholdsSchema. */
  thresholds?: Partial<Thresholds>;
  /** Ids of the enrolled institutions taking part; default every enrolled one (keyholder/participants.ts). */
  participants?: readonly string[];
  /**
   * Secure aggregation (issue 10): endorse a masked round over the endorsed participants with
   * Shamir threshold `threshold` (default `defaultThreshold` of shared/secagg:
   * max(ceil(2m/3), min_institutions) of the m shareholders per node). Without it the
   * endorsement is for an unmasked round. `participants`, if given, must equal the number of
   * endorsed participants (a check).
   */
  masking?: { participants?: number; threshold?: number; graph?: MaskGraph };
  now?: Clock;
}

/**
 * The default mask graph: complete up to 100 participants; above, the sparse graph of Bell et
 * al. (CCS 2020) of even degree k, the larger of 4·log2(n) (rounded up to even) and the smallest
 * degree at which, with the default threshold t' of k + 1, 5 % colluding participants (besides
 * coordinator and key holder) unmask some institution, and 5 % dropouts fail the round, each with
 * probability at most 2^-40 over the ring order (shared/secagg/sparse-bound.ts `sparseDegree`;
 * 500 participants: degree 58, t' = 40 of 59; docs/DECISIONS.md).
 */
export function defaultMaskGraph(participants: number): MaskGraph {
  if (participants <= 100) return { kind: 'complete' };
  const k = Math.ceil(4 * Math.log2(participants));
  return { kind: 'harary', degree: Math.max(k % 2 === 0 ? k : k + 1, sparseDegree(participants)) };
}

/** The canonical JSON text of thresholds (how the log stores and compares them). */
export function thresholdsText(t: Thresholds): string {
  return new TextDecoder().decode(canonicalBytes(t));
}

/** The canonical JSON text of a participant list (how the log stores and compares it). */
export function participantsText(ps: readonly Participant[]): string {
  return new TextDecoder().decode(canonicalBytes(ps));
}

/**
 * Endorse a round: sign the round id, HE parameters, this key holder's BFV public key digest,
 * `max_participants`, the disclosure thresholds it will enforce and the participant list —
 * institutions it enrolled itself (`keyholder participant add`), with name, BRIN code and
 * identity key — and record the endorsement in the log. The coordinator copies the public key
 * and signature into the round manifest; `releaseRound` later refuses a manifest that does not
 * carry exactly an endorsement from here.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "The round", step 1
 */
export async function endorseRound(options: EndorseOptions): Promise<EndorsementFile> {
  const { roundId, thresholds } = checkedInputs(options);
  const maxParticipants = options.maxParticipants ?? 500;
  const kh = await loadKeyHolder(options.home);
  const now = (options.now ?? systemClock)();
  const store = KeyHolderStore.open(kh.paths.dataDir);
  try {
    const participants = endorsedParticipants(store, options.participants);
    if (participants.length > maxParticipants) {
      throw new SbError(
        'SB_ERR_USAGE',
        `${participants.length} participants, more than max_participants ${maxParticipants}; ` +
          'raise --max-participants or endorse fewer.',
      );
    }
    const masking = options.masking
      ? checkedMasking(options.masking, participants.length, thresholds.min_institutions)
      : undefined;
    const endorsement = EndorsementFileSchema.parse(
      signEndorsement(
        {
          type: 'sectorbench.key-holder-endorsement',
          version: 1,
          round_id: roundId,
          he_params: HE_PARAMS.id,
          he_public_key_digest: kh.hePublicKeyDigest,
          max_participants: maxParticipants,
          thresholds,
          participants,
          ...(masking
            ? {
                masking: {
                  ...masking,
                  reveal_public_key: Buffer.from(createRevealKey(kh.paths.dataDir, roundId)).toString('base64'),
                },
              }
            : {}),
          endorsed_at: isoSeconds(now),
        },
        kh.identity,
      ),
    );
    store.recordEndorsement({
      roundId: endorsement.round_id,
      hePublicKeyDigest: endorsement.he_public_key_digest,
      maxParticipants: endorsement.max_participants,
      thresholds: thresholdsText(endorsement.thresholds),
      endorsedAt: endorsement.endorsed_at,
      signature: endorsement.signature,
      participants: participantsText(endorsement.participants),
    });
    return endorsement;
  } finally {
    store.close();
  }
}

/** The round id and thresholds of an endorsement, checked before anything is opened. */
function checkedInputs(options: EndorseOptions): { roundId: string; thresholds: Thresholds } {
  const round = RoundId.safeParse(options.roundId);
  if (!round.success)
    throw new SbError(
      'SB_ERR_USAGE',
      `round id '${options.roundId}' is not valid: lower-case letters, digits and -, at most 63.`,
    );
  const t = ThresholdsSchema.safeParse(options.thresholds ?? {});
  if (!t.success) {
    throw new SbError(
      'SB_ERR_USAGE',
      `the thresholds are not valid (${formatZodIssues(t.error.issues)}); see ARCHITECTURE.md "Disclosure control".`,
    );
  }
  return { roundId: round.data, thresholds: t.data };
}

/**
 * The mask graph and Shamir threshold of a masked round over `n` endorsed participants
 * (defaults: {@link defaultMaskGraph}, `defaultThreshold` of shared/secagg), checked.
 */
function checkedMasking(
  asked: NonNullable<EndorseOptions['masking']>,
  n: number,
  minInstitutions: number,
): { threshold: number; graph: MaskGraph } {
  if (asked.participants !== undefined && asked.participants !== n) {
    throw new SbError(
      'SB_ERR_USAGE',
      `a masked round of ${asked.participants} participants was asked, but ${n} participant(s) are endorsed.`,
    );
  }
  if (n < 2) throw new SbError('SB_ERR_USAGE', `a masked round needs at least 2 participants; ${n} endorsed.`);
  const graph = asked.graph ?? defaultMaskGraph(n);
  const threshold =
    asked.threshold ?? defaultThreshold(graph.kind === 'complete' ? n : graph.degree + 1, minInstitutions);
  const problem = maskingThresholdProblem(threshold, graph, n, minInstitutions);
  if (problem) {
    throw new SbError('SB_ERR_USAGE', `masking threshold ${threshold} for ${n} participants: ${problem}.`, {
      participants: n,
      threshold,
    });
  }
  return { threshold, graph };
}
