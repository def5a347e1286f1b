import type { Dispatcher } from 'undici';
import { ReceiptSchema, type Receipt } from '../../schemas/receipt.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import { bfvPublicKeyDigest } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { readIdentityFile } from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { vectorToJson } from '../../shared/metrics/vector.js';
import { buildEnvelope, envelopeDigest, signEnvelope } from '../../shared/protocol/envelope.js';
import { flatten } from '../../shared/protocol/layout.js';
import { manifestCodebook, manifestYear, PURPOSE } from '../../shared/protocol/round-documents.js';
import { verifyObject } from '../../shared/protocol/signed-object.js';
import { encodeContribution } from '../../shared/protocol/wire.js';
import { openNodeDb, type NodeDb } from '../store/node-db.js';
import { computeFromDb } from '../vector/node-vector.js';
import { identityPath, readNodeConfig, type NodeConfig } from './config.js';
import { CoordinatorClient } from './coordinator-client.js';
import { fetchManifest } from './manifest.js';

export interface SubmitOptions {
  home: string;
  roundId: string;
  /** Must be the configured coordinator (the node talks to nothing else). */
  coordinatorUrl?: string;
  dispatcher?: Dispatcher;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  onPhase?: (phase: string) => void;
}

export interface SubmitResult {
  receipt: Receipt;
  envelopeDigest: string;
  wireBytes: number;
  ciphertexts: number;
  /** True when an unreceipted outbox entry was sent again instead of a new contribution. */
  resent: boolean;
}

/** Open the node's client: config, identity and an HTTP client bound to the configured coordinator. */
export async function openClient(o: { home: string; coordinatorUrl?: string; dispatcher?: Dispatcher; now?: () => Date; sleep?: (ms: number) => Promise<void> }) {
  const config = readNodeConfig(o.home);
  if (o.coordinatorUrl && new URL(o.coordinatorUrl).origin !== new URL(config.coordinator_url).origin) {
    throw new SbError('SB_ERR_EGRESS', `--coordinator ${o.coordinatorUrl} is not the coordinator this node was enrolled with (${config.coordinator_url}); the node talks to nothing else. Re-enrol to change it.`);
  }
  const identity = await readIdentityFile(identityPath(o.home, config));
  const client = new CoordinatorClient({ baseUrl: config.coordinator_url, institutionId: config.institution_id, secretKey: identity.secretKey, dispatcher: o.dispatcher, now: o.now, sleep: o.sleep });
  return { config, identity, client };
}

/** Verify a receipt: the coordinator's signature (pinned key) and that it acknowledges exactly this envelope. */
export function verifyReceipt(raw: unknown, config: NodeConfig, expected: { roundId: string; envelopeDigest: string }): Receipt {
  const r = ReceiptSchema.safeParse(raw);
  if (!r.success) throw new SbError('SB_ERR_RECEIPT_INVALID', 'the coordinator sent a malformed receipt; the submission is kept in the outbox, run submit again to resend it.');
  const ok = verifyObject(PURPOSE.receipt, r.data as unknown as Record<string, unknown>, 'coordinator_signature', new Uint8Array(Buffer.from(config.pinned.coordinator.ed25519_public_key, 'base64')));
  if (!ok || r.data.envelope_digest !== expected.envelopeDigest || r.data.round_id !== expected.roundId || r.data.institution_id !== config.institution_id) {
    throw new SbError('SB_ERR_RECEIPT_INVALID', 'the receipt is not signed by the pinned coordinator key or does not acknowledge this envelope; the submission is kept in the outbox. Contact the coordinator.');
  }
  return r.data;
}

interface OutboxRow {
  id: number;
  envelope_digest: string;
  envelope_json: string;
  wire: Buffer;
  wire_bytes: number;
  receipt_json: string | null;
}

/**
 * `sectorbench node submit`: fetch and verify the manifest, compute the vector with the round's
 * codebook, range-check, encrypt under the round key, sign the envelope, store it in the outbox
 * with the plaintext it encrypts, send it, verify and keep the receipt.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 2
 */
export async function submitContribution(o: SubmitOptions): Promise<SubmitResult> {
  const now = o.now ?? (() => new Date());
  const { config, identity, client } = await openClient(o);
  const db = openNodeDb(o.home);
  try {
    o.onPhase?.('manifest');
    const manifest = await fetchManifest(client, db, config, identity.publicKey, o.roundId, now());
    if (Date.parse(manifest.deadline) < now().getTime()) {
      throw new SbError('SB_ERR_ROUND_CLOSED', `the deadline of round ${o.roundId} (${manifest.deadline}) has passed; nothing was sent.`);
    }
    // An unreceipted entry (crash or network failure after storing) is resent as is: idempotent.
    const pending = db.prepare('SELECT id, envelope_digest, envelope_json, wire, wire_bytes, receipt_json FROM submission WHERE round_id = ? ORDER BY id DESC LIMIT 1').get(o.roundId) as OutboxRow | undefined;
    let entry: OutboxRow;
    let resent = false;
    if (pending && pending.receipt_json === null) {
      entry = pending;
      resent = true;
    } else {
      entry = await prepareContribution(db, o.home, config, identity.secretKey, manifest, client, now, o.onPhase);
    }
    o.onPhase?.('send');
    const res = await client.send('POST', `/v1/rounds/${encodeURIComponent(o.roundId)}/contributions`, entry.wire);
    const receipt = verifyReceipt(JSON.parse(res.body.toString('utf8')), config, { roundId: o.roundId, envelopeDigest: entry.envelope_digest });
    db.prepare('UPDATE submission SET sent_at = ?, receipt_json = ? WHERE id = ?').run(now().toISOString(), JSON.stringify(receipt), entry.id);
    return { receipt, envelopeDigest: entry.envelope_digest, wireBytes: entry.wire_bytes, ciphertexts: (JSON.parse(entry.envelope_json) as { ciphertext_digests: string[] }).ciphertext_digests.length, resent };
  } finally {
    db.close();
  }
}

async function prepareContribution(
  db: NodeDb,
  home: string,
  config: NodeConfig,
  secretKey: Uint8Array,
  manifest: RoundManifest,
  client: CoordinatorClient,
  now: () => Date,
  onPhase?: (phase: string) => void,
): Promise<OutboxRow> {
  onPhase?.('compute');
  const codebook = manifestCodebook(manifest);
  const computed = computeFromDb(db, home, codebook, manifestYear(manifest));
  const slots = flatten(codebook, computed.vector, { maxParticipants: manifest.max_participants });
  onPhase?.('encrypt');
  const keyRes = await client.send('GET', `/v1/rounds/${encodeURIComponent(manifest.round_id)}/he-public-key`);
  const hePublicKey = new Uint8Array(keyRes.body);
  if (bfvPublicKeyDigest(hePublicKey) !== manifest.he_public_key.digest) {
    throw new SbError('SB_ERR_MANIFEST_INVALID', `the round key served by the coordinator does not match the digest the key holder endorsed; nothing was sent. Contact the coordinator.`);
  }
  const ciphertexts = await encryptSlots(hePublicKey, slots);
  const envelope = signEnvelope(
    buildEnvelope({ roundId: manifest.round_id, institutionId: config.institution_id, codebookDigest: manifest.codebook.digest, hePublicKeyDigest: manifest.he_public_key.digest, ciphertexts, createdAt: now() }),
    secretKey,
  );
  const wire = encodeContribution({ envelope, ciphertexts });
  const digest = envelopeDigest(envelope);
  const vectorJson = vectorToJson(codebook, computed.vector);
  const info = db
    .prepare('INSERT INTO submission (round_id, envelope_digest, envelope_json, vector_json, wire, wire_bytes, created_at) VALUES (?,?,?,?,?,?,?)')
    .run(manifest.round_id, digest, JSON.stringify(envelope), JSON.stringify(vectorJson), Buffer.from(wire), wire.byteLength, now().toISOString());
  return { id: Number(info.lastInsertRowid), envelope_digest: digest, envelope_json: JSON.stringify(envelope), wire: Buffer.from(wire), wire_bytes: wire.byteLength, receipt_json: null };
}
