import { SbError } from '../../shared/errors/sb-error.js';
import type { CoordinatorDb } from './db.js';

/**
 * Remember a request nonce of an institution; throws `SB_ERR_REQUEST_REPLAY` when it was seen
 * before. Nonces are kept for `retainMs` (at least twice the accepted clock skew, so a request
 * can never be replayed while its timestamp is still fresh); older ones are purged here.
 */
export function rememberNonce(
  db: CoordinatorDb,
  input: { institutionId: string; nonce: string; nowMs: number; retainMs: number },
): void {
  db.transaction(() => {
    const r = db
      .prepare('INSERT INTO nonces (institution_id, nonce, seen_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
      .run(input.institutionId, input.nonce, input.nowMs);
    if (r.changes === 0) {
      throw new SbError(
        'SB_ERR_REQUEST_REPLAY',
        `this request (nonce ${input.nonce}) of institution ${input.institutionId} was already received; ` +
          `a replayed request is refused. ` +
          `Sign every request with a fresh nonce.`,
        {
          institution_id: input.institutionId,
        },
      );
    }
    // Cheap purge: only rows past retention; the index keeps it a range delete.
    db.prepare('DELETE FROM nonces WHERE seen_at_ms < ?').run(input.nowMs - input.retainMs);
  }).immediate();
}
