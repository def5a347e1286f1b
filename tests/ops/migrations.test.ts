// Schema migrations from every earlier schema version of every role: the fixtures in
// tests/fixtures/schemas/ hold each version's schema verbatim from the commit that introduced it,
// with data; the current code must migrate each to the current version and keep every row.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { listInstitutions, openCoordinatorDb } from '../../coordinator/index.js';
import { coordinatorSchemaVersion } from '../../coordinator/store/db.js';
import { KeyHolderStore, keyHolderSchemaVersion } from '../../keyholder/store/keyholder-store.js';
import { nodeSchemaVersion, openNodeDb } from '../../node/store/node-db.js';
import { computeNodeVector } from '../../node/vector/node-vector.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { versionsCheck } from '../../shared/ops/host-checks.js';
import { repoRoot, sampleDir } from '../helpers/paths.js';

const FIXTURES = join(repoRoot, 'tests/fixtures/schemas');
const EDGE = join(sampleDir, 'edge');
type Role = 'coordinator' | 'node' | 'keyholder';

/** The file each role keeps its database in, inside a folder, and how the role opens (and migrates) it. */
const ROLES: Record<Role, { known: number; file: string; open(dir: string): void }> = {
  coordinator: {
    known: coordinatorSchemaVersion(),
    file: 'coordinator.sqlite',
    open: (dir) => openCoordinatorDb(join(dir, 'coordinator.sqlite')).close(),
  },
  node: { known: nodeSchemaVersion(), file: 'node.sqlite', open: (dir) => openNodeDb(dir).close() },
  keyholder: {
    known: keyHolderSchemaVersion(),
    file: 'keyholder.sqlite',
    open: (dir) => KeyHolderStore.open(dir).close(),
  },
};

function fixtures(role: Role): Map<number, string> {
  const m = new Map<number, string>();
  for (const f of readdirSync(FIXTURES)) {
    const r = new RegExp(`^${role}-v(\\d+)\\.sql$`).exec(f);
    if (r) m.set(Number(r[1]), join(FIXTURES, f));
  }
  return m;
}

type Rows = Record<string, Record<string, unknown>[]>;
function tables(db: Database.Database): string[] {
  return (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as {
      name: string;
    }[]
  ).map((r) => r.name);
}
function snapshot(file: string): Rows {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries(
      tables(db).map((n) => [n, db.prepare(`SELECT * FROM "${n}" ORDER BY rowid`).all() as Record<string, unknown>[]]),
    );
  } finally {
    db.close();
  }
}
function schema(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db
        .prepare(
          "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .all() as Record<string, string>[]
    ).map((r) => `${r.type} ${r.name} ${r.tbl_name}: ${r.sql}`);
  } finally {
    db.close();
  }
}

for (const role of Object.keys(ROLES) as Role[]) {
  const { known, file, open } = ROLES[role];
  const have = fixtures(role);

  t.test(`${role}: a fixture for every earlier schema version (1..${known - 1})`, async (t) => {
    for (let v = 1; v < known; v++)
      t.ok(have.has(v), `tests/fixtures/schemas/${role}-v${v}.sql exists (see the README there when it does not)`);
  });

  for (const [v, sql] of [...have].sort((a, b) => a[0] - b[0])) {
    if (v > known) continue;
    t.test(
      `${role}: schema version ${v} ${v < known ? `migrates to ${known}` : 'is current and opens'} with every row kept`,
      async (t) => {
        const root = t.testdir();
        const fresh = join(root, 'fresh');
        const dir = join(root, 'home');
        mkdirSync(fresh, { mode: 0o700 });
        mkdirSync(dir, { mode: 0o700 });
        open(fresh);
        const path = join(dir, file);
        const w = new Database(path);
        w.exec(readFileSync(sql, 'utf8'));
        t.equal(w.pragma('user_version', { simple: true }), v, `the fixture is at version ${v}`);
        w.close();
        if (v < known) t.equal(versionsCheck({ found: v, known }).status, 'WARN', 'doctor warns before the migration');
        const before = snapshot(path);

        open(dir);

        const db = new Database(path, { readonly: true });
        t.equal(db.pragma('user_version', { simple: true }), known, `now at version ${known}`);
        t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'integrity_check ok');
        t.same(db.pragma('foreign_key_check'), [], 'no dangling foreign keys');
        db.close();
        t.same(schema(path), schema(join(fresh, file)), 'the same schema as a database created by this version');
        const after = snapshot(path);
        for (const [table, rows] of Object.entries(before)) {
          const cols = Object.keys(rows[0] ?? {});
          const kept = (after[table] ?? []).map((r) => Object.fromEntries(cols.map((c) => [c, r[c]])));
          t.same(kept, rows, `${table}: all ${rows.length} rows kept`);
          t.ok(rows.length > 0, `${table}: the fixture has rows in it`);
        }
        // Opening again is a no-op (the migration does not run twice).
        open(dir);
        t.same(snapshot(path), after, 'opening again changes nothing');

        if (role === 'coordinator') {
          const c = openCoordinatorDb(path);
          const inst = listInstitutions(c);
          t.same(
            inst.map((i) => [i.id, i.revokedAt]),
            [
              ['inst-1', null],
              ['inst-2', '2024-12-01T09:00:00.000Z'],
            ],
            'institutions read through the store',
          );
          c.close();
        }
        if (role === 'node') {
          const vec = await computeNodeVector({ home: dir, codebook: join(EDGE, 'codebook.csv'), year: 2024 });
          const expected = JSON.parse(readFileSync(join(EDGE, 'expected.json'), 'utf8')) as {
            cells: unknown;
            groups: unknown;
          };
          t.same(vec.json.cells, expected.cells, 'the migrated dataset still gives sample/edge/expected.json (cells)');
          t.same(vec.json.groups, expected.groups, 'and its groups');
        }
        if (role === 'keyholder') {
          const s = KeyHolderStore.open(dir);
          t.same(
            s.releases('2024-2025-r1').map((r) => r.releaseDigest),
            v >= 2 ? ['r1', 'r2'] : ['r1'],
            'releases read through the store',
          );
          t.equal(s.decryptions().length, v >= 3 ? 2 : 1, 'the decryption log read through the store');
          s.close();
        }
      },
    );
  }

  t.test(`${role}: a database from a newer sectorbench is refused, not misread`, async (t) => {
    const dir = t.testdir();
    const path = join(dir, file);
    const w = new Database(path);
    w.pragma(`user_version = ${known + 1}`);
    w.close();
    try {
      open(dir);
      t.fail('opened a newer database');
    } catch (e) {
      t.ok(isSbError(e), 'a coded error');
      t.equal((e as { code?: string }).code, 'SB_ERR_DB_VERSION');
      t.match((e as Error).message, new RegExp(`schema version ${known + 1}, this sectorbench knows ${known}`));
    }
  });
}
