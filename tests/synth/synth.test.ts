import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse/sync';
import { synthesize } from '../../synth/run-synth.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';

const STATUSES = new Set([
  'present',
  'late',
  'absent_authorized',
  'absent_unauthorized',
  'not_applicable',
  'unregistered',
]);
const ISO = /^\d{4}-\d{2}-\d{2}$/;

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out[`${rel}${name}`] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

const rows = (text: string, delimiter = ','): string[][] =>
  parse(text, { delimiter, bom: true, relax_column_count: false }) as string[][];

t.test('same seed gives the same bytes; another seed differs', async (t) => {
  const base = t.testdir({});
  const opts = { institutions: 2, students: 90, seed: 'det', year: 2024, progress: false };
  await synthesize({ ...opts, out: join(base, 'a') });
  await synthesize({ ...opts, out: join(base, 'b') });
  await synthesize({ ...opts, out: join(base, 'c'), seed: 'other' });
  await synthesize({ ...opts, out: join(base, 'm1'), messy: true });
  await synthesize({ ...opts, out: join(base, 'm2'), messy: true });
  const a = hashTree(join(base, 'a'));
  t.same(Object.keys(a), [
    'codebook.csv',
    'inst-1/attendance.csv',
    'inst-1/enrolments.csv',
    'inst-2/attendance.csv',
    'inst-2/enrolments.csv',
  ]);
  t.same(hashTree(join(base, 'b')), a, 'canonical output is deterministic');
  t.same(hashTree(join(base, 'm1')), hashTree(join(base, 'm2')), 'messy output is deterministic');
  t.not(
    hashTree(join(base, 'c'))['inst-1/attendance.csv'],
    a['inst-1/attendance.csv'],
    'another seed gives other data',
  );
});

t.test('canonical files follow INPUT.md', async (t) => {
  const out = t.testdir({});
  const r = await synthesize({ out, institutions: 3, students: 120, seed: 's', year: 2024, progress: false });
  const cb = await readCodebookFile(r.codebook);
  t.equal(cb.entries.length, 120);
  t.ok(cb.entries.every((e) => /^9\d{4}$/.test(e.crebo) && e.name.endsWith('(synthetisch)')));
  t.equal(new Set(cb.entries.map((e) => e.sectorkamerCode)).size, 8, '8 sectorkamers');
  t.same([...new Set(cb.entries.map((e) => e.niveau))].sort(), [1, 2, 3, 4]);
  const headers: string[] = [];
  for (const inst of r.institutions) {
    const etext = readFileSync(inst.enrolments, 'utf8');
    t.notOk(etext.includes('\r'), 'LF line ends');
    const [eh = [], ...er] = rows(etext);
    headers.push(eh.join(','));
    const col = (h: string[], n: string): number => h.indexOf(n);
    const eids = new Map<string, { sd: string; ed: string }>();
    for (const f of er) {
      const get = (n: string): string => f[col(eh, n)] ?? '';
      t.notOk(eids.has(get('enrolment_id')), 'enrolment_id unique');
      eids.set(get('enrolment_id'), { sd: get('start_date'), ed: get('end_date') });
      if (
        !/^\d{5}$/.test(get('crebo')) ||
        !['1', '2', '3', '4'].includes(get('niveau')) ||
        !['BOL', 'BBL'].includes(get('leerweg')) ||
        !ISO.test(get('start_date'))
      )
        t.fail(`bad enrolment row ${f.join(',')}`);
      if (get('end_date') && (!ISO.test(get('end_date')) || get('end_date') < get('start_date')))
        t.fail(`bad end_date ${f.join(',')}`);
      const e = cb.byCrebo.get(get('crebo'));
      if (e && String(e.niveau) !== get('niveau')) t.fail('niveau contradicts the codebook');
      if (col(eh, 'birth_date') >= 0 && get('birth_date') && !ISO.test(get('birth_date'))) t.fail('bad birth_date');
    }
    t.equal(er.length, inst.enrolmentRows);
    t.ok(
      er.some((f) => !cb.byCrebo.has(f[col(eh, 'crebo')] as string)),
      'has crebos outside the codebook',
    );
    t.ok(
      er.some((f) => (f[col(eh, 'exit_reason')] ?? '').trim().toLowerCase() === 'diploma'),
      'has diplomas',
    );
    const atext = readFileSync(inst.attendance, 'utf8');
    const lines = atext.split('\n');
    const ah = (lines[0] as string).split(',');
    t.ok(
      ['enrolment_id,date,minutes,status', 'enrolment_id,date,minutes,status,start_time'].includes(lines[0] as string),
    );
    const seen = new Set<string>();
    let bad = 0,
      outside = 0,
      n = 0;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      if (!line) continue;
      n++;
      const f = line.split(',');
      const [eid, date, minutes, status, st] = f as [string, string, string, string, string?];
      const m = Number(minutes);
      if (!eids.has(eid) || !ISO.test(date) || !Number.isInteger(m) || m < 1 || m > 720 || !STATUSES.has(status)) bad++;
      if (date < '2024-08-01') outside++;
      if (ah.length === 5) {
        const k = `${eid}|${date}|${st}`;
        if (seen.has(k)) bad++;
        seen.add(k);
      }
    }
    t.equal(bad, 0, 'all attendance rows valid, (enrolment_id, date, start_time) unique');
    t.equal(n, inst.observations);
    t.ok(outside > 0, 'has observations before the studiejaar');
  }
  t.ok(
    headers.some((h) => !h.includes('birth_date')),
    'one institution without birth_date',
  );
});

t.test('messy shape: Windows-1252, BOM, semicolons, CRLF, day-first dates, same records', async (t) => {
  const base = t.testdir({});
  const opts = { institutions: 1, students: 150, seed: 'twin', year: 2024, progress: false };
  const c = await synthesize({ ...opts, out: join(base, 'c') });
  const m = await synthesize({ ...opts, out: join(base, 'm'), messy: true });
  t.same(readFileSync(join(base, 'c', 'codebook.csv')), readFileSync(join(base, 'm', 'codebook.csv')));
  const ebytes = readFileSync(m.institutions[0]!.enrolments);
  const { isUtf8 } = await import('node:buffer');
  t.notOk(isUtf8(ebytes), 'enrolments are not UTF-8');
  const etext = iconv.decode(ebytes, 'win1252');
  t.match(etext, /[ëçöüÖÇ]/, 'decodes as Windows-1252 with accented names');
  t.ok(etext.includes('–'), 'en dash (0x96)');
  t.ok(etext.includes('\r\n'), 'CRLF');
  t.match(etext.split('\r\n')[0], /^Student_ID;Deelnemernaam;Enrolment_ID; Crebo ;/);
  const abytes = readFileSync(m.institutions[0]!.attendance);
  t.same([...abytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'attendance has a UTF-8 BOM');
  const atext = abytes.toString('utf8');
  t.match(atext, /;\d{1,2}-\d{1,2}-2024;/, 'D-M-YYYY dates');
  t.match(atext, /"Praktijk; werkplaats"/);

  // Same records as the canonical twin once trimmed and normalised.
  const iso = (s: string): string => {
    const v = s.trim();
    const mm = /^(\d{1,2})-(\d{1,2})-(\d{4})$/.exec(v);
    return mm ? `${mm[3]}-${mm[2]!.padStart(2, '0')}-${mm[1]!.padStart(2, '0')}` : v;
  };
  const [mh, ...mr] = rows(etext, ';');
  const mk = (mh as string[]).map((h) => h.trim().toLowerCase());
  const [ch, ...cr] = rows(readFileSync(c.institutions[0]!.enrolments, 'utf8'));
  const norm = (h: string[], f: string[]): string =>
    (ch as string[])
      .map((name) => {
        const v = (f[h.indexOf(name)] ?? '').trim();
        return name.endsWith('date') ? iso(v) : v;
      })
      .join('|');
  t.same(
    mr.map((f) => norm(mk, f)),
    cr.map((f) => norm(ch as string[], f)),
    'same enrolment records',
  );
  const ma = rows(atext, ';');
  const mah = (ma[0] as string[]).map((h) => h.trim().toLowerCase());
  const ca = readFileSync(c.institutions[0]!.attendance, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => l.split(','));
  const cah = ca[0] as string[];
  t.equal(ma.length, ca.length, 'same number of observations');
  let diff = 0;
  for (let i = 1; i < ca.length; i++) {
    const a = ca[i] as string[],
      b = ma[i] as string[];
    for (let j = 0; j < cah.length; j++) {
      const name = cah[j] as string;
      const v = (b[mah.indexOf(name)] ?? '').trim();
      if ((name === 'date' ? iso(v) : v) !== a[j]) diff++;
    }
  }
  t.equal(diff, 0, 'same attendance records');
});

t.test('codebook size option', async (t) => {
  const out = t.testdir({});
  const r = await synthesize({
    out,
    institutions: 1,
    students: 30,
    seed: 'cb',
    year: 2025,
    crebos: 1200,
    progress: false,
  });
  const cb = await readCodebookFile(r.codebook);
  t.equal(cb.entries.length, 1200);
  t.equal(cb.cellKeys.length, 2400);
});
