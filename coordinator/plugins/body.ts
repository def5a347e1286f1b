import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { SbError } from '../../shared/errors/sb-error.js';

const DEFAULT_LIMIT = 1024 * 1024;

function tooLarge(limit: number): SbError {
  return new SbError(
    'SB_ERR_BODY_TOO_LARGE',
    `the body is larger than the ${limit} bytes this request may have; a contribution must be exactly the round's ciphertexts and one envelope.`,
    { limit },
  );
}

/**
 * `application/octet-stream` bodies as Buffers, bounded per request: `request.sbBodyLimit`
 * (set by the route from the round, e.g. contributions) or the route's `bodyLimit`. A declared
 * `content-length` above the limit is refused before reading; a stream that grows past it is
 * cut off (413).
 */
export default fp(
  async function bodyPlugin(app: FastifyInstance) {
    app.decorateRequest('sbBodyLimit', null);
    app.addContentTypeParser('application/octet-stream', (request, payload, done) => {
      const limit = Math.min(request.sbBodyLimit ?? Infinity, request.routeOptions.bodyLimit ?? DEFAULT_LIMIT);
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) {
        done(tooLarge(limit), undefined);
        payload.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let n = 0;
      let finished = false;
      const finish = (err: Error | null, body?: Buffer) => {
        if (finished) return;
        finished = true;
        done(err, body);
      };
      payload.on('data', (c: Buffer) => {
        if (finished) return;
        n += c.length;
        if (n > limit) {
          chunks.length = 0;
          finish(tooLarge(limit));
          payload.resume();
          return;
        }
        chunks.push(c);
      });
      payload.on('end', () => finish(null, Buffer.concat(chunks, n)));
      payload.on('error', (e) => finish(e));
    });
  },
  { name: 'sb-body' },
);
