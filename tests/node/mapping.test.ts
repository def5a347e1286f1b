// The two shipped mapping files work on exports in their SIS's shape: a conformance institution
// converted to that shape imports to exactly its expected vector.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import t from 'tap';
import { importDataset } from '../../node/import/import-dataset.js';
import { readMappingFile, StatusResolver, STATUS } from '../../node/import/mapping.js';
import { computeNodeVector } from '../../node/vector/node-vector.js';
import { repoRoot, sampleDir } from '../helpers/paths.js';

type Row = Record<string, string>;
const read = (p: string) => parse(readFileSync(p, 'utf8'), { columns: true }) as Row[];
const dmy = (iso: string) => (iso ? `${iso.slice(8, 10)}-${iso.slice(5, 7)}-${iso.slice(0, 4)}` : '');
const q = (v: string, d: string) => (v.includes(d) || v.includes('"') ? `"${v.replace(/"/g, '""')}"` : v);
const isDiploma = (r: string) => r.trim().toLowerCase() === 'diploma';
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

function eduarte(dir: string, src: string) {
  const enr = read(join(src, 'enrolments.csv'));
  const lines = [
    'Deelnemernummer;Naam;Verbintenis;Geboortedatum;Crebo;Niveau;Leerweg;Begindatum;Einddatum;Reden beeindiging',
  ];
  for (const r of enr) {
    const reason = isDiploma(r.exit_reason ?? '') ? 'Gediplomeerd' : (r.exit_reason ?? '');
    lines.push(
      [
        r.student_id,
        'Zoë Çelik',
        r.enrolment_id,
        dmy(r.birth_date ?? ''),
        r.crebo,
        `Niveau ${r.niveau}`,
        r.leerweg,
        dmy(r.start_date!),
        dmy(r.end_date!),
        q(reason, ';'),
      ].join(';'),
    );
  }
  writeFileSync(join(dir, 'enrolments.csv'), iconv.encode(`${lines.join('\r\n')}\r\n`, 'win1252'));
  const att = read(join(src, 'attendance.csv'));
  const codes: Record<string, [string, string, string]> = {
    present: ['P', '', ''],
    late: ['A', 'Te laat', 'Ja'],
    absent_authorized: ['A', 'Ziek', 'Ja'],
    absent_unauthorized: ['A', 'Spijbelen', 'Nee'],
    not_applicable: ['N', '', ''],
    unregistered: ['', '', ''],
  };
  const out = ['Verbintenis;Datum;Begintijd;Eindtijd;Waarneming;Absentiereden;Geoorloofd;Vak'];
  for (const r of att) {
    const [h, m] = r.start_time!.split(':').map(Number);
    const start = h! * 60 + m!;
    out.push(
      [
        r.enrolment_id,
        dmy(r.date!),
        r.start_time,
        hhmm(start + Number(r.minutes)),
        ...codes[r.status!]!,
        '"Keuzedeel; ""ondernemen"""',
      ].join(';'),
    );
  }
  writeFileSync(join(dir, 'attendance.csv'), `${out.join('\r\n')}\r\n`);
}

function pars(dir: string, src: string) {
  const enr = read(join(src, 'enrolments.csv'));
  const lines = [
    'Studentnummer\tInschrijvingsnummer\tOpleidingscode\tNiveau\tLeerweg\tIngangsdatum\tEinddatum\tReden uitschrijving',
  ];
  for (const r of enr) {
    const reason = isDiploma(r.exit_reason ?? '') ? 'Geslaagd' : (r.exit_reason ?? '');
    lines.push(
      [
        r.student_id,
        r.enrolment_id,
        r.crebo,
        r.niveau,
        r.leerweg === 'BOL' ? 'Voltijd' : 'Duaal',
        r.start_date,
        r.end_date,
        q(reason, '\t'),
      ].join('\t'),
    );
  }
  writeFileSync(join(dir, 'enrolments.csv'), `${lines.join('\n')}\n`);
  const att = read(join(src, 'attendance.csv'));
  const codes: Record<string, string> = {
    present: 'Aanwezig',
    late: 'Te laat',
    absent_authorized: 'Regulier absent',
    absent_unauthorized: 'Absent',
    not_applicable: 'Niet van toepassing',
    unregistered: '',
  };
  const out = ['Inschrijvingsnummer\tDatum\tAanvang\tDuur\tStatus'];
  for (const r of att) out.push([r.enrolment_id, r.date, r.start_time, r.minutes, codes[r.status!]].join('\t'));
  writeFileSync(join(dir, 'attendance.csv'), `${out.join('\n')}\n`);
}

for (const [name, inst, convert, mapping] of [
  ['EduArte-style export of inst-1', 'inst-1', eduarte, 'eduarte.json'],
  ['PARS-style export of inst-2', 'inst-2', pars, 'pars.json'],
] as const) {
  t.test(name, async (t) => {
    const dir = t.testdir({ home: {} });
    convert(dir, join(sampleDir, inst));
    const home = join(dir, 'home');
    await importDataset({
      home,
      enrolments: join(dir, 'enrolments.csv'),
      attendance: join(dir, 'attendance.csv'),
      mapping: join(repoRoot, 'node/mappings', mapping),
    });
    const { json } = await computeNodeVector({ home, codebook: join(sampleDir, 'codebook.csv'), year: 2024 });
    const expected = JSON.parse(readFileSync(join(sampleDir, `expected/${inst}.json`), 'utf8'));
    t.strictSame(json.cells, expected.cells);
    t.strictSame(json.groups, expected.groups);
    t.strictSame(json.excluded_crebos, expected.excluded_crebos);
    // Absence reasons and names never reach the database.
    const db = readFileSync(join(home, 'node.sqlite'));
    for (const secret of ['Ziek', 'Spijbelen', 'Zoë', 'Çelik', 'Keuzedeel'])
      t.equal(db.indexOf(Buffer.from(secret)), -1, `'${secret}' is not stored`);
  });
}

t.test('status resolution: most specific key wins, case-insensitive, unknown is null', async (t) => {
  const r = new StatusResolver(
    { 'A|Te laat|*': 'late', 'A|*|Ja': 'absent_authorized', 'A|*|*': 'absent_unauthorized', P: 'present' },
    3,
  );
  t.equal(r.resolve(['a', 'te LAAT', 'Nee']), STATUS.late);
  t.equal(r.resolve(['A', 'Ziek', 'ja']), STATUS.absent_authorized);
  t.equal(r.resolve(['A', 'Ziek', '']), STATUS.absent_unauthorized);
  t.equal(r.resolve(['P', '', '']), STATUS.present);
  t.equal(r.resolve(['X', '', '']), null);
});

t.test('invalid mapping files are refused with the field that is wrong', async (t) => {
  const dir = t.testdir({
    'bad.json': JSON.stringify({ attendance: { status: { from: ['S'], codes: { x: 'sick' } } } }),
    'notjson.json': '{',
  });
  const e = (() => {
    try {
      readMappingFile(join(dir, 'bad.json'));
    } catch (err) {
      return err as Error & { code: string };
    }
  })();
  t.equal(e?.code, 'SB_ERR_MAPPING_INVALID');
  t.match(e?.message, 'attendance.status.codes.x');
  const e2 = (() => {
    try {
      readMappingFile(join(dir, 'notjson.json'));
    } catch (err) {
      return err as Error & { code: string };
    }
  })();
  t.equal(e2?.code, 'SB_ERR_MAPPING_INVALID');
  const e3 = (() => {
    try {
      readMappingFile(join(dir, 'nope.json'));
    } catch (err) {
      return err as Error & { code: string };
    }
  })();
  t.equal(e3?.code, 'SB_ERR_FILE_NOT_FOUND');
});

t.test('the dirty sample stores no names, remarks or subjects', async (t) => {
  const home = t.testdir();
  await importDataset({
    home,
    enrolments: join(sampleDir, 'inst-1-dirty/enrolments.csv'),
    attendance: join(sampleDir, 'inst-1-dirty/attendance.csv'),
  });
  const db = readFileSync(join(home, 'node.sqlite'));
  for (const secret of ['Fenna', 'Peeters', 'Bakker', 'zie dossier', 'Praktijk', 'Bouwkunde', 'interne overstap']) {
    t.equal(db.indexOf(Buffer.from(secret)), -1, `'${secret}' is not stored`);
  }
});
