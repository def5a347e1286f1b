import { createHash } from 'node:crypto';
import { signDetached, verifyDetached } from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { canonicalBytes } from '../../shared/protocol/canonical.js';
import { auditLogHead, auditRows, insertAuditRow } from '../store/audit-log-store.js';
import type { NodeDb } from '../store/node-db.js';

/**
 * The node's audit log (issue 6; ARCHITECTURE.md "Audit"): an append-only table `audit_log` in
 * the node database. Entry `seq` (1, 2, …) has
 *
 * - `hash` = lower-case hex SHA-256 of the RFC 8785 JSON of
 *   `{seq, at, kind, round_id, payload, prev_hash}` (`round_id` null when the entry is not about
 *   a round);
 * - `prev_hash` = the previous entry's `hash`, {@link GENESIS_HASH} for entry 1;
 * - `signature` = the node's Ed25519 signature (purpose {@link AUDIT_PURPOSE}) over the 32 raw
 *   bytes of `hash`.
 *
 * The hash of the newest entry is the chain head; it travels (signed) in every request to the
 * coordinator and comes back in its receipts, so cutting off the newest entries is detectable.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Layers of protection", Audit
 */
export const AUDIT_PURPOSE = 'audit-entry';

/** `prev_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What each kind of entry records (payload fields in node/audit/README.md). */
export type AuditKind =
  | 'manifest_fetched'
  | 'preview'
  | 'approval'
  | 'envelope'
  | 'request'
  | 'receipt'
  | 'release_fetched'
  | 'refusal'
  | 'approver_added'
  | 'secagg_message'
  | 'secagg_ack'
  | 'secagg_relay'
  | 'secagg_outcome'
  | 'airgap_import';

/** Payload fields that are secret: kept in the local log, never shown, exported or sent. */
export const SECRET_FIELDS: readonly string[] = ['encryption_seed', 'secagg_self_seed', 'secagg_mask_secret_key'];

/** One stored entry. */
export interface AuditEntry {
  seq: number;
  at: string;
  kind: AuditKind | string;
  round_id: string | null;
  payload: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  signature: string;
}

/** The hash of an entry's content (see the module comment). */
export function entryHash(e: Pick<AuditEntry, 'seq' | 'at' | 'kind' | 'round_id' | 'payload' | 'prev_hash'>): string {
  return createHash('sha256')
    .update(
      canonicalBytes({
        seq: e.seq,
        at: e.at,
        kind: e.kind,
        round_id: e.round_id,
        payload: e.payload,
        prev_hash: e.prev_hash,
      }),
    )
    .digest('hex');
}

/** Sign an entry hash with the node's key. */
export function signEntryHash(hash: string, secretKey: Uint8Array): string {
  return Buffer.from(signDetached(AUDIT_PURPOSE, Buffer.from(hash, 'hex'), secretKey)).toString('base64');
}

/** Verify an entry's signature; false on any mismatch. */
export function verifyEntrySignature(hash: string, signature: string, publicKey: Uint8Array): boolean {
  if (!/^[0-9a-f]{64}$/.test(hash)) return false;
  return verifyDetached(
    AUDIT_PURPOSE,
    Buffer.from(hash, 'hex'),
    new Uint8Array(Buffer.from(signature, 'base64')),
    publicKey,
  );
}

/** The node identity that signs entries. */
export interface AuditSigner {
  secretKey: Uint8Array;
}

/** What a caller appends. */
export interface NewAuditEntry {
  kind: AuditKind;
  roundId?: string | null;
  payload: Record<string, unknown>;
  at?: Date;
}

/**
 * Append an entry to the log, hash-chained to the current head and signed. Runs in a
 * transaction (a savepoint when the caller already holds one), so an entry is written together
 * with the state change it records or not at all. Returns the stored entry.
 */
export function appendAudit(db: NodeDb, signer: AuditSigner, e: NewAuditEntry): AuditEntry {
  return db.transaction((): AuditEntry => {
    const last = auditLogHead(db);
    const payload = JSON.parse(JSON.stringify(e.payload)) as Record<string, unknown>;
    const entry = {
      seq: (last?.seq ?? 0) + 1,
      at: (e.at ?? new Date()).toISOString(),
      kind: e.kind,
      round_id: e.roundId ?? null,
      payload,
      prev_hash: last?.hash ?? GENESIS_HASH,
    };
    const hash = entryHash(entry);
    const signature = signEntryHash(hash, signer.secretKey);
    insertAuditRow(db, {
      seq: entry.seq,
      at: entry.at,
      kind: entry.kind,
      round_id: entry.round_id,
      payload_json: JSON.stringify(payload),
      prev_hash: entry.prev_hash,
      hash,
      signature,
    });
    return { ...entry, hash, signature };
  })();
}

/** The current chain head (hash of the newest entry), or undefined for an empty log. */
export function auditHead(db: NodeDb): string | undefined {
  return auditLogHead(db)?.hash;
}

/**
 * Read entries in stored order (by `seq`). A payload that is not JSON any more is returned as
 * `{ "__unparseable__": text }`, so verification reports it instead of crashing.
 */
export function readAudit(db: NodeDb, filter: { roundId?: string } = {}): AuditEntry[] {
  return auditRows(db, filter.roundId).map((r) => {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(r.payload_json) as Record<string, unknown>;
    } catch {
      payload = { __unparseable__: r.payload_json };
    }
    return {
      seq: r.seq,
      at: r.at,
      kind: r.kind,
      round_id: r.round_id,
      payload,
      prev_hash: r.prev_hash,
      hash: r.hash,
      signature: r.signature,
    };
  });
}

/** A copy of a payload with secret fields replaced, for anything a person or file sees. */
export function redactPayload(payload: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload))
    out[k] = SECRET_FIELDS.includes(k) ? '(geheim; alleen in het lokale log)' : v;
  return out;
}

/** SHA-256 hex of bytes or a string. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 hex of a JSON value's canonical bytes. */
export function canonicalDigest(value: unknown): string {
  return sha256Hex(canonicalBytes(value));
}

/** The round a coordinator path is about (`/v1/rounds/<id>/…`), or null. */
export function roundOfPath(path: string): string | null {
  const m = /^\/v1\/rounds\/([^/?]+)/.exec(path);
  return m ? decodeURIComponent(m[1] as string) : null;
}

/** Throw when the log holds no entries where some are required. */
export function requireAudit(entries: readonly AuditEntry[], home: string): void {
  if (entries.length === 0)
    throw new SbError(
      'SB_ERR_AUDIT_EMPTY',
      `the audit log in ${home} is empty: this node has not fetched, previewed or sent anything yet.`,
      { home },
    );
}
