import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from '@fastify/type-provider-zod';

/** OpenAPI 3 document (from the routes' zod schemas) and Swagger UI at `/docs` (JSON at `/docs/json`). */
export default fp(
  async function swaggerPlugin(app: FastifyInstance) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'sectorbench coordinator',
          description:
            'Rounds, encrypted contributions and published benchmarks of sectorbench. Node requests are signed with Ed25519 ' +
            '(headers sb-institution, sb-timestamp, sb-nonce, sb-content-sha256, optional sb-audit-head, sb-signature; ' +
            'see shared/protocol/request-signing.ts). Errors are application/problem+json.',
          version: '1',
        },
        servers: [{ url: app.coordinator.config.publicUrl }],
        tags: [
          { name: 'rounds', description: 'round manifests, keys and status' },
          { name: 'contributions', description: 'signed node submissions' },
          { name: 'releases', description: 'published benchmarks' },
          { name: 'institutions', description: "what the coordinator saw of an institution's audit log" },
          { name: 'health', description: 'liveness' },
        ],
        components: {
          securitySchemes: {
            sbSignature: {
              type: 'apiKey',
              in: 'header',
              name: 'sb-signature',
              description: 'Ed25519 request signature (with the other sb-* headers)',
            },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      uiConfig: { docExpansion: 'list', deepLinking: false },
    });
  },
  { name: 'sb-swagger' },
);
