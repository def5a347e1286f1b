/** Shared setup of the coordinator tests: a coordinator home, institutions, a key holder and an open round. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { bfvPublicKeyDigest, generateBfvKeyPair, type BfvKeyPair } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { generateIdentity, identityFromSeed, type Identity } from '../../shared/crypto/identity.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { codebookDigest, type Codebook } from '../../shared/metrics/codebook.js';
import { vectorFromJson, type ContributionVector, type VectorJson } from '../../shared/metrics/vector.js';
import { buildEnvelope, signEnvelope, type ContributionEnvelope } from '../../shared/protocol/envelope.js';
import { flatten } from '../../shared/protocol/layout.js';
import { signEndorsement } from '../../shared/protocol/round-documents.js';
import { signRequest } from '../../shared/protocol/request-signing.js';
import { encodeContribution } from '../../shared/protocol/wire.js';
import type { Clock } from '../../shared/time/clock.js';
import type { EndorsementFile } from '../../schemas/endorsement.js';
import type { Participant, RoundManifest } from '../../schemas/manifest.js';
import { addInstitution } from '../../coordinator/store/institutions.js';
import { openCoordinatorDb, type CoordinatorDb } from '../../coordinator/store/db.js';
import { pinKeyHolder } from '../../coordinator/store/pins.js';
import { openRound } from '../../coordinator/rounds/open-round.js';
import { sampleDir } from '../helpers/paths.js';

export const ROUND = '2024-2025-r1';
export const T0 = new Date('2025-10-15T08:00:00.000Z');
export const DEADLINE = '2025-11-01T00:00:00.000Z';
export const MAX_PARTICIPANTS = 100;

let bfv: Promise<BfvKeyPair> | undefined;
/** One BFV key pair per test file (generation is slow-ish). */
export function bfvKeys(): Promise<BfvKeyPair> {
  bfv ??= generateBfvKeyPair();
  return bfv;
}

export async function edgeCodebook(): Promise<Codebook> {
  return readCodebookFile(join(sampleDir, 'edge', 'codebook.csv'));
}

export function edgeVector(cb: Codebook): ContributionVector {
  return vectorFromJson(cb, JSON.parse(readFileSync(join(sampleDir, 'edge', 'expected.json'), 'utf8')) as VectorJson);
}

/** The edge vector with every value multiplied by k (distinct institutions, known sum). */
export function scaled(v: ContributionVector, k: number): ContributionVector {
  return { ...v, cells: v.cells.map((r) => r.map((x) => x * k)), groups: v.groups.map((r) => r.map((x) => x * k)) };
}

/** The fixture's institutions have fixed identities, so an endorsement can name them up front. */
export const INSTITUTION_SEEDS: Record<string, number> = { INST1: 101, INST2: 102, INST3: 103, OUTSIDER: 104 };

/** Institutions as the key holder enrolled them (name, fictitious BRIN, identity key). */
export function participantsFor(ids: readonly string[]): Participant[] {
  return ids.map((id) => ({
    institution_id: id,
    name: `Instelling ${id}`,
    brin: `99${String(INSTITUTION_SEEDS[id] ?? 99).slice(-2)}`,
    ed25519_public_key: Buffer.from(
      identityFromSeed(new Uint8Array(32).fill(INSTITUTION_SEEDS[id] ?? 99)).publicKey,
    ).toString('base64'),
  }));
}

/** An endorsement by `kh` (default participants INST1..INST3). */
export function endorse(
  kh: Identity,
  hePublicKey: Uint8Array,
  roundId = ROUND,
  over: Partial<EndorsementFile> = {},
): EndorsementFile {
  return signEndorsement(
    {
      type: 'sectorbench.key-holder-endorsement',
      version: 1,
      round_id: roundId,
      he_params: 'bfv-n4096-t40-tc128-v1',
      he_public_key_digest: bfvPublicKeyDigest(hePublicKey),
      max_participants: MAX_PARTICIPANTS,
      thresholds: { min_institutions: 3, min_population: 10, dominance_share: 0.85, min_institutions_distribution: 5 },
      participants: participantsFor(['INST1', 'INST2', 'INST3']),
      endorsed_at: T0.toISOString(),
      ...over,
    },
    kh,
  );
}

export interface Fixture {
  dir: string;
  dbPath: string;
  db: CoordinatorDb;
  coordinator: Identity;
  keyHolder: Identity;
  bfv: BfvKeyPair;
  codebook: Codebook;
  institutions: Record<string, Identity>;
  manifest: RoundManifest;
  /** The test's clock: the seam handed to the app and clients (`now: f.now`); starts at T0. */
  now: Clock;
  /** Move the clock: `now()` returns `at` from here on. */
  setNow: (at: Date) => void;
}

/** A clock that stands still at `start` until `setNow` moves it (the fixture's `now`/`setNow`). */
export function movableClock(start: Date): { now: Clock; setNow: (at: Date) => void } {
  let at = start;
  return {
    now: () => at,
    setNow: (next) => {
      at = next;
    },
  };
}

/**
 * A coordinator database in a tap testdir with institutions INST1..INST3 (participants),
 * OUTSIDER (registered, not a participant) and an open round.
 */
export async function setup(
  t: Test,
  opts: { participants?: string[]; endorsement?: Partial<EndorsementFile> } = {},
): Promise<Fixture> {
  const dir = t.testdir({});
  const dbPath = join(dir, 'coordinator.sqlite');
  const db = openCoordinatorDb(dbPath);
  t.teardown(() => {
    if (db.open) db.close();
  });
  const coordinator = generateIdentity();
  const keyHolder = generateIdentity();
  const keys = await bfvKeys();
  const codebook = await edgeCodebook();
  const institutions: Record<string, Identity> = {};
  for (const id of ['INST1', 'INST2', 'INST3', 'OUTSIDER']) {
    institutions[id] = identityFromSeed(new Uint8Array(32).fill(INSTITUTION_SEEDS[id] as number));
    addInstitution(db, { id, publicKey: institutions[id].publicKey, now: T0 });
  }
  pinKeyHolder(db, { publicKey: keyHolder.publicKey, now: T0 });
  const manifest = await openRound({
    db,
    identity: coordinator,
    roundId: ROUND,
    studiejaar: 2024,
    codebook,
    endorsement: endorse(keyHolder, keys.publicKey, ROUND, {
      participants: participantsFor(opts.participants ?? ['INST1', 'INST2', 'INST3']),
      ...opts.endorsement,
    }),
    hePublicKey: keys.publicKey,
    participants: opts.participants ?? ['INST1', 'INST2', 'INST3'],
    deadline: DEADLINE,
    publicUrl: 'http://127.0.0.1:8443',
    now: T0,
  });
  return {
    dir,
    dbPath,
    db,
    coordinator,
    keyHolder,
    bfv: keys,
    codebook,
    institutions,
    manifest,
    ...movableClock(new Date(T0)),
  };
}

/** Encrypt a vector and build the signed wire bytes of a contribution. */
export async function contribution(
  f: Fixture,
  institutionId: string,
  vector: ContributionVector,
  over: {
    roundId?: string;
    envelopeInstitution?: string;
    signer?: Identity;
    ciphertexts?: Uint8Array[];
    createdAt?: Date;
    mutate?: (e: ContributionEnvelope) => void;
  } = {},
): Promise<{ wire: Uint8Array; ciphertexts: Uint8Array[]; envelope: ContributionEnvelope }> {
  const ciphertexts =
    over.ciphertexts ??
    (await encryptSlots(f.bfv.publicKey, flatten(f.codebook, vector, { maxParticipants: MAX_PARTICIPANTS })));
  const unsigned = buildEnvelope({
    roundId: over.roundId ?? ROUND,
    institutionId: over.envelopeInstitution ?? institutionId,
    codebookDigest: codebookDigest(f.codebook),
    hePublicKeyDigest: bfvPublicKeyDigest(f.bfv.publicKey),
    ciphertexts,
    createdAt: over.createdAt ?? f.now(),
  });
  const envelope = signEnvelope(unsigned, (over.signer ?? (f.institutions[institutionId] as Identity)).secretKey);
  over.mutate?.(envelope);
  return { wire: encodeContribution({ envelope, ciphertexts }), ciphertexts, envelope };
}

/** Headers of a signed POST of wire bytes. */
export function signedHeaders(
  f: Fixture,
  institutionId: string,
  path: string,
  body: Uint8Array,
  over: {
    secretKey?: Uint8Array;
    /** The instant the request is signed at (default: the fixture's clock). */
    signedAt?: Date;
    nonce?: Uint8Array;
    auditHead?: string;
    method?: string;
  } = {},
): Record<string, string> {
  return {
    'content-type': 'application/octet-stream',
    ...signRequest({
      method: over.method ?? 'POST',
      path,
      body,
      institutionId,
      secretKey: over.secretKey ?? (f.institutions[institutionId] as Identity).secretKey,
      now: () => over.signedAt ?? f.now(),
      nonce: over.nonce,
      auditHead: over.auditHead,
    }),
  };
}

export const contributionsPath = (roundId = ROUND) => `/v1/rounds/${roundId}/contributions`;
