import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import type { Receipt } from '../../schemas/receipt.js';
import { maskInput, type MaskGraph, verifyAdvertisedKeys } from '../../shared/secagg/index.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import type { ContributionEnvelope } from '../../schemas/envelope.js';
import { bfvPublicKeyDigest } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { readIdentityFile } from '../../shared/crypto/identity.js';
import { itemAt } from '../../shared/arrays/checked-index.js';
import { isSbError, SbError } from '../../shared/errors/sb-error.js';
import { vectorFromJson, type VectorJson } from '../../shared/metrics/vector.js';
import { ciphertextDigest, envelopeDigest, verifyEnvelope } from '../../shared/protocol/envelope.js';
import { flatten, subModT } from '../../shared/protocol/layout.js';
import { isSignedReceipt } from '../../shared/protocol/receipt.js';
import { verifyAuditHeadAttestation, type AuditHeadAttestation } from '../../shared/protocol/audit-head.js';
import { manifestCodebook } from '../../shared/protocol/round-documents.js';
import { encodeContribution } from '../../shared/protocol/wire.js';
import { identityPath, readNodeConfig, type NodeConfig } from '../client/config.js';
import { openNodeDb, type NodeDb } from '../store/node-db.js';
import { RoundStore } from '../store/round-store.js';
import { evaluateApprovals } from './approval.js';
import {
  auditHead,
  canonicalDigest,
  entryHash,
  GENESIS_HASH,
  readAudit,
  sha256Hex,
  verifyEntrySignature,
  type AuditEntry,
} from './log.js';
import { vectorDigest } from '../../shared/protocol/vector-digest.js';
import { openAuditedSession } from './session.js';
import type { Clock } from '../../shared/time/clock.js';
import { ROUTES } from '../../shared/protocol/routes.js';

/** What `audit verify` can find. */
export type FindingKind =
  | 'edited'
  | 'bad_signature'
  | 'deleted'
  | 'reordered'
  | 'truncated'
  | 'receipt_invalid'
  | 'attestation_invalid'
  | 'inconsistent'
  | 'deep_mismatch'
  | 'unlogged_approver';

/** One problem, with a Dutch explanation for the privacy officer. */
export interface Finding {
  kind: FindingKind;
  seq?: number;
  message: string;
}

/** Bytes that left the node in one round, from the log alone (issue 6 "account for every byte"). */
export interface RoundAccounting {
  round_id: string;
  requests: number;
  /** Sum of the body bytes of every logged request of the round. */
  bytes_sent: number;
  contribution_posts: number;
  /** Sum of the body bytes of the logged contribution POSTs. */
  contribution_bytes: number;
  /** Envelopes logged (with their plaintext); their wire sizes summed. */
  envelopes: number;
  envelope_wire_bytes: number;
  /** The coordinator's receipts for them: `wire_bytes` summed (each envelope counted once). */
  receipted_bytes: number;
  /** Every contribution POST body matches a logged envelope's wire bytes (SHA-256). */
  posts_match_envelopes: boolean;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  head: string | null;
  findings: Finding[];
  receipts_checked: number;
  deep: { envelopes: number; ciphertexts: number } | null;
  accounting: RoundAccounting[];
  /** `online`: the newest head the coordinator saw before the check (null: none), or null offline. */
  coordinator: { head: string | null; seen_at: string | null; path: string | null } | null;
}

/** Inputs of {@link verifyAuditEntries} besides the entries. */
export interface VerifyInputs {
  /** The node's Ed25519 public key. */
  publicKey: Uint8Array;
  /** The coordinator's pinned key, to check receipts. */
  coordinatorKey: Uint8Array;
  /** Receipts known from anywhere (outbox, files kept elsewhere); the log's own are added. */
  receipts?: readonly unknown[];
  /** Chain heads written down elsewhere (e.g. by the privacy officer); each must be in the chain. */
  expectHeads?: readonly string[];
  /** Envelope digests in the outbox: each must have an `envelope` entry. */
  outboxEnvelopes?: readonly string[];
}

const short = (h: string) => `${h.slice(0, 12)}…`;

/**
 * Check the chain without any secret: every entry's hash and signature (edits, forged
 * signatures), `seq` continuity and `prev_hash` links (deletions, reordering), and every
 * receipt's `audit_head` (truncation: a head the coordinator signed must be in the chain, and
 * every receipt must be logged after it). Also checks each logged envelope against its digests.
 *
 * @see ./README.md
 */
export function verifyAuditEntries(
  entries: readonly AuditEntry[],
  inputs: VerifyInputs,
): { findings: Finding[]; receiptsChecked: number } {
  const index = new Map(entries.map((e, i) => [e.hash, i]));
  const receipts = receiptFindings(entries, inputs, index);
  const findings = [
    ...chainFindings(entries, inputs.publicKey, index),
    ...receipts.findings,
    ...missingHeadFindings(entries, inputs, index),
    ...envelopeFindings(entries),
  ];
  return { findings, receiptsChecked: receipts.checked };
}

/** Edits, forged signatures, deletions and reordering: each entry against its hash, key and predecessor. */
function chainFindings(
  entries: readonly AuditEntry[],
  publicKey: VerifyInputs['publicKey'],
  index: ReadonlyMap<string, number>,
): Finding[] {
  const findings: Finding[] = [];
  let prevSeq = 0;
  entries.forEach((e, i) => {
    if (entryHash(e) !== e.hash)
      findings.push({
        kind: 'edited',
        seq: e.seq,
        message: `regel ${e.seq} (${e.kind}) is gewijzigd: de inhoud past niet bij de opgeslagen hash.`,
      });
    else if (!verifyEntrySignature(e.hash, e.signature, publicKey))
      findings.push({
        kind: 'bad_signature',
        seq: e.seq,
        message: `regel ${e.seq} (${e.kind}) draagt geen geldige handtekening van de sleutel van deze node.`,
      });
    let gap = false;
    if (e.seq > prevSeq + 1) {
      gap = true;
      findings.push({
        kind: 'deleted',
        seq: e.seq,
        message: `regel(s) ${prevSeq + 1}${e.seq - 1 > prevSeq + 1 ? `–${e.seq - 1}` : ''} ontbreken (verwijderd).`,
      });
    } else if (e.seq <= prevSeq) {
      findings.push({
        kind: 'reordered',
        seq: e.seq,
        message: `regel ${e.seq} staat niet op zijn plaats (volgorde gewijzigd).`,
      });
    }
    const expected = i === 0 ? GENESIS_HASH : itemAt(entries, i - 1).hash;
    if (e.prev_hash !== expected) {
      const j = index.get(e.prev_hash);
      if (j !== undefined && j !== i - 1)
        findings.push({
          kind: 'reordered',
          seq: e.seq,
          message: `regel ${e.seq} hoort na regel ${itemAt(entries, j).seq} te staan: de volgorde is gewijzigd.`,
        });
      else if (!gap)
        findings.push({
          kind: 'deleted',
          seq: e.seq,
          message: `de regel vóór regel ${e.seq} ontbreekt of is vervangen (de keten is onderbroken).`,
        });
    }
    prevSeq = Math.max(prevSeq, e.seq);
  });
  return findings;
}

/**
 * Receipts, from the log and from outside it: each must be signed by the pinned coordinator key,
 * name a head that is in the log, and be logged itself (else the newest entries were cut off).
 */
function receiptFindings(
  entries: readonly AuditEntry[],
  inputs: VerifyInputs,
  index: ReadonlyMap<string, number>,
): { findings: Finding[]; checked: number } {
  const findings: Finding[] = [];
  const logged = entries.filter((e) => e.kind === 'receipt');
  const loggedReceiptKeys = new Set(logged.map((e) => receiptKey(e.payload.receipt)));
  const all = [...logged.map((e) => e.payload.receipt), ...(inputs.receipts ?? [])];
  const seen = new Set<string>();
  let checked = 0;
  for (const r of all) {
    const key = receiptKey(r);
    if (seen.has(key)) continue;
    seen.add(key);
    checked++;
    if (!isSignedReceipt(r, inputs.coordinatorKey)) {
      findings.push({
        kind: 'receipt_invalid',
        message: [
          'een ontvangstbewijs is niet geldig ondertekend door de vastgelegde coördinatorsleutel en telt',
          `niet mee (${key}).`,
        ].join(' '),
      });
      continue;
    }
    const receipt = r; // a Receipt: isSignedReceipt parsed it with its schema
    if (receipt.audit_head !== undefined && !index.has(receipt.audit_head)) {
      findings.push({
        kind: 'truncated',
        message:
          `het ontvangstbewijs van ronde ${receipt.round_id} (volgnummer ${receipt.sequence}) noemt logkop ` +
          `${short(receipt.audit_head)}, die niet in het log staat: de nieuwste regels zijn afgeknipt ` +
          'of vervangen.',
      });
    } else if (!loggedReceiptKeys.has(key)) {
      findings.push({
        kind: 'truncated',
        message:
          `het ontvangstbewijs van ronde ${receipt.round_id} (envelop ${short(receipt.envelope_digest)}) ` +
          'staat niet in het log: de nieuwste regels zijn afgeknipt.',
      });
    }
  }
  return { findings, checked };
}

/** Truncation seen from outside the log: heads written down elsewhere, envelopes in the outbox. */
function missingHeadFindings(
  entries: readonly AuditEntry[],
  inputs: VerifyInputs,
  index: ReadonlyMap<string, number>,
): Finding[] {
  const findings: Finding[] = [];
  for (const h of inputs.expectHeads ?? []) {
    if (!index.has(h))
      findings.push({
        kind: 'truncated',
        message: `de elders vastgelegde logkop ${short(h)} staat niet in het log: regels zijn afgeknipt of vervangen.`,
      });
  }
  const envelopes = new Set(entries.filter((e) => e.kind === 'envelope').map((e) => String(e.payload.envelope_digest)));
  for (const d of inputs.outboxEnvelopes ?? []) {
    if (!envelopes.has(d))
      findings.push({
        kind: 'truncated',
        message: `de verzendbak bevat envelop ${short(d)}, maar het log niet: regels ontbreken.`,
      });
  }
  return findings;
}

/** Each logged envelope against its own digests. */
function envelopeFindings(entries: readonly AuditEntry[]): Finding[] {
  const findings: Finding[] = [];
  for (const e of entries.filter((x) => x.kind === 'envelope')) {
    const env = e.payload.envelope as ContributionEnvelope | undefined;
    if (
      !env ||
      envelopeDigest(env) !== e.payload.envelope_digest ||
      JSON.stringify(env.ciphertext_digests) !== JSON.stringify(e.payload.ciphertext_digests)
    ) {
      findings.push({
        kind: 'inconsistent',
        seq: e.seq,
        message: `regel ${e.seq}: de gelogde envelop past niet bij zijn digests.`,
      });
    }
  }
  return findings;
}

function receiptKey(r: unknown): string {
  const x = r as Partial<Receipt> | undefined;
  let d: string;
  try {
    d = canonicalDigest(r).slice(0, 16);
  } catch {
    d = 'invalid';
  }
  return `ronde ${x?.round_id}, volgnummer ${x?.sequence}, ${d}`;
}

/** Bytes per round from the log alone. */
export function accountBytes(entries: readonly AuditEntry[]): RoundAccounting[] {
  const rounds = new Map<
    string,
    RoundAccounting & { wireShas: Set<string>; postShas: string[]; receipted: Map<string, number> }
  >();
  const get = (id: string) => {
    let r = rounds.get(id);
    if (!r) {
      r = {
        round_id: id,
        requests: 0,
        bytes_sent: 0,
        contribution_posts: 0,
        contribution_bytes: 0,
        envelopes: 0,
        envelope_wire_bytes: 0,
        receipted_bytes: 0,
        posts_match_envelopes: true,
        wireShas: new Set(),
        postShas: [],
        receipted: new Map(),
      };
      rounds.set(id, r);
    }
    return r;
  };
  for (const e of entries) {
    if (!e.round_id) continue;
    const r = get(e.round_id);
    if (e.kind === 'request') {
      const bytes = Number(e.payload.bytes ?? 0);
      r.requests++;
      r.bytes_sent += bytes;
      if (e.payload.method === 'POST' && /\/contributions$/.test(String(e.payload.path))) {
        r.contribution_posts++;
        r.contribution_bytes += bytes;
        r.postShas.push(String(e.payload.body_sha256));
      }
    } else if (e.kind === 'envelope') {
      r.envelopes++;
      r.envelope_wire_bytes += Number(e.payload.wire_bytes ?? 0);
      r.wireShas.add(String(e.payload.wire_sha256));
    } else if (e.kind === 'receipt') {
      r.receipted.set(
        String(e.payload.envelope_digest),
        Number((e.payload.receipt as Receipt | undefined)?.wire_bytes ?? 0),
      );
    }
  }
  return [...rounds.values()].map(({ wireShas, postShas, receipted, ...r }) => ({
    ...r,
    receipted_bytes: [...receipted.values()].reduce((a, b) => a + b, 0),
    posts_match_envelopes: postShas.every((s) => wireShas.has(s)),
  }));
}

/**
 * Re-encrypt each logged vector with its logged seed under the stored round key and compare
 * the ciphertexts with the digests that were signed, sent and receipted: proof that the
 * ciphertexts held exactly the logged figures (issue 6, part 4).
 */
export async function deepVerify(
  db: NodeDb,
  entries: readonly AuditEntry[],
  config: NodeConfig,
  nodePublicKey: Uint8Array,
): Promise<{ findings: Finding[]; envelopes: number; ciphertexts: number }> {
  const findings: Finding[] = [];
  let envelopes = 0;
  let cts = 0;
  const ctx = deepContext(db, entries, config, nodePublicKey);
  for (const e of entries) {
    if (e.kind !== 'envelope') continue;
    envelopes++;
    const bad = (message: string) =>
      findings.push({ kind: 'deep_mismatch', seq: e.seq, message: `regel ${e.seq} (ronde ${e.round_id}): ${message}` });
    cts += await deepVerifyEnvelope(ctx, e, bad);
  }
  return { findings, envelopes, ciphertexts: cts };
}

/** What the deep check of one envelope compares against: the rest of the log, the store, the keys. */
interface DeepContext {
  db: NodeDb;
  config: NodeConfig;
  nodePublicKey: Uint8Array;
  /** Body digests of the logged POST requests. */
  posts: Set<string>;
  /** Logged receipts by envelope digest. */
  receipts: Map<string, Receipt>;
  /** Digests of the manifests the node fetched and logged. */
  manifestDigests: Set<string>;
  approvalsLogged: unknown[];
  /** Canonical digest of the vector of every logged envelope, by envelope digest (a correction names the one it corrects). */
  envelopeVectors: Map<string, string>;
}

/** The payload of an `envelope` entry, secret fields included (they stay in the local log). */
interface LoggedEnvelope {
  envelope: ContributionEnvelope;
  envelope_digest: string;
  vector: VectorJson;
  vector_digest: string;
  max_participants: number;
  ciphertext_digests: string[];
  wire_bytes: number;
  wire_sha256: string;
  he_public_key_digest: string;
  encryption_seed?: string;
  secagg?: { shared: string[]; advertisements: unknown[]; graph: MaskGraph };
  secagg_self_seed?: string;
  secagg_mask_secret_key?: string;
  /** A correction of a masked round's contribution: the vector it corrects (new − old was sent). */
  corrects?: { envelope_digest: string; vector: VectorJson };
}

function deepContext(
  db: NodeDb,
  entries: readonly AuditEntry[],
  config: NodeConfig,
  nodePublicKey: Uint8Array,
): DeepContext {
  const posts = new Set(
    entries
      .filter((e) => e.kind === 'request' && e.payload.method === 'POST')
      .map((e) => String(e.payload.body_sha256)),
  );
  const receipts = new Map(
    entries
      .filter((e) => e.kind === 'receipt')
      .map((e) => [String(e.payload.envelope_digest), e.payload.receipt as Receipt]),
  );
  const manifestDigests = new Set(
    entries.filter((e) => e.kind === 'manifest_fetched').map((e) => String(e.payload.manifest_digest)),
  );
  const approvalsLogged = entries.filter((e) => e.kind === 'approval').map((e) => e.payload.approval);
  const envelopeVectors = new Map(
    entries
      .filter((e) => e.kind === 'envelope')
      .map((e) => [String(e.payload.envelope_digest), canonicalDigest(e.payload.vector)]),
  );
  return { db, config, nodePublicKey, posts, receipts, manifestDigests, approvalsLogged, envelopeVectors };
}

/**
 * The deep check of one envelope entry; reports through `bad` and returns the number of
 * ciphertexts it re-encrypted (0 when it could not get that far).
 */
async function deepVerifyEnvelope(ctx: DeepContext, e: AuditEntry, bad: (message: string) => void): Promise<number> {
  const p = e.payload as unknown as LoggedEnvelope;
  const stored = storedRound(ctx.db, e);
  if (stored === 'corrupt') {
    bad('het opgeslagen rondedocument of de rondesleutel is beschadigd; diepe controle niet mogelijk.');
    return 0;
  }
  const { manifest, key } = stored;
  const roundId = e.round_id; // never null when a manifest was found (storedRound)
  if (!manifest || !key || !p.encryption_seed || roundId === null) {
    bad(
      'het rondedocument, de rondesleutel of het zaadje van de versleuteling ontbreekt; diepe controle niet mogelijk.',
    );
    return 0;
  }
  if (!ctx.manifestDigests.has(canonicalDigest(manifest))) bad('het opgeslagen rondedocument is niet het gelogde.');
  if (bfvPublicKeyDigest(key.publicKey) !== p.he_public_key_digest || key.digest !== p.he_public_key_digest) {
    bad('de opgeslagen rondesleutel is niet de sleutel waaronder versleuteld is.');
    return 0;
  }
  try {
    verifyEnvelope(p.envelope, ctx.nodePublicKey, {
      expect: { roundId: e.round_id ?? undefined, institutionId: ctx.config.institution_id },
    });
  } catch {
    bad('de envelop draagt geen geldige handtekening van deze node.');
  }
  let slots: BigUint64Array;
  try {
    const codebook = manifestCodebook(manifest);
    slots = flatten(codebook, vectorFromJson(codebook, p.vector), { maxParticipants: p.max_participants });
    if (p.corrects)
      slots = subModT(
        slots,
        flatten(codebook, vectorFromJson(codebook, p.corrects.vector), { maxParticipants: p.max_participants }),
      );
  } catch {
    bad('de gelogde vector past niet bij het codeboek van de ronde.');
    return 0;
  }
  if (p.corrects && ctx.envelopeVectors.get(p.corrects.envelope_digest) !== canonicalDigest(p.corrects.vector))
    bad('de gecorrigeerde bijdrage staat niet (met deze cijfers) eerder in het log.');
  const digest = vectorDigest({ codebookDigest: manifest.codebook.digest, studiejaar: manifest.studiejaar, slots });
  if (digest !== p.vector_digest) bad('de gelogde cijfers hebben niet de digest die is goedgekeurd en versleuteld.');
  if (!approvalsCover(ctx, e, roundId, digest))
    bad('de goedkeuringen waarop deze verzending steunt staan niet (geldig, voor precies deze cijfers) in het log.');
  // Masked round (issue 10): redo the masking from the logged plaintext, the node's round
  // secrets (secret fields of this entry) and the peers' logged, signed advertisements.
  if (p.secagg) {
    try {
      slots = remask(manifest, roundId, ctx.config.institution_id, slots, p);
    } catch (err) {
      bad(`het maskeren kan niet opnieuw worden uitgevoerd: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }
  const ciphertexts = await encryptSlots(key.publicKey, slots, {
    seed: new Uint8Array(Buffer.from(p.encryption_seed, 'base64')),
  });
  const digests = ciphertexts.map(ciphertextDigest);
  if (JSON.stringify(digests) !== JSON.stringify(p.envelope.ciphertext_digests)) {
    bad(
      'opnieuw versleutelen van de gelogde cijfers geeft niet de ondertekende en verzonden versleutelde ' +
        'blokken: de verzonden blokken bevatten andere cijfers.',
    );
    return ciphertexts.length;
  }
  const wire = encodeContribution({ envelope: p.envelope, ciphertexts });
  const wireSha = sha256Hex(wire);
  if (wire.byteLength !== p.wire_bytes || wireSha !== p.wire_sha256)
    bad('de opnieuw opgebouwde bijdrage past niet bij de gelogde grootte of digest.');
  const receipt = ctx.receipts.get(p.envelope_digest);
  if (ctx.posts.size > 0 && receipt && !ctx.posts.has(wireSha))
    bad('de verzonden bijdrage (digest van het verzoek) is niet deze bijdrage.');
  if (receipt && (receipt.envelope_digest !== envelopeDigest(p.envelope) || receipt.wire_bytes !== wire.byteLength))
    bad('het ontvangstbewijs bevestigt een andere envelop of grootte.');
  return ciphertexts.length;
}

/**
 * The stored manifest and round key of an entry's round ('corrupt' when the store cannot be
 * read). An envelope entry without a round finds neither: reported as missing by the caller.
 */
function storedRound(
  db: NodeDb,
  e: AuditEntry,
): { manifest: RoundManifest | undefined; key: { digest: string; publicKey: Uint8Array } | undefined } | 'corrupt' {
  const rounds = new RoundStore(db);
  try {
    return {
      manifest: e.round_id === null ? undefined : rounds.manifest(e.round_id),
      key: e.round_id === null ? undefined : rounds.heKey(e.round_id),
    };
  } catch (err) {
    if (!isSbError(err) || err.code !== 'SB_ERR_STORE_CORRUPT') throw err;
    return 'corrupt';
  }
}

/** Whether the approvals an envelope entry cites are logged and valid for exactly `digest`. */
function approvalsCover(ctx: DeepContext, e: AuditEntry, roundId: string, digest: string): boolean {
  const cited = (e.payload.approvals as { approval_digest: string }[] | undefined) ?? [];
  const covering = ctx.approvalsLogged.filter((a) => cited.some((c) => c.approval_digest === canonicalDigest(a)));
  // evaluateApprovals checks against configured approvers; here the approvers are the ones the
  // covering approvals name, since the question is only whether they are valid for this digest.
  const approvers = covering.map((a) => ({
    name: 'x',
    ed25519_public_key: String((a as { approver_public_key?: unknown }).approver_public_key),
    fingerprint: '00000 00000 00000 00000 00000 00000',
  }));
  return (
    cited.length > 0 &&
    evaluateApprovals(
      covering,
      { ...ctx.config, approvers, approvals_required: cited.length as 1 | 2 },
      { roundId, vectorDigest: digest },
    ).ok
  );
}

/** Options of {@link verifyAuditLog}. */
export interface VerifyAuditOptions {
  home: string;
  /** Re-encrypt every logged vector and compare (slow: seconds per contribution). */
  deep?: boolean;
  /** Receipt files (JSON) kept outside the node's database. */
  receiptFiles?: readonly string[];
  /** Chain heads written down elsewhere. */
  expectHeads?: readonly string[];
  /**
   * Also ask the coordinator (signed, logged request) for the newest head it saw from this node
   * and require it in the chain: detects entries cut off after the last receipt.
   */
  online?:
    | boolean
    | { coordinatorUrl?: string; dispatcher?: Dispatcher; now?: Clock; sleep?: (ms: number) => Promise<void> };
}

/**
 * Fetch the coordinator's signed attestation of the newest audit head it saw from this node
 * before this request (`GET /v1/institutions/me/audit-head`), through the audited session (the
 * request carries the current head and is logged like any other). Returns the attestation,
 * or a finding when it is not signed by the pinned coordinator key or does not answer this
 * request.
 */
export async function fetchAuditHeadAttestation(o: {
  home: string;
  coordinatorUrl?: string;
  dispatcher?: Dispatcher;
  now?: Clock;
  sleep?: (ms: number) => Promise<void>;
}): Promise<{ attestation: AuditHeadAttestation | null; finding: Finding | null }> {
  const s = await openAuditedSession(o);
  try {
    const sentHead = auditHead(s.db) ?? null;
    let raw: unknown;
    try {
      raw = await s.client.getJson(ROUTES.auditHead());
    } catch (e) {
      throw s.refusal('audit-head', null, e);
    }
    const key = new Uint8Array(Buffer.from(s.config.pinned.coordinator.ed25519_public_key, 'base64'));
    if (!verifyAuditHeadAttestation(raw, key)) {
      return {
        attestation: null,
        finding: {
          kind: 'attestation_invalid',
          message:
            'de verklaring van de coördinator over de laatst geziene logkop is niet geldig ondertekend ' +
            'door de vastgelegde coördinatorsleutel; de controle bij de coördinator is niet gelukt.',
        },
      };
    }
    if (raw.institution_id !== s.config.institution_id || raw.request_head !== sentHead) {
      return {
        attestation: null,
        finding: {
          kind: 'attestation_invalid',
          message:
            'de verklaring van de coördinator hoort niet bij dit verzoek van deze instelling (andere instelling ' +
            'of logkop); de controle bij de coördinator is niet gelukt.',
        },
      };
    }
    return { attestation: raw, finding: null };
  } finally {
    s.close();
  }
}

/**
 * `sectorbench node audit verify`: the whole log of a node home, with the receipts from its
 * outbox and any given receipt files; `deep` adds the ciphertext proof; `online` checks the
 * newest head the coordinator saw (signed attestation) is in the chain.
 */
export async function verifyAuditLog(o: VerifyAuditOptions): Promise<VerifyResult> {
  // Online first: the request it sends is itself logged and then verified with the rest.
  const online = o.online
    ? await fetchAuditHeadAttestation({ home: o.home, ...(typeof o.online === 'object' ? o.online : {}) })
    : null;
  const config = readNodeConfig(o.home);
  const identity = await readIdentityFile(identityPath(o.home, config));
  const db = openNodeDb(o.home);
  try {
    const entries = readAudit(db);
    const rounds = new RoundStore(db);
    const receipts = [...rounds.storedReceipts().map((r) => r.receipt), ...readReceiptFiles(o.receiptFiles ?? [])];
    const { findings, receiptsChecked } = verifyAuditEntries(entries, {
      publicKey: identity.publicKey,
      coordinatorKey: new Uint8Array(Buffer.from(config.pinned.coordinator.ed25519_public_key, 'base64')),
      receipts,
      expectHeads: o.expectHeads,
      outboxEnvelopes: rounds.submissionDigests(),
    });
    findings.push(...unloggedApprovers(entries, config));
    if (online?.finding) findings.push(online.finding);
    const attested = online?.attestation;
    if (attested) findings.push(...attestedHeadFindings(entries, attested));
    let deep: VerifyResult['deep'] = null;
    if (o.deep) {
      const d = await deepVerify(db, entries, config, identity.publicKey);
      findings.push(...d.findings);
      deep = { envelopes: d.envelopes, ciphertexts: d.ciphertexts };
    }
    return {
      ok: findings.length === 0,
      entries: entries.length,
      head: entries.at(-1)?.hash ?? null,
      findings,
      receipts_checked: receiptsChecked,
      deep,
      accounting: accountBytes(entries),
      coordinator: attested ? { head: attested.head, seen_at: attested.seen_at, path: attested.path } : null,
    };
  } finally {
    db.close();
  }
}

/** Receipts from files kept outside the node: one receipt or an array of them per file. */
function readReceiptFiles(files: readonly string[]): unknown[] {
  const receipts: unknown[] = [];
  for (const f of files) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(f, 'utf8'));
    } catch {
      throw new SbError(
        'SB_ERR_USAGE',
        `${f} is not a receipt (JSON); give the receipt files the coordinator returned.`,
      );
    }
    for (const r of Array.isArray(parsed) ? parsed : [parsed]) receipts.push(r);
  }
  return receipts;
}

/** Approvers in node.json that no `approver_added` entry logged: someone edited the configuration. */
function unloggedApprovers(entries: readonly AuditEntry[], config: NodeConfig): Finding[] {
  const added = new Set(
    entries
      .filter((e) => e.kind === 'approver_added')
      .map((e) => String((e.payload.approver as { ed25519_public_key?: string } | undefined)?.ed25519_public_key)),
  );
  return config.approvers
    .filter((a) => !added.has(a.ed25519_public_key))
    .map((a) => ({
      kind: 'unlogged_approver' as const,
      message:
        `goedkeurder ${a.name} (${a.fingerprint}) staat in node.json maar is nooit via \`approver add\` ` +
        'toegevoegd: controleer wie de configuratie heeft gewijzigd.',
    }));
}

/** Heads the coordinator saw (its history and its newest) that are not in the log: truncation. */
function attestedHeadFindings(entries: readonly AuditEntry[], attested: AuditHeadAttestation): Finding[] {
  const hashes = new Set(entries.map((e) => e.hash));
  const all = [
    ...attested.history,
    ...(attested.head && attested.seen_at && attested.path !== null
      ? [{ head: attested.head, seen_at: attested.seen_at, path: attested.path }]
      : []),
  ];
  const missing = all.filter((h) => !hashes.has(h.head));
  const newest = missing.at(-1);
  if (!newest) return [];
  const more = new Set(missing.map((h) => h.head)).size - 1;
  return [
    {
      kind: 'truncated',
      message:
        `de coördinator zag op ${newest.seen_at} logkop ${short(newest.head)} (bij ${newest.path})` +
        `${more > 0 ? ` en nog ${more} andere` : ''}, die niet in het log staat: regels zijn afgeknipt of vervangen.`,
    },
  ];
}

/**
 * The masked input of a logged envelope, recomputed: `maskInput` of shared/secagg over the
 * logged slots, with the self-mask seed and mask secret key from the entry's secret fields and
 * the peers' mask keys from their signed advertisements (verified against the manifest's
 * identity keys). Box keys play no part in masking; they are left zero.
 */
function remask(
  manifest: RoundManifest,
  roundId: string,
  me: string,
  slots: BigUint64Array,
  p: {
    secagg?: { shared: string[]; advertisements: unknown[]; graph: MaskGraph };
    secagg_self_seed?: string;
    secagg_mask_secret_key?: string;
  },
): BigUint64Array {
  if (!p.secagg || !p.secagg_self_seed || !p.secagg_mask_secret_key)
    throw new Error('de maskergeheimen ontbreken in het log');
  const identityKeys = new Map(
    manifest.participants.map((x) => [x.institution_id, new Uint8Array(Buffer.from(x.ed25519_public_key, 'base64'))]),
  );
  const peers = verifyAdvertisedKeys(roundId, p.secagg.advertisements, identityKeys);
  return maskInput({
    secrets: {
      roundId,
      institutionId: me,
      boxPublicKey: new Uint8Array(32),
      boxSecretKey: new Uint8Array(32),
      maskPublicKey: new Uint8Array(32),
      maskSecretKey: new Uint8Array(Buffer.from(p.secagg_mask_secret_key, 'base64')),
      selfSeed: new Uint8Array(Buffer.from(p.secagg_self_seed, 'base64')),
    },
    slots,
    peers,
    shared: p.secagg.shared,
    participants: manifest.participants.map((x) => x.institution_id),
    graph: p.secagg.graph,
  });
}
