import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { AirgapResponse, AirgapResponseFile } from '../../schemas/airgap.js';
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
import { recordEvent, tx } from '../store/db.js';
import { getInstitution } from '../store/institutions.js';

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
 * `sectorbench coordinator import FILE` (issue 16, item 3; docs/DECISIONS.md "Air-gapped nodes"):
 * check an export file of an air-gapped node — schema, the institution registered, the whole file
 * signed by its registered key — then run each carried request, in file order, through the same
 * fastify app as HTTP (`app.inject`): signature, replay and revocation checks, rate limits, phase
 * rules and logging are those of the online API, except that a carried request may be up to
 * `maxAgeSeconds` old instead of 300 s. A request answered before (same institution and nonce) is
 * not run again: its kept answer is handed back, so importing the same file twice is harmless.
 * For each round whose manifest the node asked for, the public manifest and BFV key are added,
 * so the node needs no extra carry for them. The answers go into a response file signed with
 * the coordinator's identity key (pinned by every node at enrolment).
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
  const inst = getInstitution(o.h.db, doc.institution_id);
  if (!inst)
    throw new SbError(
      'SB_ERR_UNKNOWN_INSTITUTION',
      `${o.file}: institution ${doc.institution_id} is not registered with this coordinator; nothing was run. Enrol it first ('sectorbench coordinator institution add').`,
      { file: name, institution_id: doc.institution_id },
    );
  if (!verifyRequestFile(doc, new Uint8Array(Buffer.from(inst.ed25519PublicKey, 'base64'))))
    throw new SbError(
      'SB_ERR_AIRGAP_SIGNATURE',
      `${o.file}: the export file is not signed by the key registered for institution ${inst.id} (fingerprint ${inst.fingerprint}): it was altered after signing, or made by another node. Nothing was run. Ask the institution to write the export file again ('sectorbench node export --home DIR') and carry that one.`,
      { file: name, institution_id: inst.id },
    );
  for (const r of doc.requests)
    if (r.headers[REQUEST_HEADERS.institution] !== doc.institution_id)
      throw new SbError(
        'SB_ERR_AIRGAP_FILE',
        `${o.file}: request ${r.method} ${r.path} is signed for institution ${String(r.headers[REQUEST_HEADERS.institution])}, not ${doc.institution_id}; nothing was run. Carry the export file as the node wrote it.`,
        { file: name },
      );

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
      const body = Buffer.from(r.body, 'base64');
      const kept = findCarriedRequest(o.h.db, inst.id, nonce);
      let answer: { status: number; contentType: string; body: Buffer };
      if (kept && kept.method === r.method && kept.path === r.path && kept.contentSha256 === sha256(body)) {
        answer = kept;
        repeated++;
      } else {
        const res = await app.inject({
          method: r.method,
          url: r.path,
          headers: { ...r.headers, 'x-sb-transport': 'file' },
          ...(r.method === 'POST' ? { payload: body } : {}),
        });
        answer = {
          status: res.statusCode,
          contentType: String(res.headers['content-type'] ?? ''),
          body: res.rawPayload,
        };
        ran++;
        // Kept only when the request was this institution's and new (a refused signature or a
        // replayed nonce is answered, never stored under the nonce).
        if (!kept && res.statusCode !== 401 && !(res.statusCode === 409 && /REPLAY/.test(res.body)))
          saveCarriedRequest(o.h.db, {
            institutionId: inst.id,
            nonce,
            method: r.method,
            path: r.path,
            contentSha256: sha256(body),
            requestFileSha256: fileSha,
            ...answer,
            at: now(),
          });
      }
      responses.push({
        nonce,
        method: r.method,
        path: r.path,
        status: answer.status,
        content_type: answer.contentType,
        body: answer.body.toString('base64'),
        body_sha256: sha256(answer.body),
      });
      outcomes.push(`${r.method} ${r.path} → ${answer.status}`);
    }
    // What the node needs next without asking again: the round's public manifest and BFV key.
    const asked = new Set(doc.requests.filter((r) => r.method === 'GET').map((r) => r.path));
    for (const round of new Set(doc.requests.map((r) => roundOf(r.path)).filter((x): x is string => !!x))) {
      const id = decodeURIComponent(round);
      if (!asked.has(ROUTES.manifest(id))) continue;
      for (const path of [ROUTES.manifest(id), ROUTES.hePublicKey(id)]) {
        const res = await app.inject({ method: 'GET', url: path, headers: { 'x-sb-transport': 'file' } });
        if (res.statusCode !== 200) continue;
        responses.push({
          nonce: null,
          method: 'GET',
          path,
          status: 200,
          content_type: String(res.headers['content-type'] ?? ''),
          body: res.rawPayload.toString('base64'),
          body_sha256: sha256(res.rawPayload),
        });
      }
    }
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
