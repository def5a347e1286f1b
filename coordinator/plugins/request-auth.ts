import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { SbError } from '../../shared/errors/sb-error.js';
import {
  parseSignedRequestHeaders,
  verifyRequestBody,
  verifyRequestSignature,
} from '../../shared/protocol/request-signing.js';
import { getInstitution } from '../store/institutions.js';
import { rememberNonce } from '../store/nonces.js';
import { recordAuditHead } from '../store/audit-heads.js';
import { willAuthenticate } from './rate-limit.js';

/**
 * Signed node requests (routes with `config: { signed: true }`), checked before the body is
 * read: headers present and well-formed (401/400), institution registered (401), timestamp
 * fresh and signature valid with its registered key (401), not revoked (403), nonce never
 * seen (409, remembered in the database for 3 × the maximum age). After the body is read, its
 * SHA-256 must equal the signed `sb-content-sha256` (400).
 *
 * Public routes (GET manifest, key, release …) stay open to unsigned requests, but a request
 * that carries `sb-*` headers (as every node request does) is verified the same way. The
 * `sb-audit-head` of every verified request is recorded (table `audit_heads`, issue 6).
 *
 * Rate limits (plugins/rate-limit.ts): every refusal here counts against the address's
 * failed-authentication budget (above it the answer is 429), and every authenticated request
 * against its institution's budget.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Layers of protection"
 */
export default fp(
  async function requestAuthPlugin(app: FastifyInstance) {
    const { db, now: clock, config } = app.coordinator;
    app.decorateRequest('sbAuth', null);
    const limits = app.sbLimits;
    app.addHook('onRequest', async (request: FastifyRequest) => {
      if (!willAuthenticate(request)) return;
      try {
        await authenticate(request);
      } catch (e) {
        throw limits ? limits.authFailed(request.ip, e, clock().getTime()) : e;
      }
    });
    const authenticate = async (request: FastifyRequest) => {
      const h = parseSignedRequestHeaders(request.headers);
      const inst = getInstitution(db, h.institutionId);
      if (!inst) {
        throw new SbError(
          'SB_ERR_UNKNOWN_INSTITUTION',
          `institution ${h.institutionId} is not registered with this coordinator; enrol it first ('sectorbench coordinator institution add').`,
          { institution_id: h.institutionId },
        );
      }
      const now = clock();
      verifyRequestSignature({
        method: request.method,
        path: request.url,
        headers: h,
        publicKey: new Uint8Array(Buffer.from(inst.ed25519PublicKey, 'base64')),
        now,
        maxAgeSeconds: config.requestMaxAgeSeconds,
      });
      if (inst.revokedAt) {
        throw new SbError(
          'SB_ERR_INSTITUTION_REVOKED',
          `institution ${inst.id} was revoked on ${inst.revokedAt}; its requests are refused. Contact the coalition to re-enrol.`,
          { institution_id: inst.id },
        );
      }
      // Per-institution budget, whatever the address: before any write for this request.
      limits?.countInstitution(inst.id, now.getTime());
      rememberNonce(db, {
        institutionId: inst.id,
        nonce: h.nonce,
        nowMs: now.getTime(),
        retainMs: 3 * config.requestMaxAgeSeconds * 1000,
      });
      if (h.auditHead !== null)
        recordAuditHead(db, {
          institutionId: inst.id,
          head: h.auditHead,
          seenAt: now,
          method: request.method,
          path: request.url,
          nonce: h.nonce,
        });
      request.sbAuth = {
        institutionId: inst.id,
        nonce: h.nonce,
        contentSha256: h.contentSha256,
        auditHead: h.auditHead,
      };
      request.log.info({ institution: inst.id }, 'signed request');
    };
    app.addHook('preValidation', async (request: FastifyRequest) => {
      if (!request.sbAuth) return;
      const body = request.body;
      if (body !== undefined && body !== null && !(body instanceof Uint8Array)) {
        throw new SbError(
          'SB_ERR_MEDIA_TYPE',
          'signed node requests carry application/octet-stream bodies (or none); the digest covers the exact bytes.',
        );
      }
      try {
        verifyRequestBody(request.sbAuth, body ?? null);
      } catch (e) {
        throw limits ? limits.authFailed(request.ip, e, clock().getTime()) : e;
      }
    });
  },
  { name: 'sb-request-auth', dependencies: ['sb-problem', 'sb-rate-limit'] },
);
