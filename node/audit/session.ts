import type { Dispatcher } from 'undici';
import type { RoundManifest } from '../../schemas/manifest.js';
import { readIdentityFile, type Identity } from '../../shared/crypto/identity.js';
import { isSbError, SbError } from '../../shared/errors/sb-error.js';
import { identityPath, readNodeConfig, type NodeConfig } from '../client/config.js';
import { clientForNode, type CoordinatorClient } from '../client/coordinator-client.js';
import { AIRGAP_PENDING, FileTransport } from '../client/file-transport.js';
import { fetchManifest } from '../client/manifest.js';
import { openNodeDb, type NodeDb } from '../store/node-db.js';
import { appendAudit, auditHead, canonicalDigest, roundOfPath } from './log.js';
import { type Clock, systemClock } from '../../shared/time/clock.js';

const LOGGED = new WeakSet<object>();

/** Connection options shared by the node commands that talk to the coordinator. */
export interface AuditedClientOptions {
  home: string;
  coordinatorUrl?: string;
  dispatcher?: Dispatcher;
  now?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Air-gapped (issue 16, item 3): requests go into export files instead of the network
   * (node/client/file-transport.ts). Default: the config's `transport` (`http` when absent).
   */
  offline?: boolean;
}

/** Whether a node runs air-gapped: `--offline`, or `transport: "file"` in node.json. */
export function isOffline(config: NodeConfig, offline?: boolean): boolean {
  return offline ?? config.transport === 'file';
}

/** An open node: config, identity, database and a client whose every request is logged. */
export interface AuditedSession {
  config: NodeConfig;
  identity: Identity;
  db: NodeDb;
  client: CoordinatorClient;
  now: Clock;
  /** Whether requests go into export files (air-gapped node) instead of the network. */
  offline: boolean;
  close(): void;
  /** Log a refusal (by this node or by the coordinator) and return the error to throw. */
  refusal(stage: string, roundId: string | null, e: unknown): unknown;
}

/**
 * Open the node with its audit log wired into the coordinator client (issue 6): every request
 * carries the current chain head (`sb-audit-head`, signed) and is logged afterwards as a
 * `request` entry (method, path, body bytes, body SHA-256, the head it carried, status). An
 * `--coordinator` other than the configured one is refused and logged.
 */
export async function openAuditedSession(o: AuditedClientOptions): Promise<AuditedSession> {
  const now = o.now ?? systemClock;
  const config = readNodeConfig(o.home);
  const identity = await readIdentityFile(identityPath(o.home, config));
  const db = openNodeDb(o.home);
  const refusal = (stage: string, roundId: string | null, e: unknown): unknown => {
    // An offline request waiting for its carried answer is not a refusal: `node export` logs it.
    if (isSbError(e) && e.code === AIRGAP_PENDING) return e;
    if (typeof e === 'object' && e !== null) {
      if (LOGGED.has(e)) return e;
      LOGGED.add(e);
    }
    try {
      appendAudit(db, identity, {
        kind: 'refusal',
        roundId,
        at: now(),
        payload: {
          stage,
          code: isSbError(e) ? e.code : 'SB_ERR_INTERNAL',
          message: e instanceof Error ? e.message : String(e),
        },
      });
    } catch {
      /* the refusal itself is what matters to the caller */
    }
    return e;
  };
  const offline = isOffline(config, o.offline);
  try {
    const client = clientForNode(config, identity, {
      ...o,
      ...(offline ? { fileTransport: new FileTransport(db, now) } : {}),
      now,
      auditHead: () => auditHead(db),
      onSent: (info) => {
        appendAudit(db, identity, {
          kind: 'request',
          roundId: roundOfPath(info.path),
          at: now(),
          payload: { ...info },
        });
      },
    });
    return { config, identity, db, client, now, offline, close: () => db.close(), refusal };
  } catch (e) {
    refusal('connect', null, e);
    db.close();
    throw e;
  }
}

/** Fetch and verify a round's manifest, logging it (or the refusal). */
export async function fetchManifestAudited(s: AuditedSession, roundId: string): Promise<RoundManifest> {
  let m: RoundManifest;
  try {
    m = await fetchManifest(s.client, s.db, s.config, s.identity.publicKey, roundId, s.now());
  } catch (e) {
    throw s.refusal('manifest', roundId, e);
  }
  appendAudit(s.db, s.identity, {
    kind: 'manifest_fetched',
    roundId,
    at: s.now(),
    payload: {
      manifest_digest: canonicalDigest(m),
      studiejaar: m.studiejaar,
      metric_spec: m.metric_spec,
      codebook_digest: m.codebook.digest,
      he_public_key_digest: m.he_public_key.digest,
      thresholds: m.thresholds,
      participants: m.participants.length,
      max_participants: m.max_participants,
      deadline: m.deadline,
      coordinator_signature: m.coordinator_signature,
    },
  });
  return m;
}

/** Run `fn`, logging any SbError it throws as a refusal at `stage`. */
export async function logRefusals<T>(
  s: AuditedSession,
  stage: string,
  roundId: string,
  fn: () => Promise<T> | T,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SbError || isSbError(e)) throw s.refusal(stage, roundId, e);
    throw e;
  }
}
