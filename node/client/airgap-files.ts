import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import type { AirgapRequestFile, AirgapResponse, AirgapResponseFile } from '../../schemas/airgap.js';
import { readIdentityFile, type Identity } from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { makeDir } from '../../shared/fs/make-dir.js';
import {
  airgapFileBytes,
  newAirgapFileId,
  readAirgapFile,
  signRequestFile,
  verifyResponseFile,
  writeAirgapFile,
} from '../../shared/protocol/airgap-files.js';
import { type Clock, systemClock } from '../../shared/time/clock.js';
import { appendAudit, roundOfPath } from '../audit/log.js';
import { AirgapStore } from '../store/airgap-store.js';
import { openNodeDb, type NodeDb } from '../store/node-db.js';
import { identityPath, readNodeConfig, type NodeConfig } from './config.js';
import { addableUnasked } from './file-transport.js';

/** Default folder for export files: `<home>/airgap`. */
export const AIRGAP_DIR = 'airgap';

/** What {@link exportPending} wrote. */
export interface ExportResult {
  /** Absolute path of the export file to carry. */
  file: string;
  /** Requests in it (method and path), in the order the coordinator runs them. */
  requests: { method: string; path: string }[];
  /** Of those, how many were not in an earlier export file. */
  fresh: number;
}

async function openNode(home: string): Promise<{ config: NodeConfig; identity: Identity; db: NodeDb }> {
  const config = readNodeConfig(home);
  const identity = await readIdentityFile(identityPath(home, config));
  return { config, identity, db: openNodeDb(home, { mode: 'existing' }) };
}

/** A stored request's method as the export file carries it (the file transport stores only GET and POST). */
function carriedMethod(method: string): 'GET' | 'POST' {
  if (method === 'GET' || method === 'POST') return method;
  throw new SbError(
    'SB_ERR_STORE_CORRUPT',
    `a stored offline request in node.sqlite has method ${method}, which the file transport never makes: ` +
      "the database is damaged; restore the node's database from a backup (sectorbench node restore).",
  );
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/**
 * `sectorbench node export` (and the end of `node round --offline`; issue 16, item 3): write every
 * request still waiting for the coordinator's answer into one export file signed by the node's
 * identity key, and log each request as it leaves (a `request` entry as for HTTP: method, path,
 * body bytes and SHA-256, the audit head it carries; with `transport: "file"`, the file's name and
 * SHA-256, status null until the answer is imported). The requests are the exact signed bytes
 * stored when they were made; a request already in an earlier file is carried again (same nonce:
 * the coordinator answers it once and hands back the same answer).
 *
 * @param o.onlyNew write a file only when some request was not exported before (what `node round
 *   --offline` does on every run); default: always, when anything waits
 * @returns null when nothing waits (or, with `onlyNew`, nothing new)
 * @throws SbError `SB_ERR_DIR_UNWRITABLE` when the folder cannot be made
 */
export async function exportPending(o: {
  home: string;
  out?: string;
  now?: Clock;
  onlyNew?: boolean;
}): Promise<ExportResult | null> {
  const now = o.now ?? systemClock;
  const { config, identity, db } = await openNode(o.home);
  try {
    const store = new AirgapStore(db);
    const pending = store.pending();
    const fresh = pending.filter((r) => r.exported_file === null);
    if (pending.length === 0 || (o.onlyNew && fresh.length === 0)) return null;
    const dir = resolve(o.out ?? join(o.home, AIRGAP_DIR));
    makeDir(dir, 0o700, 'the folder for export files', 'folder');
    const at = now();
    const fileId = newAirgapFileId();
    const unsigned: Omit<AirgapRequestFile, 'node_signature'> = {
      type: 'sectorbench.airgap-requests',
      version: 1,
      institution_id: config.institution_id,
      file_id: fileId,
      created_at: at.toISOString(),
      requests: pending.map((r) => ({
        method: carriedMethod(r.method),
        path: r.path,
        headers: r.request?.headers ?? {},
        body: r.request?.body ?? '',
      })),
    };
    const doc = signRequestFile(unsigned, identity.secretKey);
    const { bytes, sha256 } = airgapFileBytes(doc);
    const name = `sectorbench-${config.institution_id}-${stamp(at)}-${fileId.slice(0, 8)}.request.json`;
    const path = join(dir, name);
    // Logged before the file exists: no request leaves the node unlogged.
    db.transaction(() => {
      store.markExported(
        pending.map((r) => r.id),
        name,
      );
      store.addFile({ fileId, direction: 'export', name, sha256, at });
      for (const r of pending)
        appendAudit(db, identity, {
          kind: 'request',
          roundId: roundOfPath(r.path),
          at,
          payload: {
            method: r.method,
            path: r.path,
            bytes: Buffer.from(r.request?.body ?? '', 'base64').byteLength,
            body_sha256: r.body_sha256,
            audit_head: r.audit_head,
            status: null,
            transport: 'file',
            file: name,
            file_sha256: sha256,
            nonce: r.nonce,
          },
        });
    })();
    writeAirgapFile(path, bytes);
    return {
      file: path,
      requests: pending.map((r) => ({ method: r.method, path: r.path })),
      fresh: fresh.length,
    };
  } finally {
    db.close();
  }
}

/** What {@link importResponses} did. */
export interface ImportResult {
  file: string;
  /** True when this very file was imported before: nothing changed. */
  already: boolean;
  /** Answers to this node's requests newly kept. */
  answered: number;
  /** Public documents the coordinator added (manifest, round key, releases; DECISIONS 89), newly kept. */
  documents: number;
  /** Refusals among the answers (status ≥ 400), as `METHOD path: status`. */
  refused: string[];
}

/**
 * `sectorbench node import-response FILE` (issue 16, item 3): check a response file — signed by
 * the coordinator key pinned at enrolment, made for this institution, answering an export file
 * this node wrote (its id and SHA-256), each answer for a request in it — and keep the answers
 * for the next run of the command that made the requests. All or nothing; importing the same
 * file again changes nothing. Logged as one `airgap_import` entry (file name and SHA-256; per
 * answer the request's nonce, method, path, status, body bytes and SHA-256).
 *
 * @throws SbError `SB_ERR_AIRGAP_FILE` (unreadable, malformed, another institution's, or not an
 *   answer to this node's export), `SB_ERR_AIRGAP_SIGNATURE` (not signed by the pinned coordinator
 *   key); each names the file and the next step, and nothing is kept
 */
export async function importResponses(o: { home: string; file: string; now?: Clock }): Promise<ImportResult> {
  const now = o.now ?? systemClock;
  const name = basename(o.file);
  const { doc, sha256 } = readAirgapFile(o.file, 'responses');
  const { config, identity, db } = await openNode(o.home);
  try {
    const refuse = refuser(o.file);
    checkResponseFile(o.file, doc, config);
    const store = new AirgapStore(db);
    if (store.file('import', { sha256 }))
      return { file: o.file, already: true, answered: 0, documents: 0, refused: [] };
    const exported = store.file('export', { fileId: doc.request_file_id });
    if (!exported || exported.sha256 !== doc.request_file_sha256)
      throw refuse(
        `it answers export file ${doc.request_file_id}, which this node did not write`,
        "Carry the response to this node's own export file.",
      );
    const at = now();
    const kept: Pick<ImportResult, 'answered' | 'documents' | 'refused'> = { answered: 0, documents: 0, refused: [] };
    db.transaction(() => {
      const logged = doc.responses.flatMap((r) => {
        const outcome = keepResponse(store, r, { name, at, refuse });
        // An answer kept from an earlier response file is neither counted nor logged again.
        if (outcome === 'known') return [];
        if (outcome === 'document') kept.documents++;
        else {
          kept.answered++;
          if (r.status >= 400) kept.refused.push(`${r.method} ${r.path}: ${r.status}`);
        }
        return {
          nonce: r.nonce,
          method: r.method,
          path: r.path,
          status: r.status,
          bytes: Buffer.from(r.body, 'base64').byteLength,
          body_sha256: r.body_sha256,
        };
      });
      store.addFile({ fileId: doc.request_file_id, direction: 'import', name, sha256, at });
      appendAudit(db, identity, {
        kind: 'airgap_import',
        roundId: null,
        at,
        payload: {
          transport: 'file',
          file: name,
          file_sha256: sha256,
          request_file_id: doc.request_file_id,
          request_file_sha256: doc.request_file_sha256,
          responses: logged,
        },
      });
    })();
    return { file: o.file, already: false, ...kept };
  } finally {
    db.close();
  }
}

/** The `SB_ERR_AIRGAP_FILE` refusal of a response file: why, that nothing was imported, what next. */
const refuser =
  (file: string) =>
  (why: string, next: string): SbError =>
    new SbError('SB_ERR_AIRGAP_FILE', `${file}: ${why}. Nothing was imported. ${next}`, { file: basename(file) });

/**
 * A response file is for this institution and signed by the coordinator key pinned at enrolment.
 * @throws SbError `SB_ERR_AIRGAP_FILE` (another institution's), `SB_ERR_AIRGAP_SIGNATURE`
 */
function checkResponseFile(file: string, doc: AirgapResponseFile, config: NodeConfig): void {
  if (doc.institution_id !== config.institution_id)
    throw refuser(file)(
      `this response file is for institution ${doc.institution_id}, not for this node (${config.institution_id})`,
      'Carry the response file made for this institution.',
    );
  const pinned = new Uint8Array(Buffer.from(config.pinned.coordinator.ed25519_public_key, 'base64'));
  if (!verifyResponseFile(doc, pinned))
    throw new SbError(
      'SB_ERR_AIRGAP_SIGNATURE',
      `${file}: the response file is not signed by the coordinator key pinned at enrolment ` +
        `(fingerprint ${config.pinned.coordinator.fingerprint}): it was altered after signing, or made by ` +
        "someone else. Nothing was imported. Ask the coordinator's operator for the response file again " +
        "('sectorbench coordinator import' of the same export file gives the same answers).",
      { file: basename(file) },
    );
}

/**
 * Keep one answer of a response file (inside the import's transaction): a document the
 * coordinator added unasked (nonce null: only a GET of a document it may add, answered 200), or
 * the answer to a request this node made and has no answer for yet.
 * @returns what was kept: `document`, `answered`, or `known` (answered before: nothing kept)
 * @throws SbError `SB_ERR_AIRGAP_FILE` when the body does not match its digest, or the answer is
 *   to nothing this node asked (the whole import is then rolled back)
 */
function keepResponse(
  store: AirgapStore,
  r: AirgapResponse,
  c: { name: string; at: Date; refuse: (why: string, next: string) => SbError },
): 'document' | 'answered' | 'known' {
  const body = Buffer.from(r.body, 'base64');
  if (createHash('sha256').update(body).digest('hex') !== r.body_sha256)
    throw c.refuse(`the answer to ${r.method} ${r.path} does not match its digest`, 'Ask for the file again.');
  if (r.nonce === null) {
    if (r.method !== 'GET' || !addableUnasked(r.path) || r.status !== 200)
      throw c.refuse(`it holds an unasked answer to ${r.method} ${r.path}`, 'Ask for the file again.');
    store.addDocument({
      method: r.method,
      path: r.path,
      bodySha256: createHash('sha256').update('').digest('hex'),
      status: r.status,
      contentType: r.content_type,
      body,
      file: c.name,
      at: c.at,
    });
    return 'document';
  }
  const ex = store.byNonce(r.nonce);
  if (!ex || ex.method !== r.method || ex.path !== r.path)
    throw c.refuse(`it answers ${r.method} ${r.path}, which this node did not ask`, 'Ask for the file again.');
  if (ex.status !== null) return 'known';
  store.answer(ex.id, { status: r.status, contentType: r.content_type, body, file: c.name, at: c.at });
  return 'answered';
}
