import { performance } from 'node:perf_hooks';
import { ReleaseSchema, type Release } from '../schemas/release.js';
import { decryptSum, findCulprits } from '../shared/crypto/decrypt.js';
import { sealWorker, type SealWorkerHost } from '../shared/crypto/seal-worker-host.js';
import { sumContributions } from '../shared/crypto/sum.js';
import { SbError, isSbError } from '../shared/errors/sb-error.js';
import { readBundle, type Bundle } from '../shared/protocol/bundle.js';
import { layoutCiphertexts, layoutLength, unflatten } from '../shared/protocol/layout.js';
import type { RoundManifest } from '../schemas/manifest.js';
import type { MaskPool } from '../shared/secagg/mask-pool.js';
import { applyUnmasking, discardPlan, prepareUnmasking, type UnmaskInput } from './unmask.js';
import { readRevealKey } from './reveal-keys.js';
import { signRelease, verifyRelease } from '../shared/protocol/round-documents.js';
import { checkConsistency } from './consistency.js';
import type { PresentedShare } from './custody/seal.js';
import { readSealedFile, unsealForUse } from './custody/unseal.js';
import { releaseDigest } from '../shared/protocol/release-digest.js';
import { bundleDigest, sumDigest } from './digests.js';
import {
  DEFAULT_PASSES,
  discloseAndAudit,
  disclosureContext,
  type DisclosurePass,
  type PassSummary,
  type ProtectionParams,
} from './disclosure/index.js';
import { loadKeyHolder } from './init.js';
import { KeyHolderStore } from './store/keyholder-store.js';
import { isoSeconds } from './time.js';
import {
  verifyContributions,
  verifyCorrections,
  verifyRoundManifest,
  type VerifiedContribution,
  type VerifiedCorrection,
} from './verify-bundle.js';
import type { Codebook } from '../shared/metrics/codebook.js';
import type { ContributionVector } from '../shared/metrics/vector.js';
import { formatZodIssues } from '../shared/errors/zod-issues.js';
import { type Clock, systemClock } from '../shared/time/clock.js';

/** Phases of a release, as reported to `onPhase`. */
export type ReleasePhase = 'load' | 'verify' | 'sum' | 'decrypt' | 'checks' | 'disclosure' | 'sign';

/** Options of {@link releaseRound}. */
export interface ReleaseOptions {
  home: string;
  /** The coordinator's close-of-round bundle (shared/protocol/bundle.ts). */
  bundleDir: string;
  /**
   * At least k custodians' shares (keyholder/custody/): the BFV secret key is unsealed with them
   * for this release only, and wiped afterwards.
   */
  shares: readonly PresentedShare[];
  now?: Clock;
  /** The latest signed release of this round, to make the next version (re-release). */
  previous?: Release;
  /** Disclosure passes; default {@link DEFAULT_PASSES} (primary, dominance, secondary). */
  passes?: readonly DisclosurePass[];
  /** Protection the audit requires; default `hi - lo >= max(3, v/2)` for primary and dominance suppressions. */
  protection?: ProtectionParams;
  /** Earlier releases of this round besides `previous` and those in the log (older logs keep digests only). */
  earlier?: readonly Release[];
  /** Called after each phase with its wall time in milliseconds (benchmarks). */
  onPhase?: (phase: ReleasePhase, ms: number) => void;
  /** SEAL worker to decrypt in; default the process-wide one. */
  sealHost?: SealWorkerHost;
  /** Threads the masks of a masked round are removed on (default: the process-wide mask pool, shared/secagg/mask-pool.ts). */
  maskPool?: MaskPool;
}

/** A release with what the key holder logged about it. */
export interface ReleaseResult {
  release: Release;
  releaseDigest: string;
  bundleDigest: string;
  /** Blocks (row x block A/B) published and suppressed, by rule. */
  blocks: { published: number; suppressed: number; byRule: Record<string, number> };
  passes: PassSummary[];
  /** Things the operator should know (e.g. no coordinator key pinned). */
  warnings: string[];
}

/**
 * Release a round: verify the coordinator's bundle, recompute and compare the sum, refuse below
 * `min_institutions`, unseal the BFV secret key with k custodian shares (logged; the key lives
 * in memory only until the decryption is done), decrypt (logged before and after, linked to the
 * unseal), check consistency, apply disclosure
 * control, sign the release (`schemas/release.ts`) and record it. Every refusal is an
 * `SbError` (codes in keyholder/README.md) and is recorded in the key holder's log.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "The round", step 4, and "Disclosure control"
 */
export async function releaseRound(options: ReleaseOptions): Promise<Release> {
  return (await releaseRoundDetailed(options)).release;
}

/** {@link releaseRound}, returning also the digests and block counts. */
export async function releaseRoundDetailed(options: ReleaseOptions): Promise<ReleaseResult> {
  const now = options.now ?? systemClock;
  const at = () => isoSeconds(now());
  const phase = phaseTimer(options.onPhase); // the 'load' phase includes opening the home
  const kh = await loadKeyHolder(options.home);
  const store = KeyHolderStore.open(kh.paths.dataDir);
  const seen: Seen = { roundId: null, bundleDigest: null };
  try {
    return await releaseSteps(store, kh, options, { at, phase, seen });
  } catch (e) {
    const code = isSbError(e) ? e.code : 'SB_ERR_INTERNAL';
    store.recordRefusal({
      roundId: seen.roundId,
      at: at(),
      bundleDigest: seen.bundleDigest,
      code,
      message: e instanceof Error ? e.message : String(e),
    });
    throw e;
  } finally {
    store.close();
  }
}

/** What a refusal is recorded with: the round and bundle, once they are read. */
interface Seen {
  roundId: string | null;
  bundleDigest: string | null;
}

/** Reports each phase's wall time (since the previous phase) to `onPhase`. */
function phaseTimer(onPhase: ReleaseOptions['onPhase']): (p: ReleasePhase) => void {
  let t0 = performance.now();
  return (p) => {
    const t = performance.now();
    onPhase?.(p, t - t0);
    t0 = t;
  };
}

/** Steps 1-6 of a release, in order; any failure throws (the caller records the refusal). */
async function releaseSteps(
  store: KeyHolderStore,
  kh: KeyHolder,
  options: ReleaseOptions,
  d: { at: () => string; phase: (p: ReleasePhase) => void; seen: Seen },
): Promise<ReleaseResult> {
  const { at, phase } = d;
  readSealedFile(kh.paths); // a home without a sealed key (plain key from before custody) releases nothing
  const bundle: Bundle = readBundle(options.bundleDir);
  d.seen.roundId = bundle.manifest.round_id;
  const bDigest = bundleDigest(bundle.index);
  d.seen.bundleDigest = bDigest;
  phase('load');
  // 1. Manifest, earlier releases, contributions (and a masked round's corrections).
  const v = verifyReleaseBundle(bundle, kh, store, options.previous);
  phase('verify');
  // 2. Recompute the sum and compare with the coordinator's, byte for byte.
  const { sum, sumDigest: sDigest } = checkCoordinatorSum(bundle, v, store);
  phase('sum');
  // 2b. Masked round (issue 10): every secure-aggregation check and the Shamir reconstruction
  // before any decryption.
  const plan = v.manifest.secagg ? await unmaskingPlan(bundle, v, kh) : null;
  // 3. Unseal the key with the custodians' shares (logged), decrypt the sum (logged before and after).
  const { slots, logId } = await decryptUnderCustody(store, kh, options, {
    v,
    sum,
    sumDigest: sDigest,
    bundleDigest: bDigest,
    plan,
    at,
  });
  phase('decrypt');
  // 4. Consistency of the decrypted sum.
  const sector = checkedSector(v, slots);
  phase('checks');
  // 5. Disclosure control and its audit (against every earlier version of the round).
  const disclosed = await discloseAgainstVersions(store, kh, options, v, sector);
  phase('disclosure');
  // 6. Sign, validate, record.
  const signed = signAndRecord(store, kh, v, disclosed, { bundleDigest: bDigest, logId, publishedAt: at() });
  phase('sign');
  return releaseResult(kh, signed, bDigest, disclosed);
}

/**
 * Step 2b: a masked round's unmasking plan (every secure-aggregation check and the Shamir
 * reconstruction); below t survivors (or without t matching survivor signatures) this throws
 * and nothing is decrypted.
 */
function unmaskingPlan(bundle: Bundle, v: VerifiedBundle, kh: KeyHolder): ReturnType<typeof prepareUnmasking> {
  const contributors = maskedContributors(
    bundle,
    v.contributions.map((c) => c.institutionId),
    v.chain.length > 0,
  );
  const revealKey = readRevealKey(kh.paths.dataDir, v.manifest.round_id).secretKey;
  return prepareUnmasking(unmaskInput(bundle, v.manifest, contributors, revealKey));
}

/** The signed release with its digests, block counts, passes and warnings for the operator. */
function releaseResult(
  kh: KeyHolder,
  signed: { release: Release; releaseDigest: string },
  bDigest: string,
  disclosed: Awaited<ReturnType<typeof discloseAndAudit>>,
): ReleaseResult {
  const warnings = kh.coordinatorKey
    ? []
    : [
        `no coordinator key is pinned, so the manifest's coordinator signature was not checked; run 'keyholder pin-coordinator'.`,
      ];
  return {
    release: signed.release,
    releaseDigest: signed.releaseDigest,
    bundleDigest: bDigest,
    blocks: {
      published: disclosed.blocks.published,
      suppressed: disclosed.blocks.suppressed,
      byRule: { ...disclosed.blocks.byRule },
    },
    passes: disclosed.passes,
    warnings,
  };
}

type KeyHolder = Awaited<ReturnType<typeof loadKeyHolder>>;

/** A bundle whose manifest, published chain, contributions and corrections verified. */
interface VerifiedBundle {
  manifest: RoundManifest;
  codebook: Codebook;
  /** The published versions the bundle carries (oldest first; empty for a first release). */
  chain: Release[];
  previous: Release | undefined;
  version: { version: number; previousDigest: string | null };
  contributions: VerifiedContribution[];
  /** A masked round's corrections: survivors' encrypted differences new − old, in the sum. */
  corrections: VerifiedCorrection[];
  /** Institutions in the sum (one contribution each; corrections add none). */
  n: number;
}

/**
 * Step 1: the manifest (coordinator and own endorsement), the published chain and the next
 * version, every contribution and correction; refuse more than `max_participants` (the sum may
 * have wrapped) or fewer than `min_institutions` institutions.
 * @throws SbError `SB_ERR_BUNDLE`, `SB_ERR_BELOW_MIN_INSTITUTIONS`, and the checks' codes
 */
function verifyReleaseBundle(
  bundle: Bundle,
  kh: KeyHolder,
  store: KeyHolderStore,
  given: Release | undefined,
): VerifiedBundle {
  const manifest = bundle.manifest;
  const codebook = verifyRoundManifest(bundle, {
    keyHolderKey: kh.identity.publicKey,
    hePublicKeyDigest: kh.hePublicKeyDigest,
    ...(kh.coordinatorKey ? { coordinatorKey: kh.coordinatorKey } : {}),
    endorsements: store.endorsements(manifest.round_id),
  });
  // A re-release (issue 16, item 2): the bundle carries every version the coordinator published.
  const chain = publishedChain(bundle, manifest.round_id, kh.identity.publicKey);
  const previous = given ?? chain.at(-1);
  const version = nextVersion(store, manifest.round_id, previous, kh.identity.publicKey);
  const contributions = verifyContributions(bundle, manifest, codebook);
  if ((bundle.corrections?.length ?? 0) > 0 && (!manifest.secagg || chain.length === 0))
    throw new SbError(
      'SB_ERR_BUNDLE',
      `the bundle of round ${manifest.round_id} holds corrections (differences), which only a masked ` +
        `round that was released can have; nothing is decrypted. Ask the coordinator for a consistent bundle.`,
    );
  const survivors = bundle.secagg?.phases.find((p) => p.phase === 'masked_input')?.members ?? [];
  const corrections = verifyCorrections(
    bundle,
    manifest,
    codebook,
    survivors,
    chain.map((r) => r.published_at),
  );
  // Every contribution is from a participant of the manifest, and the manifest's participant
  // list is exactly the one this key holder endorsed (verifyRoundManifest): n counts endorsed
  // participants only, so institutions the coordinator invented cannot make up min_institutions.
  const n = contributions.length;
  if (n > manifest.max_participants) {
    throw new SbError(
      'SB_ERR_BUNDLE',
      `the bundle holds ${n} contributions, more than max_participants ${manifest.max_participants}: the sum may have wrapped. Do not release.`,
    );
  }
  if (n < manifest.thresholds.min_institutions) {
    throw new SbError(
      'SB_ERR_BELOW_MIN_INSTITUTIONS',
      `round ${manifest.round_id} has ${n} valid contribution(s), fewer than min_institutions ${manifest.thresholds.min_institutions}; ` +
        `nothing is decrypted. Extend the round until more institutions have submitted.`,
      { contributions: n, min_institutions: manifest.thresholds.min_institutions },
    );
  }
  return { manifest, codebook, chain, previous, version, contributions, corrections, n };
}

/**
 * Step 2: the sum of the verified contributions and corrections must be the coordinator's, byte
 * for byte; a re-release of the very sum released last changes nothing and is not decrypted again.
 * @throws SbError `SB_ERR_SUM_MISMATCH`, `SB_ERR_ALREADY_RELEASED`
 */
function checkCoordinatorSum(
  bundle: Bundle,
  v: VerifiedBundle,
  store: KeyHolderStore,
): { sum: Uint8Array[]; sumDigest: string } {
  const { manifest } = v;
  const ciphertextCount = layoutCiphertexts(v.codebook);
  const sum = sumContributions(
    [...v.contributions, ...v.corrections].map((c) => c.ciphertexts),
    ciphertextCount,
  );
  if (bundle.sum.length !== sum.length) {
    throw new SbError(
      'SB_ERR_SUM_MISMATCH',
      `the coordinator's sum has ${bundle.sum.length} ciphertexts, the round's layout needs ${sum.length}; ` +
        `do not release, ask the coordinator to recompute the sum.`,
    );
  }
  const differing = sum.flatMap((ct, k) => (Buffer.compare(ct, bundle.sum[k] as Uint8Array) === 0 ? [] : [k]));
  if (differing.length > 0) {
    throw new SbError(
      'SB_ERR_SUM_MISMATCH',
      `the coordinator's sum differs from the sum of the ${v.n} verified contributions` +
        `${v.corrections.length ? ` and ${v.corrections.length} correction(s)` : ''} in ciphertext(s) ` +
        `${differing.join(', ')}: it holds something else than the contributions in the bundle. ` +
        `Do not release; ask the coordinator which contributions it added.`,
      { ciphertexts: differing },
    );
  }
  const sDigest = sumDigest(sum);
  if (v.previous) {
    const prevDigest = releaseDigest(v.previous);
    if (store.decryptions(manifest.round_id).some((d) => d.releaseDigest === prevDigest && d.sumDigest === sDigest))
      throw new SbError(
        'SB_ERR_ALREADY_RELEASED',
        `the bundle holds the same sum as version ${v.previous.release_version} of round ${manifest.round_id} ` +
          `(no late or corrected contribution); nothing is decrypted. A new version needs the coordinator's ` +
          `'round reopen --late' and a late contribution.`,
        { version: v.previous.release_version },
      );
  }
  return { sum, sumDigest: sDigest };
}

/**
 * Step 3: unseal the BFV secret key with the custodians' shares (logged), decrypt the sum (logged
 * before and after, linked to the unseal), remove the masks of a masked round, wipe the key. A
 * sum without noise budget is decrypted contribution by contribution to name the culprits.
 * @throws SbError `SB_ERR_CULPRITS`, `SB_ERR_NOISE_BUDGET`, custody and unmasking codes
 */
async function decryptUnderCustody(
  store: KeyHolderStore,
  kh: KeyHolder,
  options: ReleaseOptions,
  d: {
    v: VerifiedBundle;
    sum: Uint8Array[];
    sumDigest: string;
    bundleDigest: string;
    plan: Awaited<ReturnType<typeof prepareUnmasking>> | null;
    at: () => string;
  },
): Promise<{ slots: BigUint64Array; logId: number }> {
  const { v, sum, plan, at } = d;
  const roundId = v.manifest.round_id;
  const host = options.sealHost ?? sealWorker();
  const unsealed = await unsealForUse(store, kh.paths, options.shares, { roundId, purpose: 'release', at });
  const secretKey = unsealed.secretKey;
  const logStart = (kind: 'sum' | 'noise-budget') =>
    store.decryptionStarted({
      roundId,
      kind,
      at: at(),
      bundleDigest: d.bundleDigest,
      institutions: v.n,
      sumDigest: d.sumDigest,
      unsealId: unsealed.unsealId,
    });
  let logId: number;
  try {
    logId = logStart('sum');
  } catch (e) {
    unsealed.wipe();
    throw e;
  }
  try {
    let slots = await decryptSum(secretKey, sum, host);
    if (plan) {
      const masked = slots;
      slots = await applyUnmasking(plan, masked, layoutLength(v.codebook), options.maskPool);
      masked.fill(0n);
    }
    store.decryptionCompleted(logId, { at: at(), outcome: 'decrypted' });
    return { slots, logId };
  } catch (e) {
    store.decryptionCompleted(logId, {
      at: at(),
      outcome: 'failed',
      errorCode: isSbError(e) ? e.code : 'SB_ERR_INTERNAL',
    });
    if (isSbError(e) && e.code === 'SB_ERR_NOISE_BUDGET') {
      const budgetLog = logStart('noise-budget');
      const culprits = await findCulprits(secretKey, [...v.contributions, ...v.corrections], host);
      store.decryptionCompleted(budgetLog, { at: at(), outcome: 'decrypted' });
      if (culprits.length > 0) {
        const ids = [...new Set(culprits.map((c) => c.institutionId))];
        throw new SbError(
          'SB_ERR_CULPRITS',
          `the sum cannot be decrypted: the ciphertexts of ${ids.join(', ')} have no noise budget under ` +
            `this key holder's key (encrypted under another key, or forged). Nothing was decoded. Ask the ` +
            `coordinator to exclude ${ids.length === 1 ? 'it' : 'them'}, sum again and send a new bundle; ` +
            `${ids.length === 1 ? 'that institution' : 'those institutions'} must re-encrypt with the round key.`,
          { culprits },
        );
      }
    }
    throw e;
  } finally {
    unsealed.wipe();
    if (plan) discardPlan(plan);
  }
}

/**
 * Step 4: the decrypted slots as the sector vector (the slots are wiped), checked for consistency.
 * @throws SbError `SB_ERR_CONSISTENCY` naming the first violations
 */
function checkedSector(v: VerifiedBundle, slots: BigUint64Array): ContributionVector {
  const { manifest, codebook, n } = v;
  const sector = unflatten(codebook, slots, manifest.studiejaar);
  slots.fill(0n);
  const violations = checkConsistency(codebook, sector, n);
  if (violations.length > 0) {
    const shown = violations.slice(0, 5).map((x) => `${x.row} ${x.key} slot ${x.slot} (${x.rule})`);
    throw new SbError(
      'SB_ERR_CONSISTENCY',
      `the decrypted sum of round ${manifest.round_id} fails ${violations.length} consistency check(s): ` +
        `${shown.join('; ')}${violations.length > 5 ? '; …' : ''}. Some contribution was computed wrongly ` +
        `or forged; nothing is released. Ask the coordinator to have the institutions check their vectors ` +
        `(node quality report) and resubmit.`,
      { violations },
    );
  }
  return sector;
}

/**
 * Step 5: disclosure control and its audit against every earlier version (own log, `earlier`,
 * the bundle's chain). Every earlier version's published figures are known to the outsider: a
 * block suppressed now that an earlier version published unchanged counts as published
 * (docs/DISCLOSURE.md "Versions"); a masked round's correctors count as institutions behind every
 * change against the versions before their corrections (DECISIONS 81).
 */
async function discloseAgainstVersions(
  store: KeyHolderStore,
  kh: KeyHolder,
  options: ReleaseOptions,
  v: VerifiedBundle,
  sector: ContributionVector,
) {
  const { manifest, codebook, n } = v;
  const ctx = disclosureContext({ codebook, sector, thresholds: manifest.thresholds, contributions: n });
  const earlier = earlierReleases(
    store,
    manifest.round_id,
    v.previous,
    [...(options.earlier ?? []), ...v.chain],
    kh.identity.publicKey,
  );
  const correctorsSince = correctorsPerVersion(v, earlier);
  return discloseAndAudit(ctx, {
    passes: options.passes ?? DEFAULT_PASSES,
    ...(options.protection ? { protection: options.protection } : {}),
    earlier,
    ...(earlier.length > 0 ? { earlierAsFacts: true } : {}),
    ...(Object.values(correctorsSince).some((c) => c > 0) ? { correctorsSince } : {}),
  });
}

/**
 * Per earlier version, how many institutions changed their figures since it (docs/DECISIONS.md
 * 81, 82): a masked round's correctors (encrypted differences received after that version), plus
 * an unmasked round's replaced envelopes, which the bundle does not list as corrections. A
 * re-release adds the late contributions to the released set, so the contributions signed after
 * a version was published are the late ones and the replacements; those beyond the rise of the
 * institution count are replacements. The audit then takes no row as unchanged against that
 * version (`version-table.ts`) and counts them behind every change (`institutionsBehind`).
 */
export function correctorsPerVersion(
  v: {
    readonly corrections: readonly Pick<VerifiedCorrection, 'institutionId' | 'afterVersion'>[];
    readonly contributions: readonly { readonly envelope: { readonly created_at: string } }[];
    readonly n: number;
  },
  earlier: readonly Pick<Release, 'release_version' | 'published_at' | 'institutions'>[],
): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of earlier) {
    const since = v.corrections.filter((c) => c.afterVersion >= r.release_version);
    const masked = new Set(since.map((c) => c.institutionId)).size;
    const published = Date.parse(r.published_at);
    const fresh = v.contributions.filter((c) => Date.parse(c.envelope.created_at) > published).length;
    out[r.release_version] = masked + Math.max(0, fresh - (v.n - r.institutions));
  }
  return out;
}

/**
 * Step 6: sign the release (`schemas/release.ts`), validate it against its schema and record it
 * with the decryption it came from.
 * @throws SbError `SB_ERR_INTERNAL` when the release does not match its schema (a bug)
 */
function signAndRecord(
  store: KeyHolderStore,
  kh: KeyHolder,
  v: VerifiedBundle,
  disclosed: Awaited<ReturnType<typeof discloseAndAudit>>,
  d: { bundleDigest: string; logId: number; publishedAt: string },
): { release: Release; releaseDigest: string } {
  const { manifest, version, n } = v;
  const release = signRelease(
    {
      type: 'sectorbench.release',
      version: 1,
      round_id: manifest.round_id,
      release_version: version.version,
      previous_release_digest: version.previousDigest,
      studiejaar: manifest.studiejaar,
      metric_spec: manifest.metric_spec,
      codebook_digest: manifest.codebook.digest,
      institutions: n,
      thresholds: manifest.thresholds,
      published_at: d.publishedAt,
      cells: disclosed.cells,
      rollups: disclosed.rollups,
      disclosure: disclosed.outcome,
    },
    kh.identity.secretKey,
  );
  const valid = ReleaseSchema.safeParse(release);
  if (!valid.success)
    throw new SbError(
      'SB_ERR_INTERNAL',
      `the release does not match the release schema (${formatZodIssues(valid.error.issues, { limit: 3 })}); this is a bug, report it.`,
    );
  const rDigest = releaseDigest(release);
  store.db.transaction(() => {
    store.recordRelease({
      roundId: manifest.round_id,
      releaseVersion: version.version,
      releaseDigest: rDigest,
      previousReleaseDigest: version.previousDigest,
      bundleDigest: d.bundleDigest,
      institutions: n,
      publishedAt: release.published_at,
      blocksPublished: disclosed.blocks.published,
      blocksSuppressed: disclosed.blocks.suppressed,
      releaseJson: JSON.stringify(release),
    });
    store.decryptionReleased(d.logId, rDigest);
  })();
  return { release, releaseDigest: rDigest };
}

/**
 * Every earlier signed release of a round that the audit compares the new one with: those whose
 * JSON the log keeps, `previous`, and any given explicitly — each checked to be this round's and
 * signed by this key holder.
 */
function earlierReleases(
  store: KeyHolderStore,
  roundId: string,
  previous: Release | undefined,
  given: readonly Release[] | undefined,
  ownKey: Uint8Array,
): Release[] {
  const byVersion = new Map<number, Release>();
  const consider = (r: unknown) => {
    const p = ReleaseSchema.safeParse(r);
    if (p.success && p.data.round_id === roundId && verifyRelease(p.data, ownKey))
      byVersion.set(p.data.release_version, p.data);
  };
  for (const json of store.releaseDocuments(roundId)) consider(JSON.parse(json));
  for (const r of [...(given ?? []), ...(previous ? [previous] : [])]) consider(r);
  return [...byVersion.values()].sort((a, b) => a.release_version - b.release_version);
}

/**
 * The published versions a re-release bundle carries (`releases/v<N>.json`, oldest first): each
 * must be a release of this round signed by this key holder, numbered 1, 2, … and chained by
 * `previous_release_digest`. Empty for a first release.
 * @throws SbError `SB_ERR_BUNDLE` naming the version that fails
 */
function publishedChain(bundle: Bundle, roundId: string, ownKey: Uint8Array): Release[] {
  const out: Release[] = [];
  for (const [i, r] of (bundle.releases ?? []).entries()) {
    let raw: unknown;
    try {
      raw = JSON.parse(r.json);
    } catch {
      raw = null;
    }
    const p = ReleaseSchema.safeParse(raw);
    const prev = out[i - 1];
    const ok =
      p.success &&
      p.data.round_id === roundId &&
      verifyRelease(p.data, ownKey) &&
      p.data.release_version === i + 1 &&
      r.version === i + 1 &&
      p.data.previous_release_digest === (prev ? releaseDigest(prev) : null);
    if (!ok || !p.success)
      throw new SbError(
        'SB_ERR_BUNDLE',
        `the bundle's published version ${r.version} of round ${roundId} is not a release this key ` +
          `holder signed for the round, or does not follow the version before it; nothing is decrypted. ` +
          `Ask the coordinator for the releases it published, as signed.`,
        { version: r.version },
      );
    out.push(p.data);
  }
  return out;
}

/**
 * The institutions whose masked inputs are in the sum of a masked round: every contribution
 * except those the bundle lists as `late` (sent unmasked after a release, rounds/reopen.ts on the
 * coordinator). Late contributions are accepted only in a re-release bundle, and each must be one
 * of the bundle's contributions; whether the rest is exactly the survivor set U3 is checked by
 * the unmasking (`SB_ERR_SECAGG_*`).
 * @throws SbError `SB_ERR_BUNDLE`
 */
function maskedContributors(bundle: Bundle, ids: readonly string[], reRelease: boolean): string[] {
  const late = bundle.late ?? [];
  if (late.length === 0) return [...ids];
  const unknown = late.filter((id) => !ids.includes(id));
  if (!reRelease || unknown.length > 0)
    throw new SbError(
      'SB_ERR_BUNDLE',
      !reRelease
        ? `the bundle of masked round ${bundle.manifest.round_id} lists late contributions (${late.join(', ')}) ` +
            `but no published version: late contributions come only after a release. Nothing is decrypted; ` +
            `ask the coordinator for a consistent bundle.`
        : `the bundle lists ${unknown.join(', ')} as late but holds no contribution of ${unknown.length === 1 ? 'it' : 'them'}; ` +
            `nothing is decrypted. Ask the coordinator for a consistent bundle.`,
      { late },
    );
  const survivors = bundle.secagg?.phases.find((p) => p.phase === 'masked_input')?.members ?? [];
  const masked = late.filter((id) => survivors.includes(id));
  if (masked.length > 0)
    throw new SbError(
      'SB_ERR_BUNDLE',
      `the bundle lists ${masked.join(', ')} as late although ${masked.length === 1 ? 'it is' : 'they are'} ` +
        `in the survivor set of the masked round: a survivor's masked input cannot be replaced. Nothing ` +
        `is decrypted; ask the coordinator for a consistent bundle.`,
      { late: masked },
    );
  return ids.filter((id) => !late.includes(id));
}

/** The version of the next release of a round: 1, or previous + 1 when `previous` is the latest release. */
function nextVersion(
  store: KeyHolderStore,
  roundId: string,
  previous: Release | undefined,
  ownKey: Uint8Array,
): { version: number; previousDigest: string | null } {
  const earlier = store.releases(roundId);
  const latest = earlier[earlier.length - 1];
  if (!previous) {
    if (latest) {
      throw new SbError(
        'SB_ERR_ALREADY_RELEASED',
        `round ${roundId} was released already (version ${latest.releaseVersion}, digest ${latest.releaseDigest}); ` +
          `a round is released once. For a corrected re-release pass that release with --previous to ` +
          `sign version ${latest.releaseVersion + 1}.`,
      );
    }
    return { version: 1, previousDigest: null };
  }
  const p = ReleaseSchema.safeParse(previous);
  if (!p.success || p.data.round_id !== roundId || !verifyRelease(p.data, ownKey)) {
    throw new SbError(
      'SB_ERR_PREVIOUS_RELEASE',
      `the previous release given is not a release of round ${roundId} signed by this key holder; pass the release.json this key holder signed last.`,
    );
  }
  const digest = releaseDigest(p.data);
  if (latest && latest.releaseDigest !== digest) {
    throw new SbError(
      'SB_ERR_PREVIOUS_RELEASE',
      `the previous release given (version ${p.data.release_version}) is not the latest release of ` +
        `round ${roundId}; the latest is version ${latest.releaseVersion} (digest ${latest.releaseDigest}).`,
    );
  }
  return { version: p.data.release_version + 1, previousDigest: digest };
}

/**
 * What the unmasking needs from a masked round's bundle: U2 and U3 from the ended phases, the
 * advertisements, survivor-set signatures and reveals as the nodes signed them, and the
 * institutions whose verified contributions are in the sum (must be exactly U3).
 * @throws SbError `SB_ERR_BUNDLE` when the bundle of a masked round has no secagg record
 */
function unmaskInput(
  bundle: Bundle,
  manifest: RoundManifest,
  contributors: string[],
  revealSecretKey: Uint8Array,
): UnmaskInput {
  const secagg = manifest.secagg;
  const record = bundle.secagg;
  if (!secagg || !record || record.round_id !== manifest.round_id)
    throw new SbError(
      'SB_ERR_BUNDLE',
      `round ${manifest.round_id} is masked but the bundle has no secure-aggregation record of it ` +
        `(secagg.json); nothing is decrypted. Ask the coordinator for the complete bundle.`,
    );
  const members = (p: string) => record.phases.find((x) => x.phase === p)?.members ?? [];
  return {
    roundId: manifest.round_id,
    participants: manifest.participants.map((p) => p.institution_id),
    identityKeys: new Map(
      manifest.participants.map((p) => [p.institution_id, new Uint8Array(Buffer.from(p.ed25519_public_key, 'base64'))]),
    ),
    threshold: secagg.threshold,
    graph: secagg.graph,
    advertisements: record.advertisements.map((a) => a.payload),
    sets: { shared: members('share'), survivors: members('masked_input') },
    survivorSignatures: record.consistency.map((c) => c.payload),
    reveals: record.reveals.map((r) => r.payload),
    contributors,
    revealSecretKey,
  };
}
