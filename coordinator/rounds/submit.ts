import { createHash } from 'node:crypto';
import type { Receipt } from '../../schemas/receipt.js';
import { validateCiphertext } from '../../shared/crypto/ciphertext-validate.js';
import type { Identity } from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { envelopeDigest, verifyEnvelope } from '../../shared/protocol/envelope.js';
import { signReceipt } from '../../shared/protocol/receipt.js';
import { type Contribution, MAX_ENVELOPE_BYTES, parseContribution } from '../../shared/protocol/wire.js';
import { CIPHERTEXT_BYTES } from '../../shared/crypto/he-params.js';
import { recordEvent, tx, type CoordinatorDb } from '../store/db.js';
import { excludedError } from './exclude.js';
import { checkLateWindow } from './reopen.js';
import { findExclusion } from '../store/exclusions.js';
import { recordDifference } from '../store/late.js';
import { advancePhases, failedError } from '../secagg/phases.js';
import { getInstitution, type Institution } from '../store/institutions.js';
import { getRound, isParticipant, type StoredRound } from '../store/rounds.js';
import {
  findSubmissionByDigest,
  insertReceipt,
  insertSubmission,
  nextSequence,
  submissionReceipt,
} from '../store/submissions.js';

/**
 * Largest contribution body accepted for a round: twice the expected ciphertext bytes plus the
 * largest envelope and the 12 framing bytes. Anything larger is refused (413) before it is read.
 */
export function contributionBodyLimit(ciphertextCount: number): number {
  return 2 * ciphertextCount * CIPHERTEXT_BYTES + MAX_ENVELOPE_BYTES + 12;
}

/** Input of {@link acceptContribution}. */
export interface AcceptContributionInput {
  db: CoordinatorDb;
  identity: Identity;
  roundId: string;
  /** The authenticated institution that sent the request. */
  institutionId: string;
  /** Wire format v1 bytes (shared/protocol/wire.ts). */
  wire: Uint8Array;
  /** The request's `sb-audit-head`, echoed into the receipt. */
  auditHead?: string | null;
  now: Date;
}

/** Outcome: `created` (new current submission, 201) or `existing` (the same envelope again, 200). */
export interface AcceptContributionResult {
  status: 'created' | 'existing';
  receipt: Receipt;
  /** True when the new submission replaced an earlier one of the institution. */
  replaced: boolean;
}

function checkOpen(round: StoredRound, now: Date): void {
  if (round.state !== 'open') {
    throw new SbError(
      'SB_ERR_ROUND_CLOSED',
      `round ${round.id} is ${round.state}; no contributions are accepted any more.`,
      { round_id: round.id, state: round.state },
    );
  }
  if (now.getTime() >= Date.parse(round.deadline)) {
    throw new SbError(
      'SB_ERR_DEADLINE_PASSED',
      `the deadline of round ${round.id} (${round.deadline}) has passed; no new contributions are accepted.`,
      { round_id: round.id, deadline: round.deadline },
    );
  }
}

/**
 * Accept one institution's contribution to a round (ARCHITECTURE.md "The round", step 2):
 * the round exists, the institution is a participant, the wire format parses, the ciphertexts
 * are well-formed and match the signed digests, the envelope is signed by the institution's
 * registered key and names this round, this institution, the manifest's codebook and BFV key
 * and the layout's ciphertext count; the round is open and before its deadline; the institution
 * was not excluded from the round (`SB_ERR_EXCLUDED` with the operator's reason, rounds/exclude.ts).
 * Every ciphertext is validated, transparent ones (c1 = 0) refused (`SB_ERR_CT_TRANSPARENT`).
 *
 * The same envelope again returns the stored receipt (idempotent); a new envelope replaces the
 * institution's current one (both stay recorded). A released round takes a contribution only
 * from an institution admitted by `round reopen`; a survivor's correction of a masked round is an
 * encrypted difference (new − old), recorded as such (`recordDifference`, event
 * `contribution.correction` with `difference: true`) so `round close` adds it to the masked
 * sum rather than replacing the masked input. The submission and its signed receipt are
 * committed in one transaction before this returns.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Data at rest"
 */
export function acceptContribution(input: AcceptContributionInput): AcceptContributionResult {
  const { db, roundId, institutionId, wire, now } = input;
  const round = getRound(db, roundId);
  const institution = checkContributor(db, roundId, institutionId);
  // Framing, envelope schema and ciphertext digests (cheap); coefficient validation below.
  const contribution = parseContribution(wire, { validate: false });
  const digest = envelopeDigest(contribution.envelope);

  const existing = findSubmissionByDigest(db, roundId, institutionId, digest);
  if (existing) {
    if (existing.supersededBy !== null) {
      throw new SbError(
        'SB_ERR_SUPERSEDED',
        `this envelope was replaced by a later submission (sequence ${existing.supersededBy}); ` +
          'it cannot become current again. Submit a new envelope.',
        { sequence: existing.sequence },
      );
    }
    return { status: 'existing', receipt: submissionReceipt(db, existing.id), replaced: false };
  }
  checkWindow(db, round, institutionId, now);
  verifyContribution(contribution, institution, round);

  const receivedAt = now.toISOString();
  const wireSha256 = createHash('sha256').update(wire).digest('hex');
  return tx(db, () => {
    // Re-check inside the write transaction: a close or a concurrent identical submission may have won.
    const excludedMeanwhile = findExclusion(db, roundId, institutionId);
    if (excludedMeanwhile) throw excludedError(excludedMeanwhile);
    const again = findSubmissionByDigest(db, roundId, institutionId, digest);
    if (again && again.supersededBy === null)
      return { status: 'existing' as const, receipt: submissionReceipt(db, again.id), replaced: false };
    const late = checkWindow(db, getRound(db, roundId), institutionId, now);
    // A late contribution to a masked round is an ordinary (unmasked) one outside the survivor set.
    if (round.manifest.secagg && !late) checkMaskedInputPhase(db, round, institutionId, now);
    const sequence = nextSequence(db, roundId);
    const replaced =
      (db
        .prepare('SELECT 1 FROM submissions WHERE round_id = ? AND institution_id = ? AND superseded_by IS NULL')
        .get(roundId, institutionId) ?? null) !== null;
    const receipt = storeSubmission(input, { digest, receivedAt, sequence, wireSha256 });
    // A survivor's correction of a masked round is a difference, added to the sum (DECISIONS 80).
    const difference = round.manifest.secagg !== undefined && late?.kind === 'correction';
    if (difference && late)
      recordDifference(db, roundId, {
        institutionId,
        sequence,
        envelopeDigest: digest,
        afterVersion: late.afterVersion,
      });
    recordEvent(db, {
      at: receivedAt,
      kind: late ? `contribution.${late.kind}` : replaced ? 'contribution.replaced' : 'contribution.accepted',
      roundId,
      institutionId,
      detail: {
        sequence,
        envelope_digest: digest,
        wire_bytes: wire.byteLength,
        ...(late ? { after_version: late.afterVersion } : {}),
        ...(difference ? { difference: true } : {}),
      },
    });
    // The masked-input phase ends as soon as every node of U2 has submitted.
    if (round.manifest.secagg && !late) advancePhases(db, round, now);
    return { status: 'created' as const, receipt, replaced };
  });
}

/**
 * The sender may contribute to the round: registered, not revoked, a participant and not
 * excluded (`SB_ERR_EXCLUDED` with the operator's reason). Returns the institution.
 */
function checkContributor(db: CoordinatorDb, roundId: string, institutionId: string): Institution {
  const institution = getInstitution(db, institutionId);
  if (!institution)
    throw new SbError('SB_ERR_UNKNOWN_INSTITUTION', `institution ${institutionId} is not registered.`, {
      institution_id: institutionId,
    });
  if (institution.revokedAt)
    throw new SbError('SB_ERR_INSTITUTION_REVOKED', `institution ${institutionId} was revoked.`, {
      institution_id: institutionId,
    });
  if (!isParticipant(db, roundId, institutionId)) {
    throw new SbError(
      'SB_ERR_NOT_PARTICIPANT',
      `institution ${institutionId} is not a participant of round ${roundId} (see the manifest's participants).`,
      { institution_id: institutionId, round_id: roundId },
    );
  }
  // Excluded (issue 13): told why on every further request, the acknowledged envelope included.
  const exclusion = findExclusion(db, roundId, institutionId);
  if (exclusion) throw excludedError(exclusion);
  return institution;
}

/**
 * The round takes the contribution now: open and before its deadline, or released with the
 * institution admitted late (rounds/reopen.ts), whose admission is returned; null otherwise.
 */
function checkWindow(db: CoordinatorDb, round: StoredRound, institutionId: string, now: Date) {
  if (round.state === 'released') return checkLateWindow(db, round, institutionId, now);
  checkOpen(round, now);
  return null;
}

/**
 * The envelope is signed by the institution's registered key and names this round, this
 * institution, the manifest's codebook and BFV key and the ciphertext count; every ciphertext
 * is well-formed and not transparent.
 */
function verifyContribution(contribution: Contribution, institution: Institution, round: StoredRound): void {
  const m = round.manifest;
  verifyEnvelope(contribution.envelope, new Uint8Array(Buffer.from(institution.ed25519PublicKey, 'base64')), {
    expect: {
      roundId: round.id,
      institutionId: institution.id,
      codebookDigest: m.codebook.digest,
      hePublicKeyDigest: m.he_public_key.digest,
      ciphertextCount: round.ciphertextCount,
    },
  });
  for (const [i, ct] of contribution.ciphertexts.entries())
    validateCiphertext(ct, { label: `ciphertext ${i} of ${institution.id}` });
}

/** Store the submission and its signed receipt (inside the caller's transaction); returns the receipt. */
function storeSubmission(
  input: AcceptContributionInput,
  s: { digest: string; receivedAt: string; sequence: number; wireSha256: string },
): Receipt {
  const { db, roundId, institutionId, wire } = input;
  const id = insertSubmission(db, {
    roundId,
    institutionId,
    envelopeDigest: s.digest,
    wire,
    wireSha256: s.wireSha256,
    receivedAt: s.receivedAt,
    sequence: s.sequence,
    auditHead: input.auditHead ?? null,
  });
  const receipt = signReceipt(
    {
      type: 'sectorbench.receipt',
      version: 1,
      round_id: roundId,
      institution_id: institutionId,
      envelope_digest: s.digest,
      wire_bytes: wire.byteLength,
      received_at: s.receivedAt,
      sequence: s.sequence,
      ...(input.auditHead ? { audit_head: input.auditHead } : {}),
    },
    input.identity.secretKey,
  );
  insertReceipt(db, id, receipt);
  return receipt;
}

/**
 * A masked round takes contributions only in its `masked_input` phase and only from the nodes
 * that shared their keys in time (U2): the others' masks could not be removed if they dropped.
 */
function checkMaskedInputPhase(db: CoordinatorDb, round: StoredRound, institutionId: string, now: Date): void {
  const state = advancePhases(db, round, now);
  if (state.failure) throw failedError(round.id, state.failure);
  if (state.current !== 'masked_input') {
    const early = state.current === 'advertise' || state.current === 'share';
    throw new SbError(
      early ? 'SB_ERR_SECAGG_PHASE_NOT_STARTED' : 'SB_ERR_SECAGG_PHASE_ENDED',
      early
        ? `round ${round.id} is in phase ${state.current}; the masked input is accepted once keys are shared. Run the node again later.`
        : `the masked-input phase of round ${round.id} has ended; this contribution is too late and the institution counts as dropped out.`,
      { phase: 'masked_input', current: state.current },
    );
  }
  if (!state.expected.includes(institutionId))
    throw new SbError(
      'SB_ERR_SECAGG_NOT_EXPECTED',
      `institution ${institutionId} did not share its keys in time in round ${round.id}, so its masked input cannot be accepted.`,
      { phase: 'masked_input' },
    );
}
