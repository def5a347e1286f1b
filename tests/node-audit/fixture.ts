/**
 * Shared setup of the node-audit tests: a node home with the edge sample imported, pinned to a
 * small coordinator that runs on real HTTP on 127.0.0.1 (real signatures, real BFV keys and
 * ciphertexts), serving one round. The coordinator stands in for coordinator/ where only the
 * node's side is under test; the end-to-end test against the real coordinator uses the round
 * harness.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { RoundManifest } from '../../schemas/manifest.js';
import { bfvPublicKeyDigest, generateBfvKeyPair, type BfvKeyPair } from '../../shared/crypto/bfv-keys.js';
import { generateIdentity, writeIdentityFiles, type Identity } from '../../shared/crypto/identity.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { codebookDigest } from '../../shared/metrics/codebook.js';
import { verifyEnvelope } from '../../shared/protocol/envelope.js';
import { signReceipt, type Receipt } from '../../shared/protocol/receipt.js';
import { parseSignedRequestHeaders, verifyRequestSignature } from '../../shared/protocol/request-signing.js';
import { signEndorsement, signManifest } from '../../shared/protocol/round-documents.js';
import { parseContribution } from '../../shared/protocol/wire.js';
import { initNode } from '../../node/client/init.js';
import { importDataset } from '../../node/import/import-dataset.js';
import { addApprover, approverKeygen } from '../../node/audit/approval.js';
import { sampleDir } from '../helpers/paths.js';

export const ROUND = '2024-2025-r1';
export const MAX_PARTICIPANTS = 100;
export const THRESHOLDS = {
  min_institutions: 3,
  min_population: 10,
  dominance_share: 0.85,
  min_institutions_distribution: 5,
};

let bfv: Promise<BfvKeyPair> | undefined;
export function bfvKeys(): Promise<BfvKeyPair> {
  bfv ??= generateBfvKeyPair();
  return bfv;
}

/** What the small coordinator received: each accepted contribution's wire bytes and receipt. */
export interface Received {
  wire: Uint8Array;
  receipt: Receipt;
  auditHead: string | null;
}

export interface Coordinator {
  url: string;
  identity: Identity;
  keyHolder: Identity;
  manifest: RoundManifest;
  received: Received[];
  /** Every request seen: method, path, body bytes, sb-audit-head. */
  requests: { method: string; path: string; bytes: number; auditHead: string | null }[];
  /** Override the answer to a path (e.g. a redirect). */
  override: Map<string, (res: ServerResponse) => void>;
  /** Change the manifest (re-signed). */
  setManifest(
    change: (m: Omit<RoundManifest, 'coordinator_signature'>) => Omit<RoundManifest, 'coordinator_signature'>,
  ): void;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The one participant: its id, and its public key (known only once the node is initialised). */
interface Participant {
  id: string;
  publicKey: () => Uint8Array;
}

/** What the small coordinator signs with and serves from. */
interface CoordinatorKeys {
  url: string;
  identity: Identity;
  keyHolder: Identity;
  keys: BfvKeyPair;
  codebook: Awaited<ReturnType<typeof readCodebookFile>>;
  participant: Participant;
}

function participantsOf(participant: Participant) {
  return [
    {
      institution_id: participant.id,
      name: `Instelling ${participant.id}`,
      brin: '9901',
      ed25519_public_key: Buffer.from(participant.publicKey()).toString('base64'),
    },
  ];
}

/**
 * The round manifest signed by the coordinator, with the key holder's endorsement. The
 * participant's key is known only later, so the endorsement (which covers it) is made with the manifest.
 */
function makeManifest(k: CoordinatorKeys): RoundManifest {
  const { keys, codebook } = k;
  const endorsement = signEndorsement(
    {
      type: 'sectorbench.key-holder-endorsement',
      version: 1,
      round_id: ROUND,
      he_params: 'bfv-n4096-t40-tc128-v1',
      he_public_key_digest: bfvPublicKeyDigest(keys.publicKey),
      max_participants: MAX_PARTICIPANTS,
      thresholds: THRESHOLDS,
      participants: participantsOf(k.participant),
      endorsed_at: '2025-10-01T00:00:00.000Z',
    },
    k.keyHolder,
  );
  return signManifest(
    {
      type: 'sectorbench.round-manifest',
      version: 1,
      round_id: ROUND,
      studiejaar: '2024-2025',
      metric_spec: 'v1',
      slot_layout: 'sb-layout-v1',
      he_params: 'bfv-n4096-t40-tc128-v1',
      codebook: {
        digest: codebookDigest(codebook),
        entries: codebook.entries.map((e) => ({
          crebo: e.crebo,
          name: e.name,
          niveau: e.niveau,
          sectorkamer_code: e.sectorkamerCode,
          sectorkamer_name: e.sectorkamerName,
        })),
      },
      thresholds: THRESHOLDS,
      participants: participantsOf(k.participant),
      max_participants: MAX_PARTICIPANTS,
      deadline: '2099-01-01T00:00:00.000Z',
      he_public_key: { digest: bfvPublicKeyDigest(keys.publicKey), url: `${k.url}/v1/rounds/${ROUND}/he-public-key` },
      key_holder_endorsement: {
        ed25519_public_key: endorsement.ed25519_public_key,
        signature: endorsement.signature,
      },
    },
    k.identity.secretKey,
  );
}

/** Verify the participant's contribution and sign its receipt (with the request's audit head, if any). */
async function receiveContribution(
  k: CoordinatorKeys,
  b: Buffer,
  auditHead: string | null,
  nextSequence: () => number,
): Promise<Receipt> {
  const { participant } = k;
  const contribution = parseContribution(new Uint8Array(b));
  verifyEnvelope(contribution.envelope, participant.publicKey(), {
    expect: { roundId: ROUND, institutionId: participant.id },
  });
  const { envelopeDigest } = await import('../../shared/protocol/envelope.js');
  return signReceipt(
    {
      type: 'sectorbench.receipt',
      version: 1,
      round_id: ROUND,
      institution_id: participant.id,
      envelope_digest: envelopeDigest(contribution.envelope),
      wire_bytes: b.byteLength,
      received_at: new Date().toISOString(),
      sequence: nextSequence(),
      ...(auditHead ? { audit_head: auditHead } : {}),
    },
    k.identity.secretKey,
  );
}

/** The request handler: refuses unsigned requests, records the rest, then overrides or the round's routes. */
function requestHandler(c: Coordinator, k: CoordinatorKeys) {
  let sequence = 0;
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<unknown> => {
    const b = await body(req);
    const path = req.url ?? '/';
    let auditHead: string | null = null;
    try {
      const h = verifyRequestSignature({
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        publicKey: k.participant.publicKey(),
        now: new Date(),
        body: b,
      });
      auditHead = h.auditHead;
    } catch (e) {
      res
        .writeHead(401, { 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ title: 'unsigned', detail: (e as Error).message, code: 'SB_ERR_REQUEST_SIGNATURE' }));
      return;
    }
    c.requests.push({
      method: req.method ?? 'GET',
      path,
      bytes: b.byteLength,
      auditHead: parseSignedRequestHeaders(req.headers).auditHead,
    });
    const o = c.override.get(path);
    if (o) return o(res);
    c.manifest ??= makeManifest(k);
    if (req.method === 'GET' && path === `/v1/rounds/${ROUND}/manifest`)
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(c.manifest));
    if (req.method === 'GET' && path === `/v1/rounds/${ROUND}/he-public-key`)
      return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from(k.keys.publicKey));
    if (req.method === 'POST' && path === `/v1/rounds/${ROUND}/contributions`) {
      const receipt = await receiveContribution(k, b, auditHead, () => sequence++);
      c.received.push({ wire: new Uint8Array(b), receipt, auditHead });
      return res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(receipt));
    }
    res.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'not found' }));
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    answer(req, res).catch((e: unknown) => {
      res
        .writeHead(400, { 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ title: 'bad', detail: (e as Error).message }));
    });
  };
}

/** Start the coordinator for one participant (its public key given later via `participant`). */
export async function startCoordinator(t: Test, participant: Participant): Promise<Coordinator> {
  const identity = generateIdentity();
  const keyHolder = generateIdentity();
  const keys = await bfvKeys();
  const codebook = await readCodebookFile(join(sampleDir, 'edge', 'codebook.csv'));
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  const c: Coordinator = {
    url,
    identity,
    keyHolder,
    manifest: undefined as unknown as RoundManifest,
    received: [],
    requests: [],
    override: new Map(),
    setManifest(change) {
      const { coordinator_signature: _s, ...rest } = c.manifest;
      c.manifest = signManifest(change(rest), identity.secretKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  server.on('request', requestHandler(c, { url, identity, keyHolder, keys, codebook, participant }));
  t.teardown(() => c.close());
  return c;
}

export interface NodeSetup {
  home: string;
  dir: string;
  coordinator: Coordinator;
  approverKeys: string[];
}

/**
 * A node home (edge sample imported) enrolled with a fresh coordinator, with `approvers`
 * approver keys generated (`<dir>/approver-<i>.key`) and added; `approvalsRequired` 1 or 2.
 */
export async function setupNode(
  t: Test,
  o: { approvers?: number; approvalsRequired?: 1 | 2 } = {},
): Promise<NodeSetup> {
  const dir = t.testdir({});
  const home = join(dir, 'node');
  let nodeKey: Uint8Array | undefined;
  const coordinator = await startCoordinator(t, { id: 'EDGE1', publicKey: () => nodeKey as Uint8Array });
  await writeIdentityFiles(coordinator.identity, join(dir, 'coordinator.key'));
  await writeIdentityFiles(coordinator.keyHolder, join(dir, 'keyholder.key'));
  const init = await initNode({
    home,
    institutionId: 'EDGE1',
    coordinatorUrl: coordinator.url,
    coordinatorKeyFile: join(dir, 'coordinator.key.pub'),
    keyHolderKeyFile: join(dir, 'keyholder.key.pub'),
  });
  const { readPublicIdentityFile } = await import('../../shared/crypto/identity.js');
  nodeKey = await readPublicIdentityFile(init.publicKeyFile);
  await importDataset({
    home,
    enrolments: join(sampleDir, 'edge', 'enrolments.csv'),
    attendance: join(sampleDir, 'edge', 'attendance.csv'),
  });
  const approverKeys: string[] = [];
  for (let i = 0; i < (o.approvers ?? 1); i++) {
    const file = join(dir, `approver-${i}.key`);
    await approverKeygen(file);
    await addApprover({
      home,
      publicKeyFile: `${file}.pub`,
      name: `FG ${i}`,
      approvalsRequired: i === (o.approvers ?? 1) - 1 ? o.approvalsRequired : undefined,
    });
    approverKeys.push(file);
  }
  return { home, dir, coordinator, approverKeys };
}
