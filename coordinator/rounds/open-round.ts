import { EndorsementFileSchema, type EndorsementFile } from '../../schemas/endorsement.js';
import { RoundManifestSchema, type RoundManifest } from '../../schemas/manifest.js';
import { RoundId } from '../../schemas/common.js';
import {
  maskingThresholdProblem,
  SECAGG_PHASES,
  type MaskingEndorsement,
  type SecAggManifest,
  type SecAggPhase,
} from '../../schemas/secagg.js';
import { bfvPublicKeyDigest } from '../../shared/crypto/bfv-keys.js';
import { PUBLIC_KEY_SHAPE, validateSealObject } from '../../shared/crypto/ciphertext-validate.js';
import { HE_PARAMS } from '../../shared/crypto/he-params.js';
import type { Identity } from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { codebookDigest, type Codebook } from '../../shared/metrics/codebook.js';
import { METRIC_SPEC } from '../../shared/metrics/slots.js';
import { layoutCiphertexts, SLOT_LAYOUT_VERSION } from '../../shared/protocol/layout.js';
import { signManifest, verifyEndorsementFile } from '../../shared/protocol/round-documents.js';
import { recordEvent, tx, type CoordinatorDb } from '../store/db.js';
import { listInstitutions } from '../store/institutions.js';
import { pinnedKeyHolder } from '../store/pins.js';
import { findRound, insertRound } from '../store/rounds.js';
import { formatZodIssues } from '../../shared/errors/zod-issues.js';

/** Input of {@link openRound}. */
export interface OpenRoundInput {
  db: CoordinatorDb;
  /** The coordinator's identity (signs the manifest). */
  identity: Identity;
  roundId: string;
  /** First year S of the studiejaar (`S-(S+1)`), or the label itself. */
  studiejaar: number | string;
  /** The round's codebook, or the path of its CSV file. */
  codebook: Codebook | string;
  /** The key holder's endorsement (`sectorbench keyholder endorse`). */
  endorsement: EndorsementFile | unknown;
  /** The key holder's BFV public key bytes (its digest is endorsed). */
  hePublicKey: Uint8Array;
  /**
   * Participating institution ids, as a check: they must be exactly the participants the key
   * holder endorsed (the manifest lists the endorsed participants, never others).
   */
  participants?: readonly string[];
  deadline: Date | string;
  /**
   * Masked rounds (the endorsement carries `masking_threshold`): the deadline of each phase but
   * the last (`unmask` ends at `deadline`). Default: the time from now to `deadline` split in
   * five equal parts.
   */
  phaseDeadlines?: Partial<Record<Exclude<SecAggPhase, 'unmask'>, Date | string>>;
  /** The coordinator's public base URL (the manifest points nodes at the BFV key there). */
  publicUrl: string;
  now: Date;
}

/** At most ten ids, then how many more. */
function shortList(ids: readonly string[]): string {
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more`;
}

function studiejaarLabel(s: number | string): string {
  const label = typeof s === 'number' ? `${s}-${s + 1}` : /^\d{4}$/.test(s) ? `${s}-${Number(s) + 1}` : s;
  if (!/^\d{4}-\d{4}$/.test(label) || Number(label.slice(5)) !== Number(label.slice(0, 4)) + 1) {
    throw new SbError('SB_ERR_USAGE', `studiejaar '${s}' is not a year like 2024 (or 2024-2025).`);
  }
  return label;
}

/**
 * Open a round: verify the key holder's endorsement against the pinned key-holder key and the
 * BFV public key's digest, check that every endorsed participant is registered here with the
 * same key, then build, sign (purpose `round-manifest`) and store the manifest with exactly the
 * endorsed participants, all in one transaction.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 1
 */
export async function openRound(input: OpenRoundInput): Promise<RoundManifest> {
  const { db } = input;
  if (!RoundId.safeParse(input.roundId).success)
    throw new SbError(
      'SB_ERR_USAGE',
      `'${input.roundId}' is not a round id (lower-case letters, digits and -, at most 63).`,
    );
  const studiejaar = studiejaarLabel(input.studiejaar);
  const codebook = typeof input.codebook === 'string' ? await readCodebookFile(input.codebook) : input.codebook;
  const { endorsement, heDigest } = verifiedEndorsement(input);
  const deadline = futureDeadline(input.deadline, input.now);
  const secagg = endorsement.masking ? secaggPart(input, endorsement.masking, deadline) : undefined;

  return tx(db, () => {
    if (findRound(db, input.roundId))
      throw new SbError('SB_ERR_ROUND_EXISTS', `round ${input.roundId} already exists; pick a new round id.`, {
        round_id: input.roundId,
      });
    const participants = endorsedParticipants(db, endorsement, input.participants);
    checkParticipantCount(participants.length, endorsement, secagg);
    const unsigned = unsignedManifest(input, {
      studiejaar,
      codebook,
      endorsement,
      heDigest,
      participants,
      deadline,
      secagg,
    });
    const manifest = RoundManifestSchema.parse(signManifest(unsigned, input.identity.secretKey));
    const at = input.now.toISOString();
    insertRound(db, {
      manifest,
      manifestJson: JSON.stringify(manifest),
      hePublicKey: input.hePublicKey,
      ciphertextCount: layoutCiphertexts(codebook),
      createdAt: at,
    });
    recordEvent(db, {
      at,
      kind: 'round.opened',
      roundId: input.roundId,
      detail: {
        participants: participants.length,
        deadline: manifest.deadline,
        ...(secagg ? { masking_threshold: secagg.threshold } : {}),
      },
    });
    return manifest;
  });
}

/**
 * The key holder's endorsement of this round, checked: its schema, the round id, its signature by
 * the pinned key-holder key, the HE parameters, and that the BFV public key given is the one it
 * endorses (by digest). Throws `SB_ERR_ENDORSEMENT` naming what is wrong and what to ask for.
 */
function verifiedEndorsement(input: OpenRoundInput): { endorsement: EndorsementFile; heDigest: string } {
  const { db } = input;
  const e = EndorsementFileSchema.safeParse(input.endorsement);
  if (!e.success) {
    throw new SbError(
      'SB_ERR_ENDORSEMENT',
      `the endorsement is not a key-holder endorsement file: ${formatZodIssues(e.error.issues)}.`,
    );
  }
  const endorsement = e.data;
  const keyHolderKey = pinnedKeyHolder(db);
  if (endorsement.round_id !== input.roundId) {
    throw new SbError(
      'SB_ERR_ENDORSEMENT',
      `the endorsement is for round ${endorsement.round_id}, not ${input.roundId}; ask the key holder to endorse this round.`,
    );
  }
  if (!verifyEndorsementFile(endorsement, keyHolderKey)) {
    throw new SbError(
      'SB_ERR_ENDORSEMENT',
      'the endorsement is not signed by the pinned key holder key; check the pinned fingerprint and ask the key holder for a new endorsement.',
    );
  }
  if (endorsement.he_params !== HE_PARAMS.id)
    throw new SbError(
      'SB_ERR_ENDORSEMENT',
      `the endorsement names HE parameters ${endorsement.he_params}, this coordinator uses ${HE_PARAMS.id}.`,
    );
  validateSealObject(input.hePublicKey, PUBLIC_KEY_SHAPE, { label: 'the round BFV public key' });
  const heDigest = bfvPublicKeyDigest(input.hePublicKey);
  if (heDigest !== endorsement.he_public_key_digest) {
    throw new SbError(
      'SB_ERR_ENDORSEMENT',
      `the BFV public key (digest ${heDigest}) is not the one the key holder endorsed (${endorsement.he_public_key_digest}); ` +
        `use the key file that came with the endorsement.`,
    );
  }
  return { endorsement, heDigest };
}

/** The round's deadline: an ISO date-time in the future, else `SB_ERR_USAGE`. */
function futureDeadline(value: OpenRoundInput['deadline'], now: Date): Date {
  const deadline = new Date(value);
  if (Number.isNaN(deadline.getTime()))
    throw new SbError('SB_ERR_USAGE', `deadline '${String(value)}' is not an ISO date-time.`);
  if (deadline.getTime() <= now.getTime())
    throw new SbError('SB_ERR_USAGE', `the deadline ${deadline.toISOString()} is not in the future.`);
  return deadline;
}

/**
 * The participants are exactly those the key holder endorsed (issue 11): the coordinator cannot
 * add one. Each must be registered here with the same key and not revoked; `asked` (the
 * operator's `--participants`), when given, must name the same set.
 */
function endorsedParticipants(
  db: CoordinatorDb,
  endorsement: EndorsementFile,
  asked: readonly string[] | undefined,
): RoundManifest['participants'] {
  const byId = new Map(listInstitutions(db).map((i) => [i.id, i]));
  const endorsedIds = endorsement.participants.map((p) => p.institution_id);
  if (asked) {
    const wanted = [...new Set(asked)].sort();
    const missing = wanted.filter((id) => !endorsedIds.includes(id));
    const left = endorsedIds.filter((id) => !wanted.includes(id));
    if (missing.length > 0 || left.length > 0)
      throw new SbError(
        'SB_ERR_ENDORSEMENT',
        `the participants asked for differ from the ${endorsedIds.length} the key holder endorsed (` +
          `${missing.length > 0 ? `not endorsed: ${shortList(missing)}` : ''}` +
          `${missing.length > 0 && left.length > 0 ? '; ' : ''}` +
          `${left.length > 0 ? `endorsed but left out: ${shortList(left)}` : ''}); ` +
          `ask the key holder to endorse exactly the participants of this round ('keyholder endorse --participants').`,
        { not_endorsed: missing, left_out: left },
      );
  }
  return endorsement.participants.map((p) => {
    const inst = byId.get(p.institution_id);
    if (!inst)
      throw new SbError(
        'SB_ERR_UNKNOWN_INSTITUTION',
        `participant ${p.institution_id} (${p.name}), endorsed by the key holder, is not registered here; ` +
          `add it with 'sectorbench coordinator institution add'.`,
        { institution_id: p.institution_id },
      );
    if (inst.revokedAt)
      throw new SbError(
        'SB_ERR_INSTITUTION_REVOKED',
        `participant ${p.institution_id} was revoked on ${inst.revokedAt}.`,
        {
          institution_id: p.institution_id,
        },
      );
    if (inst.ed25519PublicKey !== p.ed25519_public_key)
      throw new SbError(
        'SB_ERR_ENDORSEMENT',
        `participant ${p.institution_id} is registered here with another identity key (fingerprint ${inst.fingerprint}) ` +
          `than the key holder endorsed; ` +
          `one of the two enrolments is wrong. ` +
          `Compare fingerprints with the institution by phone.`,
        { institution_id: p.institution_id },
      );
    return { ...p };
  });
}

/** At least one participant, at most the endorsed `max_participants`, and a masking threshold that fits. */
function checkParticipantCount(
  n: number,
  endorsement: EndorsementFile,
  secagg: RoundManifest['secagg'] | undefined,
): void {
  if (n === 0)
    throw new SbError('SB_ERR_USAGE', 'a round needs at least one participant; register institutions first.');
  if (secagg) {
    const problem = maskingThresholdProblem(secagg.threshold, secagg.graph, n, endorsement.thresholds.min_institutions);
    if (problem) {
      throw new SbError(
        'SB_ERR_ENDORSEMENT',
        `the key holder endorsed masking threshold t = ${secagg.threshold}, which does not fit ${n} participants: ${problem}. ` +
          `Ask the key holder to endorse again with a masking threshold that fits (--masking-threshold).`,
        { participants: n, threshold: secagg.threshold },
      );
    }
  }
  if (n > endorsement.max_participants) {
    throw new SbError(
      'SB_ERR_ENDORSEMENT',
      `${n} participants, but the key holder endorsed at most ${endorsement.max_participants}; ask for an endorsement with a larger max_participants.`,
    );
  }
}

/** The manifest before the coordinator's signature (ARCHITECTURE.md "The round", step 1). */
function unsignedManifest(
  input: OpenRoundInput,
  m: {
    studiejaar: string;
    codebook: Codebook;
    endorsement: EndorsementFile;
    heDigest: string;
    participants: RoundManifest['participants'];
    deadline: Date;
    secagg: RoundManifest['secagg'] | undefined;
  },
): Omit<RoundManifest, 'coordinator_signature'> {
  const { codebook, endorsement, secagg } = m;
  const base = input.publicUrl.replace(/\/+$/, '');
  return {
    type: 'sectorbench.round-manifest',
    version: 1,
    round_id: input.roundId,
    studiejaar: m.studiejaar,
    metric_spec: METRIC_SPEC,
    slot_layout: SLOT_LAYOUT_VERSION,
    he_params: HE_PARAMS.id as RoundManifest['he_params'],
    codebook: {
      digest: codebookDigest(codebook),
      entries: codebook.entries.map((c) => ({
        crebo: c.crebo,
        name: c.name,
        niveau: c.niveau,
        sectorkamer_code: c.sectorkamerCode,
        sectorkamer_name: c.sectorkamerName,
      })),
    },
    thresholds: endorsement.thresholds,
    participants: m.participants,
    max_participants: endorsement.max_participants,
    deadline: m.deadline.toISOString(),
    he_public_key: { digest: m.heDigest, url: `${base}/v1/rounds/${input.roundId}/he-public-key` },
    key_holder_endorsement: { ed25519_public_key: endorsement.ed25519_public_key, signature: endorsement.signature },
    ...(secagg ? { secagg } : {}),
  };
}

/** The manifest's `secagg` part: threshold t as endorsed, phase deadlines (given or evenly split). */
function secaggPart(input: OpenRoundInput, masking: MaskingEndorsement, deadline: Date): SecAggManifest {
  const start = input.now.getTime();
  const span = deadline.getTime() - start;
  const deadlines = {} as Record<SecAggPhase, string>;
  let previous = start;
  SECAGG_PHASES.forEach((p, i) => {
    let at: number;
    if (p === 'unmask') at = deadline.getTime();
    else {
      const given = input.phaseDeadlines?.[p];
      at =
        given !== undefined ? new Date(given).getTime() : Math.floor(start + (span * (i + 1)) / SECAGG_PHASES.length);
      if (Number.isNaN(at))
        throw new SbError('SB_ERR_USAGE', `the ${p} deadline '${String(given)}' is not an ISO date-time.`);
    }
    if (at <= previous)
      throw new SbError(
        'SB_ERR_USAGE',
        `the ${p} deadline ${new Date(at).toISOString()} is not after the previous phase's (${new Date(previous).toISOString()}); ` +
          `phase deadlines must increase up to the round deadline.`,
      );
    deadlines[p] = new Date(at).toISOString();
    previous = at;
  });
  return {
    protocol: 'secagg-bonawitz-ccs17',
    threshold: masking.threshold,
    graph: masking.graph,
    reveal_public_key: masking.reveal_public_key,
    deadlines,
  };
}
