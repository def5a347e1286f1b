import { EndorsementFileSchema, type EndorsementFile } from '../schemas/endorsement.js';
import { ThresholdsSchema, type Thresholds } from '../schemas/manifest.js';
import { RoundId } from '../schemas/common.js';
import { HE_PARAMS } from '../shared/crypto/he-params.js';
import { SbError } from '../shared/errors/sb-error.js';
import { canonicalBytes } from '../shared/protocol/canonical.js';
import { signEndorsement } from '../shared/protocol/round-documents.js';
import { loadKeyHolder } from './init.js';
import { KeyHolderStore } from './store/keyholder-store.js';
import { isoSeconds } from './time.js';
import { formatZodIssues } from '../shared/errors/zod-issues.js';
import { type Clock, systemClock } from '../shared/time/clock.js';

/** Options of {@link endorseRound}. */
export interface EndorseOptions {
  home: string;
  roundId: string;
  /** Upper bound on contributions (fixes the per-institution value bound); default 500. */
  maxParticipants?: number;
  /** Thresholds to enforce; missing fields take the defaults of ThresholdsSchema. */
  thresholds?: Partial<Thresholds>;
  now?: Clock;
}

/** The canonical JSON text of thresholds (how the log stores and compares them). */
export function thresholdsText(t: Thresholds): string {
  return new TextDecoder().decode(canonicalBytes(t));
}

/**
 * Endorse a round: sign the round id, HE parameters, this key holder's BFV public key digest,
 * `max_participants` and the disclosure thresholds it will enforce, and record the endorsement
 * in the log. The coordinator copies the public key and signature into the round manifest;
 * `releaseRound` later refuses a manifest that does not carry exactly an endorsement from here.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "The round", step 1
 */
export async function endorseRound(options: EndorseOptions): Promise<EndorsementFile> {
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
  const maxParticipants = options.maxParticipants ?? 500;
  const kh = await loadKeyHolder(options.home);
  const now = (options.now ?? systemClock)();
  const endorsement = EndorsementFileSchema.parse(
    signEndorsement(
      {
        type: 'sectorbench.key-holder-endorsement',
        version: 1,
        round_id: round.data,
        he_params: HE_PARAMS.id,
        he_public_key_digest: kh.hePublicKeyDigest,
        max_participants: maxParticipants,
        thresholds: t.data,
        endorsed_at: isoSeconds(now),
      },
      kh.identity,
    ),
  );
  const store = KeyHolderStore.open(kh.paths.dataDir);
  try {
    store.recordEndorsement({
      roundId: endorsement.round_id,
      hePublicKeyDigest: endorsement.he_public_key_digest,
      maxParticipants: endorsement.max_participants,
      thresholds: thresholdsText(endorsement.thresholds),
      endorsedAt: endorsement.endorsed_at,
      signature: endorsement.signature,
    });
  } finally {
    store.close();
  }
  return endorsement;
}
