import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { ReceiptSchema, type Receipt } from '../../schemas/receipt.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import { bfvPublicKeyDigest } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { vectorToJson } from '../../shared/metrics/vector.js';
import {
  buildEnvelope,
  type ContributionEnvelope,
  envelopeDigest,
  signEnvelope,
} from '../../shared/protocol/envelope.js';
import { isSignedReceipt } from '../../shared/protocol/receipt.js';
import { encodeContribution } from '../../shared/protocol/wire.js';
import { ROUTES } from '../../shared/protocol/routes.js';
import { type ApprovalCheck, requireApprovals } from '../audit/approval.js';
import { appendAudit, canonicalDigest, readAudit, sha256Hex } from '../audit/log.js';
import {
  computeLateVector,
  computeRoundVector,
  lateKind,
  type LateKind,
  type RoundVector,
} from '../audit/round-vector.js';
import { fetchManifestAudited, logRefusals, openAuditedSession, type AuditedSession } from '../audit/session.js';
import type { NodeConfig } from '../client/config.js';
import type { Response } from '../client/coordinator-client.js';
import { RoundStore, type StoredSubmission } from '../store/round-store.js';
import type { Clock } from '../../shared/time/clock.js';

export interface SubmitOptions {
  home: string;
  roundId: string;
  /** Must be the configured coordinator (the node talks to nothing else). */
  coordinatorUrl?: string;
  dispatcher?: Dispatcher;
  now?: Clock;
  sleep?: (ms: number) => Promise<void>;
  onPhase?: (phase: string) => void;
  /**
   * A late or corrected contribution to a released round the coordinator reopened for this
   * institution (issue 16, item 2): sent unmasked, after the round's deadline; a correction of a
   * masked round's contribution goes as the difference new − old (node/audit/round-vector.ts
   * `LateKind`). Needs a `preview --late` of exactly what is sent in the audit log (it states
   * that protection) and a late approval of it.
   */
  late?: boolean;
}

/**
 * Secure aggregation (issue 10; node/round/): turns the flattened vector into the masked input
 * before encryption, and says what to log so `audit verify --deep` can redo it. `secret` fields
 * go to the local log only (SECRET_FIELDS), `public` ones are shown to the privacy officer.
 */
export interface InputMasking {
  mask(slots: BigUint64Array): Promise<BigUint64Array>;
  log: { public: Record<string, unknown>; secret: Record<string, string> };
}

export interface SubmitResult {
  receipt: Receipt;
  envelopeDigest: string;
  wireBytes: number;
  ciphertexts: number;
  /** True when an unreceipted outbox entry was sent again instead of a new contribution. */
  resent: boolean;
}

/**
 * Accept a receipt or throw `SB_ERR_RECEIPT_INVALID`: the coordinator's signature (pinned key)
 * and that it acknowledges exactly this envelope.
 */
export function acceptReceipt(
  raw: unknown,
  config: NodeConfig,
  expected: { roundId: string; envelopeDigest: string },
): Receipt {
  const r = ReceiptSchema.safeParse(raw);
  if (!r.success)
    throw new SbError(
      'SB_ERR_RECEIPT_INVALID',
      'the coordinator sent a malformed receipt; the submission is kept in the outbox, run submit again to resend it.',
    );
  const ok = isSignedReceipt(
    r.data,
    new Uint8Array(Buffer.from(config.pinned.coordinator.ed25519_public_key, 'base64')),
  );
  if (
    !ok ||
    r.data.envelope_digest !== expected.envelopeDigest ||
    r.data.round_id !== expected.roundId ||
    r.data.institution_id !== config.institution_id
  ) {
    throw new SbError(
      'SB_ERR_RECEIPT_INVALID',
      [
        'the receipt is not signed by the pinned coordinator key or does not acknowledge this envelope;',
        'the submission is kept in the outbox. Contact the coordinator.',
      ].join(' '),
    );
  }
  return r.data;
}

/**
 * `sectorbench node submit`: fetch and verify the manifest, compute the vector with the round's
 * codebook, range-check, require the privacy officers' approval of exactly this vector
 * (issue 6), encrypt under the round key with a fresh secret seed, sign the envelope, store it in
 * the outbox and the audit log with the plaintext it encrypts, send it, verify and keep the
 * receipt. Every request, the envelope, the receipt and any refusal are logged
 * (node/audit/README.md).
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 2, and "Audit"
 */
export async function submitContribution(o: SubmitOptions): Promise<SubmitResult> {
  const s = await openAuditedSession(o);
  try {
    o.onPhase?.('manifest');
    const manifest = await fetchManifestAudited(s, o.roundId);
    if (o.late) {
      const kind = await logRefusals(s, 'submit', o.roundId, () => lateKind(s.db, manifest));
      return await submitWithSession(s, o.home, manifest, { onPhase: o.onPhase, late: kind });
    }
    if (manifest.secagg)
      throw s.refusal(
        'submit',
        o.roundId,
        new SbError(
          'SB_ERR_MASKED_ROUND',
          [
            `round ${o.roundId} is a masked round (secure aggregation):`,
            `take part with 'sectorbench node round --home DIR --round ${o.roundId}', which runs every phase.`,
            'Nothing was sent. (A late contribution to a released round that the coordinator reopened for',
            `this institution goes with --late, after 'node preview --late'.)`,
          ].join(' '),
        ),
      );
    return await submitWithSession(s, o.home, manifest, { onPhase: o.onPhase });
  } finally {
    s.close();
  }
}

/**
 * The submit steps on an open session with a verified manifest: resend an unreceipted outbox
 * entry as is, or compute, require approval, (mask,) encrypt, sign, store and log a new
 * contribution; send it; verify and keep the receipt. `masking` is the secure-aggregation step
 * of a masked round (node/round/).
 */
export async function submitWithSession(
  s: AuditedSession,
  home: string,
  manifest: RoundManifest,
  o: { onPhase?: (phase: string) => void; masking?: InputMasking; late?: LateKind },
): Promise<SubmitResult> {
  const now = s.now;
  const roundId = manifest.round_id;
  // A late contribution comes after the deadline by definition; the coordinator enforces its window.
  if (!o.late && Date.parse(manifest.deadline) < now().getTime()) {
    throw s.refusal(
      'submit',
      roundId,
      new SbError(
        'SB_ERR_ROUND_CLOSED',
        `the deadline of round ${roundId} (${manifest.deadline}) has passed; nothing was sent.`,
      ),
    );
  }
  const db = s.db;
  // An unreceipted entry (crash or network failure after storing) is resent as is: idempotent.
  const rounds = new RoundStore(db);
  const pending = rounds.latestSubmission(roundId);
  let entry: StoredSubmission;
  let resent = false;
  if (pending && pending.receipt === null) {
    entry = pending;
    resent = true;
  } else {
    entry = await logRefusals(s, 'submit', roundId, () =>
      prepareContribution(s, home, manifest, o.onPhase, o.masking, o.late),
    );
  }
  o.onPhase?.('send');
  let res: Response;
  try {
    // A coordinator under load answers 429/503 with Retry-After: wait as told, until the round's deadline.
    res = await s.client.send('POST', ROUTES.contributions(roundId), entry.wire, 'application/octet-stream', {
      deadline: new Date(manifest.deadline),
    });
  } catch (e) {
    throw s.refusal('send', roundId, e);
  }
  const receipt = await logRefusals(s, 'receipt', roundId, () =>
    acceptReceipt(JSON.parse(res.body.toString('utf8')), s.config, {
      roundId,
      envelopeDigest: entry.envelopeDigest,
    }),
  );
  db.transaction(() => {
    rounds.saveReceipt(entry.id, receipt, now());
    appendAudit(db, s.identity, {
      kind: 'receipt',
      roundId,
      at: now(),
      payload: { envelope_digest: entry.envelopeDigest, wire_bytes: receipt.wire_bytes, receipt },
    });
  })();
  return {
    receipt,
    envelopeDigest: entry.envelopeDigest,
    wireBytes: entry.wireBytes,
    ciphertexts: (JSON.parse(entry.envelopeJson) as { ciphertext_digests: string[] }).ciphertext_digests.length,
    resent,
  };
}

/**
 * A new contribution, stored and logged but not yet sent: compute the vector (or the late
 * difference), require its approval, encrypt and sign it, then keep it in the outbox and the
 * audit log in one transaction.
 */
async function prepareContribution(
  s: AuditedSession,
  home: string,
  manifest: RoundManifest,
  onPhase?: (phase: string) => void,
  masking?: InputMasking,
  late?: LateKind,
): Promise<StoredSubmission> {
  const { db, config } = s;
  onPhase?.('compute');
  // A `difference` (correction of a masked round) computes new − old: what leaves, and is approved.
  const rv = late
    ? computeLateVector(db, home, manifest, config.institution_id, late)
    : computeRoundVector(db, home, manifest, config.institution_id);
  onPhase?.('approval');
  if (late) requireLatePreview(db, manifest.round_id, rv.digest, home);
  const approvals = requireApprovals(db, config, {
    roundId: manifest.round_id,
    vectorDigest: rv.digest,
    home,
    late: late !== undefined,
  });
  onPhase?.('encrypt');
  const hePublicKey = await fetchRoundKey(s, manifest);
  const sealed = await encryptAndSign(s, manifest, rv, hePublicKey, masking);
  const id = storeContribution(s, manifest, { rv, hePublicKey, sealed, approvals, masking, late });
  return {
    id,
    envelopeDigest: sealed.digest,
    envelopeJson: JSON.stringify(sealed.envelope),
    wire: Buffer.from(sealed.wire),
    wireBytes: sealed.wire.byteLength,
    receipt: null,
  };
}

/** A contribution encrypted, signed and encoded for the wire, with the seed its randomness derives from. */
interface SealedContribution {
  envelope: ContributionEnvelope;
  digest: string;
  wire: Uint8Array;
  seed: Uint8Array;
}

/**
 * The round's BFV public key as the coordinator serves it, checked against the digest the key
 * holder endorsed in the manifest. Throws `SB_ERR_MANIFEST_INVALID` when they differ.
 */
async function fetchRoundKey(s: AuditedSession, manifest: RoundManifest): Promise<Uint8Array> {
  const keyRes = await s.client.send('GET', ROUTES.hePublicKey(manifest.round_id));
  const hePublicKey = new Uint8Array(keyRes.body);
  if (bfvPublicKeyDigest(hePublicKey) !== manifest.he_public_key.digest) {
    throw new SbError(
      'SB_ERR_MANIFEST_INVALID',
      [
        'the round key served by the coordinator does not match the digest the key holder endorsed;',
        'nothing was sent. Contact the coordinator.',
      ].join(' '),
    );
  }
  return hePublicKey;
}

/**
 * Encrypt the (masked) slots under the round key with a fresh seed, sign the envelope and encode
 * the wire form; throws `SB_ERR_PREVIEW_MISMATCH` when its size differs from the preview's.
 */
async function encryptAndSign(
  s: AuditedSession,
  manifest: RoundManifest,
  rv: RoundVector,
  hePublicKey: Uint8Array,
  masking: InputMasking | undefined,
): Promise<SealedContribution> {
  // A fresh secret seed per contribution; ciphertext i's randomness derives from (seed, i)
  // (shared/crypto/encrypt.ts). It stays in the local audit log only: with it, the ciphertexts
  // can be reproduced byte for byte (audit verify --deep), and it is as sensitive as the plaintext.
  const seed = new Uint8Array(randomBytes(32));
  // A masked round encrypts vector + self mask + pairwise masks (mod t), never the vector itself.
  const input = masking ? await masking.mask(rv.slots) : rv.slots;
  const ciphertexts = await encryptSlots(hePublicKey, input, { seed });
  const envelope = signEnvelope(
    buildEnvelope({
      roundId: manifest.round_id,
      institutionId: s.config.institution_id,
      codebookDigest: manifest.codebook.digest,
      hePublicKeyDigest: manifest.he_public_key.digest,
      ciphertexts,
      createdAt: s.now(),
    }),
    s.identity.secretKey,
  );
  const wire = encodeContribution({ envelope, ciphertexts });
  if (wire.byteLength !== rv.wireBytes) {
    throw new SbError(
      'SB_ERR_PREVIEW_MISMATCH',
      [
        `the contribution is ${wire.byteLength} bytes but the preview announced ${rv.wireBytes};`,
        'nothing was sent. This is a bug: report it.',
      ].join(' '),
    );
  }
  return { envelope, digest: envelopeDigest(envelope), wire, seed };
}

/**
 * Keep the round key, the outbox entry and the `envelope` audit entry (with the plaintext, the
 * approvals and the encryption seed, for `audit verify --deep`) in one transaction; returns the
 * outbox entry's id.
 */
function storeContribution(
  s: AuditedSession,
  manifest: RoundManifest,
  c: {
    rv: RoundVector;
    hePublicKey: Uint8Array;
    sealed: SealedContribution;
    approvals: ApprovalCheck;
    masking: InputMasking | undefined;
    late: LateKind | undefined;
  },
): StoredSubmission['id'] {
  const { db, identity, now } = s;
  const { rv, sealed, masking, late } = c;
  const { envelope, digest, wire } = sealed;
  const vectorJson = vectorToJson(rv.codebook, rv.computed.vector);
  const rounds = new RoundStore(db);
  return db.transaction(() => {
    rounds.saveHeKey(manifest.round_id, manifest.he_public_key.digest, c.hePublicKey);
    const stored = rounds.insertSubmission({
      roundId: manifest.round_id,
      envelopeDigest: digest,
      envelopeJson: JSON.stringify(envelope),
      vectorJson: JSON.stringify(vectorJson),
      wire,
      createdAt: now(),
    });
    appendAudit(db, identity, {
      kind: 'envelope',
      roundId: manifest.round_id,
      at: now(),
      payload: {
        envelope_digest: digest,
        envelope,
        vector_digest: rv.digest,
        vector: vectorJson,
        max_participants: manifest.max_participants,
        ciphertext_digests: envelope.ciphertext_digests,
        wire_bytes: wire.byteLength,
        wire_sha256: sha256Hex(wire),
        he_public_key_digest: manifest.he_public_key.digest,
        approvals: c.approvals.valid.map((a) => ({
          approver_name: a.approver_name,
          approver_public_key: a.approver_public_key,
          approval_digest: canonicalDigest(a),
        })),
        encryption_seed: Buffer.from(sealed.seed).toString('base64'),
        ...(late ? { late } : {}),
        // The vector corrected (its contribution is in the sum): `audit verify --deep` re-derives
        // the encrypted difference from it and `vector`; `vector` is what the node now stands for.
        ...(rv.difference
          ? {
              corrects: {
                envelope_digest: rv.difference.previousEnvelopeDigest,
                vector: rv.difference.previousVector,
              },
            }
          : {}),
        ...(masking ? { secagg: masking.log.public, ...masking.log.secret } : {}),
      },
    });
    return stored;
  })();
}

/**
 * A late contribution is sent only after a `preview --late` of exactly this vector was logged:
 * that preview states its protection (unmasked; node/audit/protection.ts). Throws
 * `SB_ERR_LATE_PREVIEW_MISSING` naming the command.
 */
function requireLatePreview(db: AuditedSession['db'], roundId: string, vectorDigest: string, home: string): void {
  const shown = readAudit(db, { roundId }).some(
    (e) => e.kind === 'preview' && e.payload.late !== undefined && e.payload.vector_digest === vectorDigest,
  );
  if (!shown)
    throw new SbError(
      'SB_ERR_LATE_PREVIEW_MISSING',
      [
        `a late contribution to round ${roundId} is sent unmasked and protected differently;`,
        `nothing was sent. Have a privacy officer read \`sectorbench node preview`,
        `--home ${home} --round ${roundId} --late\` (it states that protection) and approve,`,
        'then run submit --late again.',
      ].join(' '),
      { round_id: roundId, vector_digest: vectorDigest },
    );
}
