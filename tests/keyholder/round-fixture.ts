/** Shared set-up of the key holder tests: a key holder home, three sample institutions, bundles. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Thresholds } from '../../schemas/manifest.js';
import { identityFromSeed, type Identity } from '../../shared/crypto/identity.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { addVectors, vectorToJson, type ContributionVector, type VectorJson } from '../../shared/metrics/vector.js';
import {
  contributionWire,
  encryptVector,
  roundManifest,
  writeRoundBundle,
  type BundledContribution,
} from '../../bench/keyholder/simulate-round.js';
import { endorseRound } from '../../keyholder/endorse.js';
import { initKeyHolder, loadKeyHolder, type KeyHolderKeys } from '../../keyholder/init.js';
import { generateCustodians, type GeneratedCustodians } from '../../keyholder/custody/present.js';
import { addParticipants, exampleBrin } from '../../keyholder/participants.js';
import type { PresentedShare } from '../../keyholder/custody/seal.js';
import { sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import type { EndorsementFile } from '../../schemas/endorsement.js';

export const NOW = () => new Date('2025-11-03T09:00:00Z');
export const STUDIEJAAR = '2024-2025';

export const seeded = (n: number): Identity => identityFromSeed(new Uint8Array(32).fill(n));

export interface SampleInstitution {
  id: string;
  identity: Identity;
  vector: ContributionVector;
  ciphertexts: Uint8Array[];
}

export interface RoundFixture {
  base: string;
  home: string;
  coordinator: Identity;
  cb: Codebook;
  kh: KeyHolderKeys;
  /** Three generated custodians, k = 2 (their key files and shares are outside the home). */
  custodians: GeneratedCustodians;
  /** The first two custodians' shares: enough for a release. */
  shares: PresentedShare[];
  institutions: SampleInstitution[];
  sector: VectorJson;
  /** Wire of an institution's contribution to a round (optionally other ciphertexts or signer). */
  wire(
    roundId: string,
    inst: SampleInstitution,
    o?: { ciphertexts?: Uint8Array[]; signer?: Identity; institutionId?: string },
  ): BundledContribution;
  /** Endorse a round, sign its manifest and write its bundle; returns the bundle folder. */
  bundle(
    roundId: string,
    o?: BundleOptions,
  ): Promise<{ dir: string; manifest: RoundManifest; endorsement: EndorsementFile }>;
  cleanup(): void;
}

export interface BundleOptions {
  thresholds?: Partial<Thresholds>;
  /** Contributions to bundle; default one per sample institution. */
  contributions?: (f: { roundId: string; all: BundledContribution[] }) => BundledContribution[];
  /** Participants the coordinator adds to the manifest besides the endorsed ones (not endorsed). */
  extraParticipants?: { institutionId: string; publicKey: Uint8Array; name?: string; brin?: string }[];
  /** Ids of the enrolled institutions to endorse; default all. */
  endorse?: string[];
  /** The coordinator's sum; default the honest sum of the bundled contributions. */
  sum?: (contributions: BundledContribution[]) => Uint8Array[];
  /** Sign the manifest with another key / put other thresholds in it than endorsed. */
  coordinator?: Identity;
  override?: { thresholds?: Thresholds; maxParticipants?: number };
  /** Replace the endorsement (e.g. another key holder's). */
  endorsement?: (e: EndorsementFile) => EndorsementFile;
}

/** Other institutions than the three sample ones: a codebook and one vector per institution. */
export interface FixtureData {
  codebook: Codebook;
  vectors: readonly ContributionVector[];
}

/**
 * Key holder home with the coordinator pinned, and the three sample vectors (or `data`'s)
 * encrypted under its key.
 */
export async function roundFixture(data?: FixtureData): Promise<RoundFixture> {
  const base = mkdtempSync(join(tmpdir(), 'sb-keyholder-'));
  const home = join(base, 'home');
  const coordinator = seeded(200);
  const custodians = await generateCustodians(join(base, 'custodians'), { n: 3, k: 2 });
  await initKeyHolder({ home, coordinatorKey: coordinator.publicKey, custody: custodians.custody });
  const shares = await custodians.present();
  const kh = await loadKeyHolder(home);
  const cb = data?.codebook ?? (await sampleCodebook());
  const vectors =
    data?.vectors ?? (['inst-1', 'inst-2', 'inst-3'] as const).map((name) => sampleVector(cb, name).vector);
  const institutions = await encryptInstitutions(cb, vectors, kh);
  await enrolInstitutions(home, institutions);
  const sector = data ? vectorToJson(cb, addVectors(cb, vectors)) : sampleVector(cb, 'sector').json;
  let counter = 0;
  const f: RoundFixture = {
    base,
    home,
    coordinator,
    cb,
    kh,
    custodians,
    shares,
    institutions,
    sector,
    wire(roundId, inst, o = {}) {
      return contributionWire({
        roundId,
        institutionId: o.institutionId ?? inst.id,
        identity: o.signer ?? inst.identity,
        codebook: cb,
        hePublicKeyDigest: kh.hePublicKeyDigest,
        ciphertexts: o.ciphertexts ?? inst.ciphertexts,
      });
    },
    bundle(roundId, o = {}) {
      return writeFixtureBundle(f, roundId, o, join(base, `bundle-${roundId}-${counter++}`));
    },
    cleanup() {
      rmSync(base, { recursive: true, force: true });
    },
  };
  return f;
}

/** Institution i (0-based): id INST<i+1>, a seeded identity, its vector encrypted under the key holder's BFV key. */
async function encryptInstitutions(
  cb: Codebook,
  vectors: readonly ContributionVector[],
  kh: RoundFixture['kh'],
): Promise<SampleInstitution[]> {
  const institutions: SampleInstitution[] = [];
  for (const [i, vector] of vectors.entries()) {
    institutions.push({
      id: `INST${i + 1}`,
      identity: seeded(10 + i),
      vector,
      ciphertexts: await encryptVector(cb, vector, kh.bfvPublicKey, 500),
    });
  }
  return institutions;
}

/** The key holder enrols the institutions itself (issue 11); it endorses only these. */
async function enrolInstitutions(home: string, institutions: SampleInstitution[]): Promise<void> {
  await addParticipants(
    home,
    institutions.map((inst, i) => ({
      institutionId: inst.id,
      name: `Instelling ${i + 1}`,
      brin: exampleBrin(i + 1),
      publicKey: inst.identity.publicKey,
    })),
  );
}

/**
 * The key holder's endorsement of `roundId`, the coordinator's manifest over it (plus any extra,
 * unendorsed participants) and a bundle in `dir` of the chosen contributions and sum.
 */
async function writeFixtureBundle(
  f: RoundFixture,
  roundId: string,
  o: BundleOptions,
  dir: string,
): ReturnType<RoundFixture['bundle']> {
  const { home, cb, kh, coordinator, institutions } = f;
  let endorsement = await endorseRound({
    home,
    roundId,
    maxParticipants: 500,
    thresholds: o.thresholds ?? {},
    ...(o.endorse ? { participants: o.endorse } : {}),
    now: NOW,
  });
  if (o.endorsement) endorsement = o.endorsement(endorsement);
  const manifest = roundManifest({
    codebook: cb,
    studiejaar: STUDIEJAAR,
    // The endorsed list, plus any participant the coordinator adds on its own (tests).
    participants: [
      ...endorsement.participants,
      ...(o.extraParticipants ?? []).map((p) => ({
        institution_id: p.institutionId,
        name: p.name ?? p.institutionId,
        brin: p.brin ?? '99ZZ',
        ed25519_public_key: Buffer.from(p.publicKey).toString('base64'),
      })),
    ],
    hePublicKey: kh.bfvPublicKey,
    endorsement,
    coordinator: o.coordinator ?? coordinator,
    ...(o.override ? { override: o.override } : {}),
  });
  const all = institutions.map((i) => f.wire(roundId, i));
  const contributions = o.contributions ? o.contributions({ roundId, all }) : all;
  writeRoundBundle(dir, { manifest, codebook: cb, contributions, ...(o.sum ? { sum: o.sum(contributions) } : {}) });
  return { dir, manifest, endorsement };
}
