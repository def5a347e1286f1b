import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Agent, type Dispatcher, request } from 'undici';
import type { Release } from '../schemas/release.js';
import type { Thresholds } from '../schemas/manifest.js';
import {
  addInstitution,
  closeRound,
  initCoordinator,
  openCoordinatorHome,
  openRound,
  pinKeyHolder,
  publishRelease,
  startServer,
  type CoordinatorDb,
} from '../coordinator/index.js';
import { endorseRound } from '../keyholder/endorse.js';
import { initKeyHolder } from '../keyholder/init.js';
import { addParticipants, exampleBrin } from '../keyholder/participants.js';
import { generateCustodians, type GeneratedCustodians } from '../keyholder/custody/present.js';
import { releaseRoundDetailed, type ReleaseResult } from '../keyholder/release.js';
import { HOME_FILES } from '../keyholder/config.js';
import { importDataset } from '../node/import/import-dataset.js';
import { initNode } from '../node/client/init.js';
import { submitContribution, type SubmitResult } from '../node/round/submit.js';
import { writeBenchmark } from '../node/round/benchmark.js';
import { readBfvPublicKey } from '../shared/crypto/bfv-keys.js';
import { readPublicIdentityFile, type Identity } from '../shared/crypto/identity.js';
import { SbError } from '../shared/errors/sb-error.js';
import { makeDir } from '../shared/fs/make-dir.js';
import { type Clock, systemClock } from '../shared/time/clock.js';

/** One institution's exports. */
export interface InstitutionData {
  id: string;
  enrolments: string;
  attendance: string;
  mapping?: string;
}

/** Find the institutions in a folder laid out like `../shared/sample/`. */
export function institutionsIn(dir: string): { codebook: string; institutions: InstitutionData[] } {
  const codebook = join(dir, 'codebook.csv');
  if (!existsSync(codebook))
    throw new SbError(
      'SB_ERR_USAGE',
      `${dir} has no codebook.csv; --data takes a folder laid out like ../shared/sample (codebook.csv and one folder per institution).`,
    );
  const names = readdirSync(dir, { withFileTypes: true })
    .filter(
      (d) =>
        d.isDirectory() &&
        existsSync(join(dir, d.name, 'enrolments.csv')) &&
        existsSync(join(dir, d.name, 'attendance.csv')),
    )
    .map((d) => d.name);
  // `X-dirty` is another export of institution X (as in the sample): the same records, so skip it when X is there.
  const institutions = names
    .filter((n) => !(n.endsWith('-dirty') && names.includes(n.slice(0, -'-dirty'.length))))
    .sort()
    .map((n) => ({ id: n, enrolments: join(dir, n, 'enrolments.csv'), attendance: join(dir, n, 'attendance.csv') }));
  if (institutions.length === 0)
    throw new SbError('SB_ERR_USAGE', `${dir} holds no institution folders with enrolments.csv and attendance.csv.`);
  return { codebook, institutions };
}

export interface LocalRoundOptions {
  /** Where every role's home and every output goes. */
  out: string;
  codebook: string;
  institutions: InstitutionData[];
  /** Studiejaar S. */
  year: number;
  roundId?: string;
  /**
   * Real TLS on loopback (issue 16): the coordinator gets a private coalition CA and serves
   * https; every node pins that CA at enrolment.
   */
  tls?: boolean;
  thresholds?: Partial<Thresholds>;
  maxParticipants?: number;
  /** Injected clock. */
  now?: Clock;
  /** Progress lines (phases and counts only). */
  log?: (line: string) => void;
  /**
   * Start the coordinator's server for its home; default in this process on 127.0.0.1 port 0.
   * Benchmarks run it as a child process to measure its memory on its own.
   */
  startCoordinator?: (home: string, now: Clock) => Promise<{ url: string; close(): Promise<void> }>;
  /** Called per node after import and enrolment, before it submits (approvals hook in here). */
  beforeSubmit?: (node: LocalNode, round: LocalRound) => Promise<void>;
  /**
   * Secure aggregation (issue 10): endorse and open a masked round with this threshold t
   * (default max(ceil(2n/3), min_institutions)). Absent: an unmasked round.
   */
  masking?: { threshold?: number };
}

export interface LocalNode {
  id: string;
  home: string;
  publicKeyFile: string;
  fingerprint: string;
}

/** A round in progress on this machine: handles to every role. */
export interface LocalRound {
  roundId: string;
  out: string;
  coordinator: {
    home: string;
    url: string;
    server: { close(): Promise<void> };
    /** The HTTP dispatcher that trusts the coordinator (its coalition CA) over TLS; undefined over plain HTTP. */
    dispatcher?: Dispatcher;
    db: CoordinatorDb;
    identity: Identity;
    publicKeyFile: string;
  };
  keyHolder: {
    home: string;
    publicKeyFile: string;
    /** The generated custodians of the key ceremony (their keys and shares, outside the home). */
    custodians: GeneratedCustodians;
  };
  nodes: LocalNode[];
  codebook: string;
  year: number;
  now: Clock;
  log: (line: string) => void;
  /** Whether the round is masked (secure aggregation), with its threshold t. */
  masking: { threshold: number } | null;
  /** Stop the coordinator and close its database. */
  stop(): Promise<void>;
}

/**
 * The coordinator and the key holder: their keys (with a CA when `o.tls`), the key ceremony
 * that seals the BFV secret key under generated custodians, and the key holder pinned at the
 * coordinator.
 */
async function setupAuthorities(
  o: LocalRoundOptions,
  x: { coordHome: string; khHome: string; custodyDir: string; now: Clock; log: (line: string) => void },
) {
  const { coordHome, khHome, custodyDir, now, log } = x;
  log('coordinator and key holder: keys');
  const coord = await initCoordinator({
    home: coordHome,
    host: '127.0.0.1',
    port: 0,
    ...(o.tls ? { tls: { ca: { name: 'sectorbench test coalition CA' } } } : {}),
  });
  const caFile = coord.tls?.caFile ? join(coordHome, coord.tls.caFile) : undefined;
  const dispatcher = caFile ? new Agent({ connect: { ca: readFileSync(caFile) } }) : undefined;
  const coordPub = `${coord.identityPath}.pub`;
  // Key ceremony: the BFV secret key is sealed under a key split 2 of 3 among generated
  // custodians (in a real coalition each custodian makes their own key on their own machine).
  const custodians = await generateCustodians(custodyDir, { n: 3, k: 2 });
  const kh = await initKeyHolder({
    home: khHome,
    coordinatorKey: await readPublicIdentityFile(coordPub),
    custody: custodians.custody,
  });
  log(
    `key ceremony: BFV secret key sealed, ${kh.ceremony.k} of ${kh.ceremony.n} custodian shares ` +
      `needed (${kh.ceremony.custodians.map((c) => `${c.name}: ${c.shareFile}, fingerprint ${c.shareFingerprint}`).join('; ')})`,
  );
  const khPub = join(khHome, `${HOME_FILES.identity}.pub`);
  const admin = await openCoordinatorHome(coordHome);
  pinKeyHolder(admin.db, { publicKey: await readPublicIdentityFile(khPub), now: now() });
  return { caFile, dispatcher, coordPub, custodians, khPub, admin };
}

/** Imports each institution's data into its own node home, initialises the node and enrols it at the coordinator. */
async function setupNodes(
  o: LocalRoundOptions,
  x: {
    out: string;
    url: string;
    coordPub: string;
    khPub: string;
    caFile: string | undefined;
    db: Awaited<ReturnType<typeof openCoordinatorHome>>['db'];
    now: Clock;
    log: (line: string) => void;
  },
): Promise<LocalNode[]> {
  const { out, url, coordPub, khPub, caFile, now, log } = x;
  const nodes: LocalNode[] = [];
  for (const inst of o.institutions) {
    const home = join(out, 'nodes', inst.id);
    const r = await importDataset({
      home,
      enrolments: inst.enrolments,
      attendance: inst.attendance,
      mapping: inst.mapping,
      now,
    });
    const n = await initNode({
      home,
      institutionId: inst.id,
      // Synthetic institutions get a readable name for their comparison page.
      institutionName: /^inst-\d+$/.test(inst.id) ? `Instelling ${inst.id.slice(5)} (voorbeeld)` : inst.id,
      coordinatorUrl: url,
      coordinatorKeyFile: coordPub,
      keyHolderKeyFile: khPub,
      ...(caFile ? { coordinatorCaFile: caFile } : {}),
    });
    addInstitution(x.db, { id: inst.id, publicKey: await readPublicIdentityFile(n.publicKeyFile), now: now() });
    nodes.push({ id: inst.id, home, publicKeyFile: n.publicKeyFile, fingerprint: n.fingerprint });
    log(
      `${inst.id}: imported ${r.enrolments.imported} enrolments and ${r.attendance.records - r.observationsDropped} observations; enrolled (${n.fingerprint})`,
    );
  }
  return nodes;
}

/**
 * The key holder enrols every institution itself (issue 11): in a real coalition after
 * comparing each node's fingerprint by phone; it endorses only these as participants.
 */
async function enrolAtKeyHolder(khHome: string, nodes: readonly LocalNode[], now: Clock): Promise<void> {
  await addParticipants(
    khHome,
    await Promise.all(
      nodes.map(async (n, i) => ({
        institutionId: n.id,
        name: /^inst-\d+$/.test(n.id) ? `Instelling ${n.id.slice(5)} (voorbeeld)` : n.id,
        brin: exampleBrin(i + 1),
        publicKey: await readPublicIdentityFile(n.publicKeyFile),
      })),
    ),
    now,
  );
}

/**
 * Set up a round on this machine: key holder and coordinator homes and keys (each pinning the
 * other), the coordinator listening on 127.0.0.1 (port 0), one node home per institution with
 * its data imported and its key registered, the key holder's endorsement, and the open round.
 *
 * @see ../shared/spec/ARCHITECTURE.md "The round"
 */
export async function setupLocalRound(o: LocalRoundOptions): Promise<LocalRound> {
  const now = o.now ?? systemClock;
  const log = o.log ?? (() => {});
  const out = resolve(o.out);
  const roundId = o.roundId ?? `${o.year}-${o.year + 1}-r1`;
  makeDir(out, 0o777, 'the demo folder', 'folder');
  const coordHome = join(out, 'coordinator');
  const khHome = join(out, 'keyholder');
  const custodyDir = join(out, 'custodians');
  for (const d of [coordHome, khHome, custodyDir, join(out, 'nodes'), join(out, 'bundle')])
    rmSync(d, { recursive: true, force: true });

  const { caFile, dispatcher, coordPub, custodians, khPub, admin } = await setupAuthorities(o, {
    coordHome,
    khHome,
    custodyDir,
    now,
    log,
  });

  const server = o.startCoordinator
    ? await o.startCoordinator(coordHome, now)
    : await startServer({ home: coordHome, host: '127.0.0.1', port: 0, logger: false, now });
  const url = server.url;
  log(`coordinator listening on ${url}`);

  const nodes = await setupNodes(o, { out, url, coordPub, khPub, caFile, db: admin.db, now, log });
  await enrolAtKeyHolder(khHome, nodes, now);
  const { endorsement } = await endorseAndOpen({
    khHome,
    db: admin.db,
    identity: admin.identity,
    roundId,
    year: o.year,
    codebook: o.codebook,
    participants: nodes.length,
    url,
    now,
    log,
    maxParticipants: o.maxParticipants,
    thresholds: o.thresholds,
    masking: o.masking,
  });
  return {
    roundId,
    out,
    coordinator: {
      home: coordHome,
      url,
      server,
      db: admin.db,
      identity: admin.identity,
      publicKeyFile: coordPub,
      ...(dispatcher ? { dispatcher } : {}),
    },
    keyHolder: { home: khHome, publicKeyFile: khPub, custodians },
    nodes,
    codebook: o.codebook,
    year: o.year,
    now,
    log,
    masking: endorsement.masking ? { threshold: endorsement.masking.threshold } : null,
    async stop() {
      await server.close();
      admin.db.close();
      await dispatcher?.close();
    },
  };
}

/** Every node computes, encrypts, signs and submits over HTTP (`concurrency` nodes at a time). */
export async function submitAll(
  round: LocalRound,
  beforeSubmit?: LocalRoundOptions['beforeSubmit'],
  concurrency = 1,
): Promise<Map<string, SubmitResult>> {
  const results = new Map<string, SubmitResult>();
  const queue = [...round.nodes];
  const worker = async () => {
    for (let node = queue.shift(); node; node = queue.shift()) {
      await beforeSubmit?.(node, round);
      const r = await submitContribution({ home: node.home, roundId: round.roundId, now: round.now });
      results.set(node.id, r);
      round.log(
        `${node.id}: submitted ${r.ciphertexts} ciphertexts, ${r.wireBytes.toLocaleString('en-GB')} bytes; receipt ${r.receipt.sequence}`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return results;
}

/** Close the round, let the key holder release it (two custodians present their shares), publish the release. */
export async function closeAndRelease(
  round: LocalRound,
): Promise<{ release: Release; result: ReleaseResult; keyHolderMs: number; bundleDir: string }> {
  const bundleDir = join(round.out, 'bundle');
  const closed = await closeRound({ db: round.coordinator.db, roundId: round.roundId, bundleDir, now: round.now() });
  round.log(`round closed: ${closed.contributions} contributions summed; bundle in ${bundleDir}`);
  const t0 = performance.now();
  // Two of the three custodians present their shares; the key is unsealed for this release only.
  const shares = await round.keyHolder.custodians.present();
  const result = await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir, shares, now: round.now });
  const keyHolderMs = performance.now() - t0;
  round.log(
    `key holder: release signed in ${(keyHolderMs / 1000).toFixed(1)} s (${result.blocks.published} blocks published, ${result.blocks.suppressed} suppressed)`,
  );
  await publishRelease({ db: round.coordinator.db, roundId: round.roundId, release: result.release, now: round.now() });
  return { release: result.release, result, keyHolderMs, bundleDir };
}

/** Each node fetches the release, verifies it and writes its comparison. */
export async function writeAllBenchmarks(round: LocalRound): Promise<Map<string, { html: string; csv: string }>> {
  const out = new Map<string, { html: string; csv: string }>();
  for (const node of round.nodes) {
    const r = await writeBenchmark({
      home: node.home,
      roundId: round.roundId,
      out: join(node.home, 'benchmark'),
      now: round.now,
    });
    out.set(node.id, { html: r.html, csv: r.csv });
  }
  return out;
}

/**
 * Save the coordinator's published release and its publication site under `out`: the signed
 * JSON as `release.json`, and every page and download of the site in `site/`, fetched over HTTP
 * by following the site's relative links from `site/index.html` (so every link is known to work).
 */
export async function savePublishedRelease(
  round: LocalRound,
): Promise<{ json: string; csv: string; html: string; site: string; files: string[] }> {
  const siteDir = join(round.out, 'site');
  mkdirSync(siteDir, { recursive: true });
  const base = `${round.coordinator.url}/v1/rounds/${encodeURIComponent(round.roundId)}/site/`;
  const todo = ['index.html'];
  const seen = new Set(todo);
  for (let file = todo.shift(); file !== undefined; file = todo.shift()) {
    const res = await request(base + file, { dispatcher: round.coordinator.dispatcher });
    if (res.statusCode !== 200)
      throw new SbError('SB_ERR_DEMO', `the coordinator did not serve site/${file} (${res.statusCode}).`);
    const body = Buffer.from(await res.body.arrayBuffer());
    writeFileSync(join(siteDir, file), body);
    if (!file.endsWith('.html')) continue;
    for (const m of body.toString('utf8').matchAll(/href="([A-Za-z0-9_-]+\.(?:html|json|csv))(?:#[^"]*)?"/g)) {
      const [, f] = m;
      if (f !== undefined && !seen.has(f)) {
        seen.add(f);
        todo.push(f);
      }
    }
  }
  const json = join(round.out, 'release.json');
  writeFileSync(json, readFileSync(join(siteDir, 'release.json')));
  return {
    json,
    csv: join(siteDir, 'release.csv'),
    html: join(siteDir, 'index.html'),
    site: siteDir,
    files: [...seen].sort(),
  };
}

/** The key holder endorses a round of the enrolled participants; the coordinator opens it (24 hours). */
async function endorseAndOpen(a: {
  khHome: string;
  db: CoordinatorDb;
  identity: Identity;
  roundId: string;
  year: number;
  codebook: string;
  participants: number;
  url: string;
  now: Clock;
  log: (line: string) => void;
  maxParticipants?: number;
  thresholds?: Partial<Thresholds>;
  masking?: { threshold?: number };
}): Promise<{ endorsement: Awaited<ReturnType<typeof endorseRound>> }> {
  const { now, roundId } = a;
  const endorsement = await endorseRound({
    home: a.khHome,
    roundId,
    maxParticipants: a.maxParticipants ?? 500,
    thresholds: a.thresholds,
    ...(a.masking ? { masking: { participants: a.participants, ...a.masking } } : {}),
    now,
  });
  await openRound({
    db: a.db,
    identity: a.identity,
    roundId,
    studiejaar: a.year,
    codebook: a.codebook,
    endorsement,
    hePublicKey: await readBfvPublicKey(join(a.khHome, HOME_FILES.bfvPublicKey)),
    deadline: new Date(now().getTime() + 24 * 3600 * 1000),
    publicUrl: a.url,
    now: now(),
  });
  a.log(
    `round ${roundId} open (studiejaar ${a.year}): ${a.participants} participants endorsed by the ` +
      `key holder, thresholds ${JSON.stringify(endorsement.thresholds)}${
        endorsement.masking
          ? `; masked (secure aggregation), threshold t = ${endorsement.masking.threshold} over the ${endorsement.masking.graph.kind} graph`
          : '; unmasked'
      }`,
  );
  return { endorsement };
}

/** Options of {@link nextLocalRound}: the next studiejaar's data for the same institutions. */
export interface NextRoundOptions {
  year: number;
  codebook: string;
  /** The same institution ids as the previous round's nodes, with this studiejaar's exports. */
  institutions: InstitutionData[];
  roundId?: string;
  thresholds?: Partial<Thresholds>;
  maxParticipants?: number;
  masking?: { threshold?: number };
}

/**
 * The next round on the same coordinator, key holder and node homes (issue 16, "Trends"): each
 * node imports its export of the new studiejaar (replacing the previous dataset; the vectors it
 * sent earlier stay in its database), the key holder endorses a new round of the same enrolled
 * participants, and the coordinator opens it beside the earlier, released ones.
 * @throws SbError SB_ERR_USAGE when the institutions are not the previous round's nodes
 */
export async function nextLocalRound(prev: LocalRound, o: NextRoundOptions): Promise<LocalRound> {
  const { now, log } = prev;
  const ids = o.institutions.map((i) => i.id).sort();
  const had = prev.nodes.map((n) => n.id).sort();
  if (ids.join(',') !== had.join(','))
    throw new SbError(
      'SB_ERR_USAGE',
      `the next round needs the same institutions as the previous one (${had.join(', ')}), not ${ids.join(', ')}.`,
    );
  for (const inst of o.institutions) {
    const home = join(prev.out, 'nodes', inst.id);
    const r = await importDataset({
      home,
      enrolments: inst.enrolments,
      attendance: inst.attendance,
      mapping: inst.mapping,
      now,
    });
    log(
      `${inst.id}: imported the ${o.year} export, ${r.enrolments.imported} enrolments and ${r.attendance.records - r.observationsDropped} observations`,
    );
  }
  const roundId = o.roundId ?? `${o.year}-${o.year + 1}-r1`;
  const { endorsement } = await endorseAndOpen({
    khHome: prev.keyHolder.home,
    db: prev.coordinator.db,
    identity: prev.coordinator.identity,
    roundId,
    year: o.year,
    codebook: o.codebook,
    participants: prev.nodes.length,
    url: prev.coordinator.url,
    now,
    log,
    maxParticipants: o.maxParticipants,
    thresholds: o.thresholds,
    masking: o.masking,
  });
  return {
    ...prev,
    roundId,
    codebook: o.codebook,
    year: o.year,
    masking: endorsement.masking ? { threshold: endorsement.masking.threshold } : null,
  };
}
