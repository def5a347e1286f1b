import { RoundManifestSchema, type RoundManifest } from '../../schemas/manifest.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { manifestCodebook, verifyManifest, verifyManifestEndorsement } from '../../shared/protocol/round-documents.js';
import { RoundStore } from '../store/round-store.js';
import type { NodeDb } from '../store/node-db.js';
import type { NodeConfig } from './config.js';
import type { CoordinatorClient } from './coordinator-client.js';
import { formatZodIssues } from '../../shared/errors/zod-issues.js';
import { ROUTES } from '../../shared/protocol/routes.js';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/**
 * Check a round manifest as a node must before computing anything (ARCHITECTURE.md "The round",
 * step 2): schema; the coordinator's signature and the key holder's endorsement of the BFV key,
 * thresholds and participant list (issue 11: a participant the coordinator added after the
 * endorsement breaks it), each against the key pinned at enrolment; this institution among the
 * participants with its own key; the codebook digest; the key URL on the configured coordinator.
 */
export function verifyManifestForNode(
  raw: unknown,
  config: NodeConfig,
  ownPublicKey: Uint8Array,
  roundId: string,
  client?: CoordinatorClient,
): RoundManifest {
  const parsed = RoundManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SbError(
      'SB_ERR_MANIFEST_INVALID',
      `the manifest of round ${roundId} is malformed: ${formatZodIssues(parsed.error.issues, { limit: 3 })}. Ask the coordinator.`,
    );
  }
  const m = parsed.data;
  if (m.round_id !== roundId)
    throw new SbError(
      'SB_ERR_MANIFEST_INVALID',
      `asked for round ${roundId} but the coordinator sent the manifest of round ${m.round_id}.`,
    );
  if (!verifyManifest(m, b64(config.pinned.coordinator.ed25519_public_key))) {
    throw new SbError(
      'SB_ERR_MANIFEST_SIGNATURE',
      `the manifest of round ${roundId} is not signed by the coordinator key pinned at enrolment ` +
        `(fingerprint ${config.pinned.coordinator.fingerprint}). Nothing was sent. Contact the coordinator ` +
        'before going on.',
    );
  }
  if (!verifyManifestEndorsement(m, b64(config.pinned.key_holder.ed25519_public_key))) {
    throw new SbError(
      'SB_ERR_MANIFEST_ENDORSEMENT',
      `the round key, thresholds and participant list of round ${roundId} are not endorsed by the ` +
        `key holder pinned at enrolment (fingerprint ${config.pinned.key_holder.fingerprint}): the ` +
        'coordinator may have added or changed a participant after the endorsement. Nothing was sent. ' +
        'Contact the coordinator and the key holder.',
    );
  }
  const me = m.participants.find((p) => p.institution_id === config.institution_id);
  if (!me)
    throw new SbError(
      'SB_ERR_NOT_PARTICIPANT',
      `institution ${config.institution_id} is not a participant of round ${roundId}. Ask the coordinator to add it.`,
    );
  if (me.ed25519_public_key !== Buffer.from(ownPublicKey).toString('base64')) {
    throw new SbError(
      'SB_ERR_NOT_PARTICIPANT',
      `round ${roundId} lists institution ${config.institution_id} with another public key than this ` +
        "node's identity. Read out this node's fingerprint to the coordinator again.",
    );
  }
  try {
    manifestCodebook(m);
  } catch {
    throw new SbError(
      'SB_ERR_MANIFEST_INVALID',
      `the codebook in the manifest of round ${roundId} does not match its digest.`,
    );
  }
  if (m.he_public_key.url && client) client.checkSameOrigin(m.he_public_key.url);
  return m;
}

/** Fetch, verify and record the manifest of a round. */
export async function fetchManifest(
  client: CoordinatorClient,
  db: NodeDb,
  config: NodeConfig,
  ownPublicKey: Uint8Array,
  roundId: string,
  now: Date,
): Promise<RoundManifest> {
  const raw = await client.getJson(ROUTES.manifest(roundId));
  const m = verifyManifestForNode(raw, config, ownPublicKey, roundId, client);
  new RoundStore(db).saveManifest(m, now);
  return m;
}
