import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { AirgapRequest, AirgapRequestFile, AirgapResponse, AirgapResponseFile } from '../../schemas/airgap.js';
import { SbError } from '../../shared/errors/sb-error.js';
import {
  airgapFileBytes,
  readAirgapFile,
  signResponseFile,
  verifyRequestFile,
  writeAirgapFile,
} from '../../shared/protocol/airgap-files.js';
import { REQUEST_HEADERS } from '../../shared/protocol/request-signing.js';
import { ROUTES } from '../../shared/protocol/routes.js';
import { type Clock, systemClock } from '../../shared/time/clock.js';
import { buildApp } from '../app.js';
import type { CoordinatorHome } from '../home.js';
import { findCarriedRequest, saveCarriedRequest } from '../store/airgap.js';
import { type CoordinatorDb, recordEvent, tx } from '../store/db.js';
import { getInstitution, type Institution } from '../store/institutions.js';
import { findRelease } from '../store/releases.js';
import { findRound, listRounds } from '../store/rounds.js';
import { currentSubmission } from '../store/submissions.js';

/**
 * Default largest age of a carried request, in seconds (7 days): how long a signed request may
 * take from the air-gapped node to the coordinator. Phase deadlines still apply at import time.
 */
export const DEFAULT_CARRIED_MAX_AGE_SECONDS = 7 * 24 * 3600;

/** What {@link importRequestFile} did. */
export interface ImportRequestFileResult {
  institutionId: string;
  /** The signed response file to carry back. */
  responseFile: string;
  /** Requests run now through the API. */
  ran: number;
  /** Requests answered before (the same export file, or a request carried again): same answer. */
  repeated: number;
  /** Per request `METHOD path → status`, in file order. */
  outcomes: string[];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const roundOf = (path: string) => /^\/v1\/rounds\/([^/?]+)\//.exec(path)?.[1];

/**
 * Crash seam for tests (tests/round/airgap.test.ts): with `SB_CRASH_POINT=airgap.handled` in the
 * environment, the process kills itself (SIGKILL) right after the API handled a carried request
 * and before its answer is stored — the moment a power cut would hurt most.
 */
function crashPoint(name: string): void {
  if (process.env.SB_CRASH_POINT === name) process.kill(process.pid, 'SIGKILL');
}

/**
 * One carried request, answered once (docs/DECISIONS.md 88): its kept answer when this institution
 * and nonce were answered before (same method, path and body), else run through the API. The
 * handler's writes (nonce, audit head, contribution, receipt, phase message, events) and the kept
 * answer are ONE transaction: a crash in between leaves neither, so importing the file again runs
 * the request afresh instead of refusing its nonce as replayed (which would strand the node
 * without its receipt). The handlers are synchronous, so the write lock is held only for the
 * handling of one request; their own transactions nest as savepoints.
 */
async function answerCarried(
  app: Awaited<ReturnType<typeof buildApp>>,
  db: CoordinatorDb,
  c: { request: AirgapRequest; institutionId: string; nonce: string; requestFileSha256: string; now: Clock },
): Promise<{ status: number; contentType: string; body: Buffer; repeated: boolean }> {
  const r = c.request;
  const body = Buffer.from(r.body, 'base64');
  db.exec('BEGIN IMMEDIATE');
  try {
    const kept = findCarriedRequest(db, c.institutionId, c.nonce);
    if (kept && kept.method === r.method && kept.path === r.path && kept.contentSha256 === sha256(body)) {
      db.exec('COMMIT');
      return { ...kept, repeated: true };
    }
    const res = await app.inject({
      method: r.method,
      url: r.path,
      headers: { ...r.headers, 'x-sb-transport': 'file' },
      ...(r.method === 'POST' ? { payload: body } : {}),
    });
    const answer = {
      status: res.statusCode,
      contentType: String(res.headers['content-type'] ?? ''),
      body: res.rawPayload,
    };
    crashPoint('airgap.handled');
    // Kept only when the request was this institution's and new (a refused signature or a
    // replayed nonce is answered, never stored under the nonce).
    if (!kept && res.statusCode !== 401 && !(res.statusCode === 409 && /REPLAY/.test(res.body)))
      saveCarriedRequest(db, {
        institutionId: c.institutionId,
        nonce: c.nonce,
        method: r.method,
        path: r.path,
        contentSha256: sha256(body),
        requestFileSha256: c.requestFileSha256,
        ...answer,
        at: c.now(),
      });
    db.exec('COMMIT');
    return { ...answer, repeated: false };
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

/**
 * `sectorbench coordinator import FILE` (issue 16, item 3; docs/DECISIONS.md "Air-gapped nodes"):
 * check an export file of an air-gapped node — schema, the institution registered, the whole file
 * signed by its registered key — then run each carried request, in file order, through the same
 * fastify app as HTTP (`app.inject`): signature, replay and revocation checks, rate limits, phase
 * rules and logging are those of the online API, except that a carried request may be up to
 * `maxAgeSeconds` old instead of 300 s. A request answered before (same institution and nonce) is
 * not run again: its kept answer is handed back, so importing the same file twice is harmless;
 * a request's effect and its kept answer are stored together, so an import killed halfway is
 * simply run again (DECISIONS 88). Public documents the node will ask for next are added (see
 * {@link addedDocuments}), so it needs no extra carry for them. The answers go into a response
 * file signed with the coordinator's identity key (pinned by every node at enrolment).
 *
 * @throws SbError `SB_ERR_AIRGAP_FILE` (unreadable, malformed, requests of another institution),
 *   `SB_ERR_UNKNOWN_INSTITUTION`, `SB_ERR_AIRGAP_SIGNATURE` (file not signed by the registered
 *   key); each names the file and the next step, and nothing is run
 */
export async function importRequestFile(o: {
  h: CoordinatorHome;
  file: string;
  /** Where the response file goes (default: next to the export file). */
  out?: string;
  now?: Clock;
  logger?: FastifyBaseLogger;
  maxAgeSeconds?: number;
}): Promise<ImportRequestFileResult> {
  const now = o.now ?? systemClock;
  const name = basename(o.file);
  const { doc, sha256: fileSha } = readAirgapFile(o.file, 'requests');
  const inst = checkRequestFile(o.h.db, o.file, doc);
  const app = await buildApp({
    db: o.h.db,
    identity: o.h.identity,
    config: { ...o.h.appConfig, requestMaxAgeSeconds: o.maxAgeSeconds ?? DEFAULT_CARRIED_MAX_AGE_SECONDS },
    now,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const responses: AirgapResponse[] = [];
  const outcomes: string[] = [];
  let ran = 0;
  let repeated = 0;
  try {
    for (const r of doc.requests) {
      const nonce = r.headers[REQUEST_HEADERS.nonce] ?? '';
      const answer = await answerCarried(app, o.h.db, {
        request: r,
        institutionId: inst.id,
        nonce,
        requestFileSha256: fileSha,
        now,
      });
      if (answer.repeated) repeated++;
      else ran++;
      responses.push(responseOf(nonce, r.method, r.path, answer));
      outcomes.push(`${r.method} ${r.path} → ${answer.status}`);
    }
    responses.push(
      ...(await addedDocuments(app, {
        db: o.h.db,
        institutionId: inst.id,
        requests: doc.requests,
        answered: responses,
      })),
    );
  } finally {
    await app.close();
  }

  const unsigned: Omit<AirgapResponseFile, 'coordinator_signature'> = {
    type: 'sectorbench.airgap-responses',
    version: 1,
    institution_id: inst.id,
    request_file_id: doc.file_id,
    request_file_sha256: fileSha,
    created_at: now().toISOString(),
    responses,
  };
  const { bytes } = airgapFileBytes(signResponseFile(unsigned, o.h.identity.secretKey));
  const responseFile = resolve(
    o.out ?? join(dirname(o.file), `${name.replace(/\.request\.json$|\.json$/, '')}.response.json`),
  );
  writeAirgapFile(responseFile, bytes);
  tx(o.h.db, () =>
    recordEvent(o.h.db, {
      at: now().toISOString(),
      kind: 'airgap.imported',
      institutionId: inst.id,
      detail: { file: name, file_sha256: fileSha, requests: doc.requests.length, ran, repeated },
    }),
  );
  return { institutionId: inst.id, responseFile, ran, repeated, outcomes };
}

/**
 * The institution of an export file, after checking that it is registered, that the whole file
 * is signed by its registered key and that every request in it is signed for it.
 *
 * @throws SbError `SB_ERR_UNKNOWN_INSTITUTION`, `SB_ERR_AIRGAP_SIGNATURE`, `SB_ERR_AIRGAP_FILE`
 */
function checkRequestFile(db: CoordinatorDb, file: string, doc: AirgapRequestFile): Institution {
  const name = basename(file);
  const inst = getInstitution(db, doc.institution_id);
  if (!inst)
    throw new SbError(
      'SB_ERR_UNKNOWN_INSTITUTION',
      `${file}: institution ${doc.institution_id} is not registered with this coordinator; nothing was run. ` +
        "Enrol it first ('sectorbench coordinator institution add').",
      { file: name, institution_id: doc.institution_id },
    );
  if (!verifyRequestFile(doc, new Uint8Array(Buffer.from(inst.ed25519PublicKey, 'base64'))))
    throw new SbError(
      'SB_ERR_AIRGAP_SIGNATURE',
      `${file}: the export file is not signed by the key registered for institution ${inst.id} ` +
        `(fingerprint ${inst.fingerprint}): it was altered after signing, or made by another node. Nothing was run. ` +
        "Ask the institution to write the export file again ('sectorbench node export --home DIR') and carry that one.",
      { file: name, institution_id: inst.id },
    );
  for (const r of doc.requests)
    if (r.headers[REQUEST_HEADERS.institution] !== doc.institution_id)
      throw new SbError(
        'SB_ERR_AIRGAP_FILE',
        `${file}: request ${r.method} ${r.path} is signed for institution ` +
          `${String(r.headers[REQUEST_HEADERS.institution])}, not ${doc.institution_id}; nothing was run. ` +
          'Carry the export file as the node wrote it.',
        { file: name },
      );
  return inst;
}

function responseOf(
  nonce: string | null,
  method: 'GET' | 'POST',
  path: string,
  a: { status: number; contentType: string; body: Buffer },
): AirgapResponse {
  return {
    nonce,
    method,
    path,
    status: a.status,
    content_type: a.contentType,
    body: a.body.toString('base64'),
    body_sha256: sha256(a.body),
  };
}

/**
 * Public documents the node will ask for next, added unasked (nonce null) so it needs no extra
 * carry: for each round whose manifest it asked for, the manifest and the round's BFV key; for
 * each round whose newest release it got, the version that one replaces (version 2 or later;
 * DECISIONS 89; the node checks the chain of versions) and the newest release of every earlier
 * studiejaar's round its comparison series shows ({@link seriesReleasePaths}). The node keeps
 * these and nothing else, and verifies each as online.
 */
async function addedDocuments(
  app: Awaited<ReturnType<typeof buildApp>>,
  c: {
    db: CoordinatorDb;
    institutionId: string;
    requests: readonly AirgapRequest[];
    answered: readonly AirgapResponse[];
  },
): Promise<AirgapResponse[]> {
  const want = new Set<string>();
  const asked = new Set(c.requests.filter((r) => r.method === 'GET').map((r) => r.path));
  for (const round of new Set(c.requests.map((r) => roundOf(r.path)).filter((x): x is string => !!x))) {
    const id = decodeURIComponent(round);
    if (asked.has(ROUTES.manifest(id))) for (const p of [ROUTES.manifest(id), ROUTES.hePublicKey(id)]) want.add(p);
    const release = c.answered.find((a) => a.method === 'GET' && a.path === ROUTES.release(id) && a.status === 200);
    if (!release) continue;
    const version = releaseVersionOf(release.body);
    if (version !== undefined && version > 1) want.add(ROUTES.release(id, '', version - 1));
    for (const p of seriesReleasePaths(c.db, id, c.institutionId)) if (!asked.has(p)) want.add(p);
  }
  const out: AirgapResponse[] = [];
  for (const path of want) {
    const res = await app.inject({ method: 'GET', url: path, headers: { 'x-sb-transport': 'file' } });
    if (res.statusCode !== 200) continue;
    out.push(
      responseOf(null, 'GET', path, {
        status: 200,
        contentType: String(res.headers['content-type'] ?? ''),
        body: res.rawPayload,
      }),
    );
  }
  return out;
}

/**
 * The newest-release paths an online `node benchmark` of `roundId` would fetch for its series
 * (node/round/benchmark.ts, DECISIONS 68 and 89): every other round of an earlier studiejaar to
 * which the institution sent a contribution that this coordinator kept, and which has a
 * release. Two rounds of one studiejaar: both (the node picks the one published last).
 */
export function seriesReleasePaths(db: CoordinatorDb, roundId: string, institutionId: string): string[] {
  const current = findRound(db, roundId);
  if (!current) return [];
  return listRounds(db)
    .filter(
      (r) =>
        r.id !== roundId &&
        r.manifest.studiejaar < current.manifest.studiejaar &&
        currentSubmission(db, r.id, institutionId) !== undefined &&
        findRelease(db, r.id) !== undefined,
    )
    .map((r) => ROUTES.release(r.id))
    .sort();
}

const ReleaseVersionSchema = z.object({ release_version: z.number().int() });

/** `release_version` of a release served as JSON (base64 body), if it is one. */
function releaseVersionOf(base64: string): number | undefined {
  try {
    const v = ReleaseVersionSchema.safeParse(JSON.parse(Buffer.from(base64, 'base64').toString('utf8')));
    return v.success ? v.data.release_version : undefined;
  } catch {
    return undefined;
  }
}
