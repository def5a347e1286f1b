import { SbError } from '../../shared/errors/sb-error.js';
import { bodySha256, REQUEST_HEADERS } from '../../shared/protocol/request-signing.js';
import type { Clock } from '../../shared/time/clock.js';
import { AirgapStore, type Exchange } from '../store/airgap-store.js';
import type { NodeDb } from '../store/node-db.js';

/** Code of the error a request gets while its answer has not been carried back yet. */
export const AIRGAP_PENDING = 'SB_ERR_AIRGAP_PENDING';

/**
 * Answers kept for every later run: the round's manifest and BFV public key, and a release of a
 * given version (a signed version never changes), are documents the node re-reads on each run
 * (and verifies each time against its pinned keys); everything else (the newest release,
 * acknowledgements, relays, receipts, refusals) answers the one request it was made for.
 */
export const REUSABLE_DOCUMENT = /^\/v1\/rounds\/[^/?]+\/(manifest|he-public-key|release\?version=[1-9]\d*)$/;

/**
 * The newest release of a round, which the coordinator adds unasked for the earlier studiejaren
 * of the node's comparison series (DECISIONS 89): like an answer, used once (the newest version
 * can change), by the next run that asks for it.
 */
export const NEWEST_RELEASE = /^\/v1\/rounds\/[^/?]+\/release$/;

/** Whether the coordinator may add an answer to `GET path` to a response file unasked. */
export const addableUnasked = (path: string): boolean => REUSABLE_DOCUMENT.test(path) || NEWEST_RELEASE.test(path);

/** A kept answer not yet used: to a carried request, or a newest release added unasked. */
const unusedAnswer = (r: Exchange): boolean =>
  r.status !== null && r.consumed_at === null && (r.nonce !== null || NEWEST_RELEASE.test(r.path));

/** What {@link FileTransport.exchange} needs of one request. */
export interface FileExchangeInput {
  method: 'GET' | 'POST';
  path: string;
  body: Uint8Array;
  /** Set when the request has a body. */
  contentType?: string;
  /** Sign the request now (called only when a new request must be stored). */
  sign: () => Record<string, string>;
}

/** An answer as the client returns it. */
export interface FileExchangeResponse {
  status: number;
  contentType: string;
  body: Buffer;
  /** The response file it came in (null: a document kept from an earlier run). */
  file: string | null;
}

/**
 * The file transport of an air-gapped node (issue 16, item 3; docs/DECISIONS.md "Air-gapped
 * nodes"): what {@link CoordinatorClient} uses instead of HTTP when the node runs offline. A
 * request whose answer was imported ('sectorbench node import-response') gets that answer, once; a request
 * without one is signed once, stored as signed (the same bytes are carried however often the
 * command runs again, never re-signed with a new nonce) and refused with
 * {@link AIRGAP_PENDING}: the command stops there, and `node export` writes every stored
 * request into one signed file to carry to the coordinator.
 */
export class FileTransport {
  constructor(
    private readonly db: NodeDb,
    private readonly now: Clock,
  ) {}

  /**
   * The answer to one request, or throws `SB_ERR_AIRGAP_PENDING` (the request is stored to be
   * exported). Never touches the network.
   */
  exchange(i: FileExchangeInput): FileExchangeResponse {
    const store = new AirgapStore(this.db);
    const sha = bodySha256(i.body);
    const outcome = this.db.transaction((): { answer: Exchange; reused: boolean } | { waiting: Exchange | null } => {
      const rows = store.byKey(i.method, i.path, sha);
      const fresh = rows.filter(unusedAnswer);
      const last = fresh.at(-1);
      if (last) {
        for (const r of fresh) store.consume(r.id, this.now());
        return { answer: last, reused: false };
      }
      if (i.method === 'GET' && REUSABLE_DOCUMENT.test(i.path)) {
        const doc = rows.filter((r) => r.status !== null && r.status >= 200 && r.status < 300).at(-1);
        if (doc) return { answer: doc, reused: true };
      }
      const waiting = rows.find((r) => r.nonce !== null && r.status === null);
      if (waiting) return { waiting };
      const headers = i.sign();
      if (i.contentType) headers['content-type'] = i.contentType;
      const nonce = headers[REQUEST_HEADERS.nonce];
      if (nonce === undefined) throw new Error(`the signed request ${i.method} ${i.path} has no nonce header`);
      store.addRequest({
        nonce,
        method: i.method,
        path: i.path,
        bodySha256: sha,
        request: { headers, body: Buffer.from(i.body).toString('base64') },
        auditHead: headers[REQUEST_HEADERS.auditHead] ?? null,
        at: this.now(),
      });
      return { waiting: null };
    })();
    if ('answer' in outcome) {
      const a = outcome.answer;
      // Only answered rows (status set) are chosen above; a row without one would be a bug.
      if (a.status === null) throw new Error(`offline exchange ${a.id} has no answer`);
      return {
        status: a.status,
        contentType: a.content_type ?? '',
        body: a.response ?? Buffer.alloc(0),
        file: outcome.reused ? null : a.response_file,
      };
    }
    const w = outcome.waiting;
    throw new SbError(
      AIRGAP_PENDING,
      `${i.method} ${i.path} waits for the coordinator's answer: this node is offline (file transport). ` +
        `${
          w?.exported_file
            ? `The request is in ${w.exported_file}; carry that file to the coordinator if that has not happened ` +
              "yet, then import the answer with 'sectorbench node import-response --home DIR FILE'."
            : "Write the export file with 'sectorbench node export --home DIR' ('node round --offline' does " +
              "so itself), carry it to the coordinator, then import the answer with 'sectorbench node " +
              "import-response --home DIR FILE'."
        }`,
      { method: i.method, path: i.path },
    );
  }
}
