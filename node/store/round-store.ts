import { z } from 'zod';
import { RoundManifestSchema, type RoundManifest } from '../../schemas/manifest.js';
import { ReceiptSchema, type Receipt } from '../../schemas/receipt.js';
import { SbError } from '../../shared/errors/sb-error.js';
import type { VectorJson } from '../../shared/metrics/vector.js';
import type { NodeDb } from './node-db.js';

/** A stored contribution (the outbox, node-db.ts `submission`), with its receipt once it came. */
export interface StoredSubmission {
  id: number;
  envelopeDigest: string;
  /** The signed envelope as JSON text, exactly as stored. */
  envelopeJson: string;
  /** Wire format v1 bytes, resent as is until receipted. */
  wire: Buffer;
  wireBytes: number;
  receipt: Receipt | null;
}

const SubmissionRow = z.object({
  id: z.number().int(),
  envelope_digest: z.string(),
  envelope_json: z.string(),
  wire: z.instanceof(Buffer),
  wire_bytes: z.number().int(),
  receipt_json: z.string().nullable(),
});
const HeKeyRow = z.object({ digest: z.string(), public_key: z.instanceof(Buffer) });
const ManifestRow = z.object({ manifest_json: z.string() });
const VectorRow = z.object({ vector_json: z.string() });
const DigestRow = z.object({ envelope_digest: z.string() });
const ReceiptRow = z.object({ envelope_digest: z.string(), receipt_json: z.string() });
const SlotValues = z.record(z.string(), z.number());

/**
 * Vector JSON as `vectorToJson` writes it (shared/metrics/vector.ts `VectorJson`); its slots are
 * checked by `vectorFromJson`.
 */
const VectorJsonSchema: z.ZodType<VectorJson> = z
  .object({
    metric_spec: z.string(),
    studiejaar: z.string(),
    slots: z.array(z.string()),
    group_slots: z.array(z.string()),
    cells: z.record(z.string(), SlotValues),
    groups: z.record(z.string(), SlotValues),
    excluded_crebos: SlotValues.optional(),
    data_quality: SlotValues.optional(),
    institutions: z.number().optional(),
  })
  .catchall(z.unknown());

function corrupt(what: string, roundId: string): SbError {
  return new SbError(
    'SB_ERR_STORE_CORRUPT',
    `the stored ${what} of round ${roundId} in node.sqlite is damaged; restore the node's database ` +
      'from a backup (sectorbench node restore) or fetch the round again.',
    { round_id: roundId },
  );
}

/**
 * All SQL of the node's rounds (node-db.ts tables `round`, `round_he_key`, `submission`): the
 * verified manifest as fetched, the round key used for encryption, and the outbox of
 * contributions with their receipts. Reads are parsed with their schemas (manifest, receipt);
 * a stored value that does not parse is `SB_ERR_STORE_CORRUPT`, never an unchecked cast.
 */
export class RoundStore {
  constructor(private readonly db: NodeDb) {}

  /** Record the manifest of a round (already verified by the caller), replacing an earlier copy. */
  saveManifest(m: RoundManifest, at: Date): void {
    this.db
      .prepare(
        'INSERT INTO round (round_id, manifest_json, fetched_at) VALUES (?, ?, ?) ON CONFLICT(round_id) ' +
          'DO UPDATE SET manifest_json = excluded.manifest_json, fetched_at = excluded.fetched_at',
      )
      .run(m.round_id, JSON.stringify(m), at.toISOString());
  }

  /**
   * The stored manifest of a round, parsed with its schema, or undefined when none was fetched.
   * @throws SbError `SB_ERR_STORE_CORRUPT` when the stored JSON is not a manifest of this round
   */
  manifest(roundId: string): RoundManifest | undefined {
    const row = this.db.prepare('SELECT manifest_json FROM round WHERE round_id = ?').get(roundId);
    if (row === undefined) return undefined;
    const r = ManifestRow.safeParse(row);
    if (!r.success) throw corrupt('manifest', roundId);
    let json: unknown;
    try {
      json = JSON.parse(r.data.manifest_json);
    } catch {
      throw corrupt('manifest', roundId);
    }
    const p = RoundManifestSchema.safeParse(json);
    if (!p.success || p.data.round_id !== roundId) throw corrupt('manifest', roundId);
    return p.data;
  }

  /**
   * Every stored round other than `exceptRoundId` in which this node has a receipted contribution:
   * its manifest (schema-parsed, like {@link manifest}) and the vector it sent (JSON as stored).
   * For the series over studiejaren in a comparison (node/client/benchmark.ts).
   */
  roundsWithSentVector(
    exceptRoundId: string,
  ): { roundId: string; manifest: RoundManifest; vector: VectorJson | undefined }[] {
    const rows = this.db
      .prepare(
        `SELECT r.round_id FROM round r WHERE r.round_id <> ?
           AND EXISTS (SELECT 1 FROM submission s WHERE s.round_id = r.round_id AND s.receipt_json IS NOT NULL)
         ORDER BY r.round_id`,
      )
      .all(exceptRoundId)
      .map((r) => z.object({ round_id: z.string() }).parse(r).round_id);
    return rows.map((roundId) => {
      // Selected from the round table, so the manifest is there; read inside the caller's transaction.
      const manifest = this.manifest(roundId);
      if (!manifest) throw corrupt('manifest', roundId);
      return { roundId, manifest, vector: this.receiptedVector(roundId) };
    });
  }

  /** Record the round's BFV public key as used for encryption (for `audit verify --deep`). */
  saveHeKey(roundId: string, digest: string, publicKey: Uint8Array): void {
    this.db
      .prepare(
        'INSERT INTO round_he_key (round_id, digest, public_key) VALUES (?,?,?) ON CONFLICT(round_id) ' +
          'DO UPDATE SET digest = excluded.digest, public_key = excluded.public_key',
      )
      .run(roundId, digest, Buffer.from(publicKey));
  }

  /** The round key used for encryption, or undefined. */
  heKey(roundId: string): { digest: string; publicKey: Uint8Array } | undefined {
    const r = this.db.prepare('SELECT digest, public_key FROM round_he_key WHERE round_id = ?').get(roundId);
    if (r === undefined) return undefined;
    const p = HeKeyRow.safeParse(r);
    if (!p.success) throw corrupt('round key', roundId);
    return { digest: p.data.digest, publicKey: new Uint8Array(p.data.public_key) };
  }

  /** The round's latest stored contribution (receipted or not), or undefined. */
  latestSubmission(roundId: string): StoredSubmission | undefined {
    const r = this.db
      .prepare(
        'SELECT id, envelope_digest, envelope_json, wire, wire_bytes, receipt_json FROM submission WHERE round_id = ? ORDER BY id DESC LIMIT 1',
      )
      .get(roundId);
    if (r === undefined) return undefined;
    const p = SubmissionRow.safeParse(r);
    if (!p.success) throw corrupt('contribution', roundId);
    let receipt: Receipt | null = null;
    if (p.data.receipt_json !== null) {
      const rp = ReceiptSchema.safeParse(JSON.parse(p.data.receipt_json));
      if (!rp.success) throw corrupt('receipt', roundId);
      receipt = rp.data;
    }
    return {
      id: p.data.id,
      envelopeDigest: p.data.envelope_digest,
      envelopeJson: p.data.envelope_json,
      wire: p.data.wire,
      wireBytes: p.data.wire_bytes,
      receipt,
    };
  }

  /** Store a contribution before it is sent (inside the caller's transaction); returns its id. */
  insertSubmission(s: {
    roundId: string;
    envelopeDigest: string;
    envelopeJson: string;
    vectorJson: string;
    wire: Uint8Array;
    createdAt: Date;
  }): number {
    const info = this.db
      .prepare(
        'INSERT INTO submission (round_id, envelope_digest, envelope_json, vector_json, wire, wire_bytes, created_at) VALUES (?,?,?,?,?,?,?)',
      )
      .run(
        s.roundId,
        s.envelopeDigest,
        s.envelopeJson,
        s.vectorJson,
        Buffer.from(s.wire),
        s.wire.byteLength,
        s.createdAt.toISOString(),
      );
    return Number(info.lastInsertRowid);
  }

  /** Keep the coordinator's receipt of a stored contribution (already verified by the caller). */
  saveReceipt(id: number, receipt: Receipt, sentAt: Date): void {
    this.db
      .prepare('UPDATE submission SET sent_at = ?, receipt_json = ? WHERE id = ?')
      .run(sentAt.toISOString(), JSON.stringify(receipt), id);
  }

  /** Whether the coordinator receipted a contribution of this node to the round. */
  hasReceipt(roundId: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM submission WHERE round_id = ? AND receipt_json IS NOT NULL').get(roundId) !==
      undefined
    );
  }

  /**
   * The vector (vector JSON, shared/metrics/vector.ts; its slots are checked by the caller's
   * `vectorFromJson` against the codebook) of the latest receipted contribution to the round, or
   * undefined.
   * @throws SbError `SB_ERR_STORE_CORRUPT` when the stored text is not vector JSON
   */
  receiptedVector(roundId: string): VectorJson | undefined {
    const row = this.db
      .prepare(
        'SELECT vector_json FROM submission WHERE round_id = ? AND receipt_json IS NOT NULL ORDER BY id DESC LIMIT 1',
      )
      .get(roundId);
    if (row === undefined) return undefined;
    const r = VectorRow.safeParse(row);
    if (!r.success) throw corrupt('vector', roundId);
    let json: unknown;
    try {
      json = JSON.parse(r.data.vector_json);
    } catch {
      throw corrupt('vector', roundId);
    }
    const v = VectorJsonSchema.safeParse(json);
    if (!v.success) throw corrupt('vector', roundId);
    return v.data;
  }

  /** The envelope digest of the latest receipted contribution to the round, or undefined. */
  latestReceiptedDigest(roundId: string): string | undefined {
    const r = this.db
      .prepare(
        'SELECT envelope_digest FROM submission WHERE round_id = ? AND receipt_json IS NOT NULL ORDER BY id DESC LIMIT 1',
      )
      .get(roundId);
    return r === undefined ? undefined : DigestRow.parse(r).envelope_digest;
  }

  /** The envelope digest of every stored contribution (receipted or not), oldest first. */
  submissionDigests(): string[] {
    return this.db
      .prepare('SELECT envelope_digest FROM submission ORDER BY id')
      .all()
      .map((r) => DigestRow.parse(r).envelope_digest);
  }

  /**
   * Every stored receipt, oldest first, as stored JSON: `audit verify` checks each itself (a
   * tampered one is a finding there, not an error here).
   * @throws SyntaxError when a stored receipt is not JSON at all
   */
  storedReceipts(): { envelopeDigest: string; receipt: unknown }[] {
    const rows = this.db
      .prepare('SELECT envelope_digest, receipt_json FROM submission WHERE receipt_json IS NOT NULL ORDER BY id')
      .all()
      .map((r) => ReceiptRow.parse(r));
    return rows.map((r): { envelopeDigest: string; receipt: unknown } => ({
      envelopeDigest: r.envelope_digest,
      receipt: JSON.parse(r.receipt_json),
    }));
  }
}
