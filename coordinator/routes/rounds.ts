import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { SbError } from '../../shared/errors/sb-error.js';
import { ownStatus, roundStatus } from '../rounds/status.js';
import type { CoordinatorDb } from '../store/db.js';
import { getHePublicKey, getRound, listRounds } from '../store/rounds.js';
import { problems, RoundParams } from './schemas.js';
import { ROUTE_PATTERNS } from '../../shared/protocol/routes.js';

const StatusSchema = z.object({
  round_id: z.string(),
  studiejaar: z.string(),
  state: z.enum(['open', 'closed', 'released']),
  deadline: z.string(),
  participants: z.number().int(),
  submitted: z.number().int(),
  submissions: z.number().int(),
  closed_at: z.string().nullable(),
  release_versions: z.number().int(),
  excluded: z.number().int().describe('contributions the coordinator excluded (never who)'),
  you: z
    .object({
      institution_id: z.string(),
      excluded: z.boolean(),
      reason: z.string().optional(),
      excluded_at: z.string().optional(),
    })
    .optional()
    .describe("signed requests only: the asking institution's own state, with the reason when it was excluded"),
});

type ZodApp = Parameters<FastifyPluginAsyncZod>[0];

/** Public round routes: list, signed manifest, BFV public key, status (counts only). */
const rounds: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.coordinator;
  listRoute(app, db);
  manifestRoute(app, db);
  hePublicKeyRoute(app, db);
  statusRoute(app, db);
};

/** GET the rounds on this coordinator. */
function listRoute(app: ZodApp, db: CoordinatorDb): void {
  app.get(
    ROUTE_PATTERNS.rounds,
    {
      schema: {
        tags: ['rounds'],
        summary: 'Rounds on this coordinator',
        response: {
          200: z.object({
            rounds: z.array(
              z.object({ round_id: z.string(), studiejaar: z.string(), state: z.string(), deadline: z.string() }),
            ),
          }),
        },
      },
    },
    async () => ({
      rounds: listRounds(db).map((r) => ({
        round_id: r.id,
        studiejaar: r.manifest.studiejaar,
        state: r.state,
        deadline: r.deadline,
      })),
    }),
  );
}

/** GET a round's signed manifest, byte for byte as stored. */
function manifestRoute(app: ZodApp, db: CoordinatorDb): void {
  app.get(
    ROUTE_PATTERNS.manifest,
    {
      schema: {
        tags: ['rounds'],
        summary: 'The signed round manifest (RoundManifestSchema, schemas/json/round-manifest.schema.json)',
        params: RoundParams,
        response: { 200: z.unknown().describe('the signed manifest, byte for byte as stored'), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const r = getRound(db, request.params.roundId);
      return reply
        .type('application/json; charset=utf-8')
        .serializer((x: string) => x)
        .send(r.manifestJson);
    },
  );
}

/** GET a round's BFV public key. */
function hePublicKeyRoute(app: ZodApp, db: CoordinatorDb): void {
  app.get(
    ROUTE_PATTERNS.hePublicKey,
    {
      schema: {
        tags: ['rounds'],
        summary:
          "The key holder's BFV public key (SEAL serialization); its SHA-256 is the manifest's he_public_key.digest",
        params: RoundParams,
        response: { 200: z.unknown().describe('application/octet-stream'), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const key = getHePublicKey(db, request.params.roundId);
      if (!key)
        throw new SbError(
          'SB_ERR_ROUND_UNKNOWN',
          `round ${request.params.roundId} does not exist on this coordinator.`,
          { round_id: request.params.roundId },
        );
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${request.params.roundId}-bfv.pub"`)
        .send(Buffer.from(key));
    },
  );
}

/** GET a round's status (counts only; a signed request also gets its own state). */
function statusRoute(app: ZodApp, db: CoordinatorDb): void {
  app.get(
    ROUTE_PATTERNS.status,
    {
      schema: {
        tags: ['rounds'],
        summary:
          'Round status: counts only, never payloads; a signed request also gets its own state (excluded, and why)',
        params: RoundParams,
        response: { 200: StatusSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const s = roundStatus(db, request.params.roundId);
      const auth = request.sbAuth;
      return auth ? { ...s, you: ownStatus(db, request.params.roundId, auth.institutionId) } : s;
    },
  );
}

export default rounds;
