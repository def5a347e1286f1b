import { fingerprint } from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { InstitutionId } from '../../schemas/common.js';
import { recordEvent, tx, type CoordinatorDb } from './db.js';

/** A registered institution. */
export interface Institution {
  id: string;
  /** Ed25519 public key, base64. */
  ed25519PublicKey: string;
  fingerprint: string;
  addedAt: string;
  revokedAt: string | null;
}

interface Row {
  id: string;
  ed25519_public_key: string;
  fingerprint: string;
  added_at: string;
  revoked_at: string | null;
}

const toInstitution = (r: Row): Institution => ({
  id: r.id,
  ed25519PublicKey: r.ed25519_public_key,
  fingerprint: r.fingerprint,
  addedAt: r.added_at,
  revokedAt: r.revoked_at,
});

/**
 * Register an institution with its Ed25519 public key (enrolment; compare the returned
 * fingerprint with the institution over the phone). Refuses a duplicate id or key.
 * @see ../../../shared/spec/ARCHITECTURE.md "Roles"
 */
export function addInstitution(
  db: CoordinatorDb,
  input: { id: string; publicKey: Uint8Array; now: Date },
): Institution {
  if (!InstitutionId.safeParse(input.id).success) {
    throw new SbError('SB_ERR_USAGE', `'${input.id}' is not an institution id (letters, digits, _ and -, at most 32).`);
  }
  if (input.publicKey.byteLength !== 32) throw new SbError('SB_ERR_KEY_FILE', 'an Ed25519 public key is 32 bytes.');
  const key = Buffer.from(input.publicKey).toString('base64');
  const fp = fingerprint(input.publicKey);
  const at = input.now.toISOString();
  return tx(db, () => {
    const existing = db
      .prepare<unknown[], Row>('SELECT * FROM institutions WHERE id = ? OR ed25519_public_key = ?')
      .get(input.id, key);
    if (existing) {
      throw new SbError(
        'SB_ERR_INSTITUTION_EXISTS',
        existing.id === input.id
          ? `institution ${input.id} is already registered (fingerprint ${existing.fingerprint}); a new key needs a new id or a revoke first.`
          : `this key is already registered for institution ${existing.id}; every institution has its own identity key.`,
        { institution_id: existing.id },
      );
    }
    db.prepare('INSERT INTO institutions (id, ed25519_public_key, fingerprint, added_at) VALUES (?, ?, ?, ?)').run(
      input.id,
      key,
      fp,
      at,
    );
    recordEvent(db, { at, kind: 'institution.added', institutionId: input.id, detail: { fingerprint: fp } });
    return { id: input.id, ed25519PublicKey: key, fingerprint: fp, addedAt: at, revokedAt: null };
  });
}

/** Revoke an institution: its requests are refused from now on (403). Idempotent. */
export function revokeInstitution(db: CoordinatorDb, input: { id: string; now: Date }): Institution {
  return tx(db, () => {
    const row = db.prepare<unknown[], Row>('SELECT * FROM institutions WHERE id = ?').get(input.id);
    if (!row)
      throw new SbError(
        'SB_ERR_UNKNOWN_INSTITUTION',
        `institution ${input.id} is not registered; see 'sectorbench coordinator institution list'.`,
        { institution_id: input.id },
      );
    if (row.revoked_at) return toInstitution(row);
    const at = input.now.toISOString();
    db.prepare('UPDATE institutions SET revoked_at = ? WHERE id = ?').run(at, input.id);
    recordEvent(db, { at, kind: 'institution.revoked', institutionId: input.id });
    return toInstitution({ ...row, revoked_at: at });
  });
}

/** One institution, or undefined. */
export function getInstitution(db: CoordinatorDb, id: string): Institution | undefined {
  const row = db.prepare<unknown[], Row>('SELECT * FROM institutions WHERE id = ?').get(id);
  return row ? toInstitution(row) : undefined;
}

/** All institutions, by id. */
export function listInstitutions(db: CoordinatorDb): Institution[] {
  return db.prepare<unknown[], Row>('SELECT * FROM institutions ORDER BY id').all().map(toInstitution);
}
