import { existsSync } from 'node:fs';
import { ApprovalSchema, type Approval } from '../../schemas/approval.js';
import type { Approver } from '../../schemas/config.js';
import {
  fingerprint,
  generateIdentity,
  readIdentityFile,
  readPublicIdentityFile,
  writeIdentityFiles,
  type Identity,
} from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { signObject, verifyObject } from '../../shared/protocol/signed-object.js';
import { identityPath, readNodeConfig, writeNodeConfig, type NodeConfig } from '../client/config.js';
import { approvalJsons, insertApproval } from '../store/approval-store.js';
import { openNodeDb, type NodeDb } from '../store/node-db.js';
import { appendAudit, canonicalDigest, readAudit, type AuditSigner } from './log.js';
import { computeLateVector, computeRoundVector, lateKind, storedManifest } from './round-vector.js';
import { type Clock, systemClock } from '../../shared/time/clock.js';

export type { Approval };

/** Signature purpose (domain separation) of approvals. */
export const APPROVAL_PURPOSE = 'approval';

/** Sign an approval with a privacy officer's identity. */
export function signApproval(
  a: {
    roundId: string;
    institutionId: string;
    vectorDigest: string;
    wireBytes: number;
    approverName: string;
    approvedAt?: Date;
    /** Approves sending the vector as a late, unmasked contribution (see `Approval.late`). */
    late?: boolean;
  },
  approver: Identity,
): Approval {
  const unsigned = {
    type: 'sectorbench.approval' as const,
    version: 1 as const,
    round_id: a.roundId,
    institution_id: a.institutionId,
    vector_digest: a.vectorDigest,
    wire_bytes: a.wireBytes,
    approved_at: (a.approvedAt ?? new Date()).toISOString(),
    approver_name: a.approverName,
    approver_public_key: Buffer.from(approver.publicKey).toString('base64'),
    ...(a.late ? { late: true as const } : {}),
  };
  return ApprovalSchema.parse(signObject(APPROVAL_PURPOSE, unsigned, 'signature', approver.secretKey));
}

/** Schema and signature (by the key named inside) of an approval; false on any mismatch. */
export function verifyApprovalSignature(a: unknown): a is Approval {
  const r = ApprovalSchema.safeParse(a);
  if (!r.success) return false;
  return verifyObject(
    APPROVAL_PURPOSE,
    r.data as unknown as Record<string, unknown>,
    'signature',
    new Uint8Array(Buffer.from(r.data.approver_public_key, 'base64')),
  );
}

/** Why one stored approval does not cover a contribution. */
export interface ApprovalMismatch {
  approver_public_key: string;
  reason: 'bad_signature' | 'unknown_approver' | 'other_round' | 'other_institution' | 'other_vector' | 'not_late';
}

/** Result of {@link evaluateApprovals}. */
export interface ApprovalCheck {
  ok: boolean;
  required: number;
  /** Distinct configured approvers whose valid approval covers exactly this round and vector. */
  valid: Approval[];
  rejected: ApprovalMismatch[];
}

/**
 * Which approvals cover a contribution: each must be signed by a configured approver (valid
 * signature), name this round, this institution and exactly this vector digest, and for a late
 * contribution (`want.late`) be a late approval. `ok` when at least `approvals_required`
 * distinct approvers do.
 */
export function evaluateApprovals(
  candidates: readonly unknown[],
  config: NodeConfig,
  want: { roundId: string; vectorDigest: string; late?: boolean },
): ApprovalCheck {
  const known = new Set(config.approvers.map((a) => a.ed25519_public_key));
  const valid = new Map<string, Approval>();
  const rejected: ApprovalMismatch[] = [];
  for (const c of candidates) {
    const key = String((c as { approver_public_key?: unknown })?.approver_public_key ?? '');
    if (!verifyApprovalSignature(c)) rejected.push({ approver_public_key: key, reason: 'bad_signature' });
    else if (!known.has(c.approver_public_key)) rejected.push({ approver_public_key: key, reason: 'unknown_approver' });
    else if (c.round_id !== want.roundId) rejected.push({ approver_public_key: key, reason: 'other_round' });
    else if (c.institution_id !== config.institution_id)
      rejected.push({ approver_public_key: key, reason: 'other_institution' });
    else if (c.vector_digest !== want.vectorDigest) rejected.push({ approver_public_key: key, reason: 'other_vector' });
    else if (want.late && c.late !== true) rejected.push({ approver_public_key: key, reason: 'not_late' });
    else valid.set(c.approver_public_key, c);
  }
  const required = config.approvals_required;
  return {
    ok: config.approvers.length >= required && valid.size >= required,
    required,
    valid: [...valid.values()],
    rejected,
  };
}

/** Every approval stored for a round (any vector), parsed. */
export function storedApprovals(db: NodeDb, roundId: string): unknown[] {
  return approvalJsons(db, roundId).map((j) => JSON.parse(j) as unknown);
}

/**
 * Refuse unless the stored approvals cover exactly this round and vector (used by `submit`).
 * Throws `SB_ERR_NO_APPROVERS` or `SB_ERR_APPROVAL_MISSING`, saying what is needed.
 */
export function requireApprovals(
  db: NodeDb,
  config: NodeConfig,
  want: { roundId: string; vectorDigest: string; home: string; late?: boolean },
): ApprovalCheck {
  if (config.approvers.length < config.approvals_required) {
    throw new SbError(
      'SB_ERR_NO_APPROVERS',
      [
        `this node needs ${config.approvals_required} approver(s) (privacy officers)`,
        `but has ${config.approvers.length};`,
      ].join(' ') +
        ` nothing was sent. Add one with \`sectorbench node approver add --home ${want.home} --name ` +
        'NAME --key FILE.pub`.',
      { required: config.approvals_required, configured: config.approvers.length },
    );
  }
  const check = evaluateApprovals(storedApprovals(db, want.roundId), config, want);
  if (!check.ok) {
    const rejected = check.rejected.map(
      (r) => `${r.reason.replace('_', ' ')} (${r.approver_public_key.slice(0, 12)}…)`,
    );
    const why = check.rejected.length ? ` Stored approvals that do not count: ${rejected.join(', ')}.` : '';
    const late = want.late ? ' --late' : '';
    throw new SbError(
      'SB_ERR_APPROVAL_MISSING',
      `round ${want.roundId}: ${check.valid.length} of ${check.required} required approval(s) cover ` +
        `the vector with digest ${want.vectorDigest}; nothing was sent.${why} Have a privacy officer ` +
        `read \`sectorbench node preview --home ${want.home} --round ${want.roundId}${late}\` and run ` +
        `\`sectorbench node approve --home ${want.home} --round ${want.roundId}${late} --key FILE\`.`,
      {
        roundId: want.roundId,
        vectorDigest: want.vectorDigest,
        valid: check.valid.length,
        required: check.required,
        rejected: check.rejected,
      },
    );
  }
  return check;
}

/**
 * Store an approval (verified) and log it. Idempotent for the same approver, round and vector; a
 * late approval replaces that approver's earlier one of the same vector (it covers strictly more).
 */
export function storeApproval(db: NodeDb, signer: AuditSigner, approval: Approval, now: Date): void {
  db.transaction(() => {
    const added = insertApproval(db, {
      roundId: approval.round_id,
      vectorDigest: approval.vector_digest,
      approverPublicKey: approval.approver_public_key,
      json: JSON.stringify(approval),
      storedAt: now.toISOString(),
      replace: approval.late === true,
    });
    if (added) {
      appendAudit(db, signer, {
        kind: 'approval',
        roundId: approval.round_id,
        at: now,
        payload: {
          approval,
          approval_digest: canonicalDigest(approval),
          approver_fingerprint: fingerprint(new Uint8Array(Buffer.from(approval.approver_public_key, 'base64'))),
        },
      });
    }
  })();
}

/** Options of {@link approveRound}. */
export interface ApproveOptions {
  home: string;
  roundId: string;
  /** The privacy officer's identity (secret) file. */
  approverKeyFile: string;
  /** The digest shown in the preview; when given, approval is refused if the data changed since. */
  expectDigest?: string;
  /**
   * Approve sending the vector as a late, unmasked contribution (after `preview --late`); it then
   * replaces this officer's earlier approval of the same vector, which was given under the masked
   * protection and does not cover a late submission.
   */
  late?: boolean;
  now?: Clock;
}

/**
 * `sectorbench node approve`: a privacy officer signs the digest of exactly the vector of a
 * round (recomputed from the dataset and the stored, verified manifest), after reading the
 * preview. The approver must be configured; the approval is stored and logged.
 */
export async function approveRound(
  o: ApproveOptions,
): Promise<{ approval: Approval; approvals: number; required: number }> {
  const now = o.now ?? systemClock;
  const config = readNodeConfig(o.home);
  const approver = await readIdentityFile(o.approverKeyFile);
  const nodeIdentity = await readIdentityFile(identityPath(o.home, config));
  const db = openNodeDb(o.home);
  try {
    const pk = Buffer.from(approver.publicKey).toString('base64');
    const entry = config.approvers.find((a) => a.ed25519_public_key === pk);
    const refuse = (code: string, message: string, details: Record<string, unknown> = {}): never => {
      appendAudit(db, nodeIdentity, {
        kind: 'refusal',
        roundId: o.roundId,
        at: now(),
        payload: { stage: 'approve', code, message, approver_fingerprint: fingerprint(approver.publicKey) },
      });
      throw new SbError(code, message, details);
    };
    if (!entry) {
      refuse(
        'SB_ERR_APPROVER_UNKNOWN',
        `the key in ${o.approverKeyFile} (fingerprint ${fingerprint(approver.publicKey)}) is not an ` +
          'approver of this node; nothing was approved. Add it first with `sectorbench node approver ' +
          `add --home ${o.home} --name NAME --key ${o.approverKeyFile}.pub\`.`,
      );
    }
    const manifest = storedManifest(db, o.roundId, o.home);
    // A late approval covers what a late submit sends: for a correction of a masked round, the difference.
    const rv = o.late
      ? computeLateVector(db, o.home, manifest, config.institution_id, lateKind(db, manifest))
      : computeRoundVector(db, o.home, manifest, config.institution_id);
    if (o.expectDigest !== undefined && o.expectDigest !== rv.digest) refuseDigest(db, o, rv.digest, refuse);
    const approval = signApproval(
      {
        roundId: o.roundId,
        institutionId: config.institution_id,
        vectorDigest: rv.digest,
        wireBytes: rv.wireBytes,
        approverName: (entry as Approver).name,
        approvedAt: now(),
        late: o.late === true,
      },
      approver,
    );
    storeApproval(db, nodeIdentity, approval, now());
    const check = evaluateApprovals(storedApprovals(db, o.roundId), config, {
      roundId: o.roundId,
      vectorDigest: rv.digest,
      late: o.late === true,
    });
    return { approval, approvals: check.valid.length, required: check.required };
  } finally {
    db.close();
  }
}

/**
 * Store an approval signed elsewhere (a privacy officer who signs on another machine). It must
 * verify and come from a configured approver; its round and digest are checked at submit.
 */
export async function importApproval(o: { home: string; approval: unknown; now?: Clock }): Promise<Approval> {
  const config = readNodeConfig(o.home);
  const approval = o.approval;
  if (!verifyApprovalSignature(approval))
    throw new SbError(
      'SB_ERR_APPROVAL_INVALID',
      'the approval is malformed or its signature does not verify; ask the privacy officer to sign it again.',
    );
  if (!config.approvers.some((a) => a.ed25519_public_key === approval.approver_public_key)) {
    throw new SbError(
      'SB_ERR_APPROVER_UNKNOWN',
      'the approval is signed by a key that is not an approver of this node; add the approver first.',
    );
  }
  const nodeIdentity = await readIdentityFile(identityPath(o.home, config));
  const db = openNodeDb(o.home);
  try {
    storeApproval(db, nodeIdentity, approval, (o.now ?? systemClock)());
    return approval;
  } finally {
    db.close();
  }
}

/** `sectorbench node approver keygen`: a privacy officer's identity file (0600) and `.pub`. */
export async function approverKeygen(out: string): Promise<{ publicKeyFile: string; fingerprint: string }> {
  if (existsSync(out))
    throw new SbError(
      'SB_ERR_KEY_EXISTS',
      `${out} exists; choose another file, an approver key is never overwritten.`,
      { out },
    );
  const id = generateIdentity();
  await writeIdentityFiles(id, out);
  return { publicKeyFile: `${out}.pub`, fingerprint: fingerprint(id.publicKey) };
}

/**
 * `sectorbench node approver add`: configure a privacy officer's public key (read its
 * fingerprint out to them). Logged; `approvalsRequired` sets four-eyes (2).
 */
export async function addApprover(o: {
  home: string;
  publicKeyFile: string;
  name: string;
  approvalsRequired?: 1 | 2;
  now?: Clock;
}): Promise<Approver> {
  const config = readNodeConfig(o.home);
  const pk = await readPublicIdentityFile(o.publicKeyFile);
  const approver: Approver = {
    name: o.name,
    ed25519_public_key: Buffer.from(pk).toString('base64'),
    fingerprint: fingerprint(pk),
  };
  if (config.approvers.some((a) => a.ed25519_public_key === approver.ed25519_public_key)) {
    throw new SbError(
      'SB_ERR_APPROVER_EXISTS',
      `this key (fingerprint ${approver.fingerprint}) is already an approver of this node.`,
    );
  }
  const next: NodeConfig = {
    ...config,
    approvers: [...config.approvers, approver],
    approvals_required: o.approvalsRequired ?? config.approvals_required,
  };
  const nodeIdentity = await readIdentityFile(identityPath(o.home, config));
  const db = openNodeDb(o.home);
  try {
    await writeNodeConfig(o.home, next);
    appendAudit(db, nodeIdentity, {
      kind: 'approver_added',
      at: (o.now ?? systemClock)(),
      payload: { approver, approvals_required: next.approvals_required },
    });
  } finally {
    db.close();
  }
  return approver;
}

/** `sectorbench node approver list`. */
export function listApprovers(home: string): { approvers: Approver[]; approvalsRequired: number } {
  const c = readNodeConfig(home);
  return { approvers: c.approvers, approvalsRequired: c.approvals_required };
}

/**
 * Why `--digest` does not match, told apart (issue 13: `--digest deadbeef` said "the data
 * changed"): not a digest at all, a digest no preview of this round showed (mistyped or from
 * another round), or the digest of an earlier preview whose data has changed since.
 */
function refuseDigest(
  db: NodeDb,
  o: ApproveOptions,
  current: string,
  refuse: (code: string, message: string, details?: Record<string, unknown>) => never,
): never {
  const given = (o.expectDigest ?? '').trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(given)) {
    refuse(
      'SB_ERR_APPROVAL_DIGEST_INVALID',
      `--digest '${o.expectDigest}' is not a digest: it must be the 64 hexadecimal characters the ` +
        `preview of round ${o.roundId} shows. Nothing was approved; copy the digest from \`sectorbench ` +
        `node preview --home ${o.home} --round ${o.roundId}\`.`,
    );
  }
  const previewed = readAudit(db, { roundId: o.roundId }).some(
    (e) => e.kind === 'preview' && e.payload.vector_digest === given,
  );
  if (!previewed) {
    refuse(
      'SB_ERR_APPROVAL_DIGEST_WRONG',
      `--digest ${given} was not shown by any preview of round ${o.roundId} on this node (mistyped,` +
        ` or from another round); the vector now has digest ${current}. Nothing was approved; read ` +
        'the preview again and copy its digest.',
      { digest: current },
    );
  }
  return refuse(
    'SB_ERR_APPROVAL_STALE',
    `the vector of round ${o.roundId} now has digest ${current}, not ${given} as in the preview ` +
      'you read: the data changed since that preview. Read a fresh preview before approving.',
    { digest: current },
  );
}
