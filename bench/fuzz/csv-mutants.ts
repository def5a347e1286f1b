/**
 * Deterministic CSV mutants for the import fuzz (issue 13): a small base dataset with ids,
 * birth dates and names that are easy to recognise in any message, and seeded mutations of its
 * bytes: bit flips, truncation, duplicated, dropped and swapped lines, swapped and shifted
 * columns, re-encodings (Windows-1252, UTF-16 with and without BOM, UTF-8 BOM), line ends (CRLF,
 * lone CR, mixed), quote damage (stray, unclosed, quoted line breaks), delimiters and Excel
 * `sep=` lines, padding and blank lines.
 */
import iconv from 'iconv-lite';
import { type Rng, rngFor } from '../../synth/prng.js';
import { getAt } from '../../shared/arrays/checked-index.js';

export interface BaseDataset {
  enrolments: string;
  attendance: string;
  /** Values that identify a student and must never appear in a message. */
  secrets: { ids: string[]; birthDates: string[]; names: string[] };
}

/** Ids made of letters and the digits 0-8, so the shape `9…` never looks like them. */
function idOf(r: Rng, prefix: string): string {
  const A = 'BCDFGHJKLMNPQRSTVWXZ';
  let s = prefix;
  for (let i = 0; i < 6; i++) s += i % 2 ? String(r.int(0, 8)) : (A[r.int(0, A.length - 1)] as string);
  return s;
}

const NAMES = ['Jansen, Piet', 'de Vries, Fatima', 'El Amrani, Yusuf', 'Bakker, Noor', 'Visser, Daan', 'Smit, Lotte'];
const STATUSES = [
  'present',
  'present',
  'present',
  'late',
  'absent_authorized',
  'absent_unauthorized',
  'unregistered',
  'not_applicable',
];

/**
 * The base dataset: 12 enrolments of 10 students in the cases codebook (90001 niveau 2, 90002
 * niveau 3, and one crebo outside it), about 100 observations in September-October 2024 with a
 * name column, a free-text remark and start times.
 */
export function baseDataset(seed: string | number = 'fuzz'): BaseDataset {
  const r = rngFor(seed, 'base');
  const ids: string[] = [];
  const births: string[] = [];
  const enr = ['student_id,enrolment_id,birth_date,crebo,niveau,leerweg,start_date,end_date,exit_reason,deelnemernaam'];
  const enrolmentIds: string[] = [];
  for (let i = 0; i < 12; i++) {
    const student = i < 10 ? idOf(r, 'S') : (ids[0] as string);
    if (i < 10) ids.push(student);
    const e = idOf(r, 'E');
    ids.push(e);
    enrolmentIds.push(e);
    const birth = `${r.int(2003, 2008)}-0${r.int(1, 8)}-${String(r.int(10, 28))}`;
    births.push(birth);
    const [crebo, niveau] = i === 11 ? ['91234', '4'] : i % 3 === 0 ? ['90002', '3'] : ['90001', '2'];
    const leerweg = i % 4 === 1 ? 'BBL' : 'BOL';
    const ended = i % 5 === 2;
    enr.push(
      [
        student,
        e,
        birth,
        crebo,
        niveau,
        leerweg,
        `2024-08-${r.int(12, 30)}`,
        ended ? '2024-12-20' : '',
        ended ? (i % 2 ? 'diploma' : 'verhuisd') : '',
        `"${NAMES[i % NAMES.length]}"`,
      ].join(','),
    );
  }
  const att = ['enrolment_id,date,minutes,status,start_time,opmerking'];
  for (const e of enrolmentIds) {
    const n = r.int(5, 12);
    for (let k = 0; k < n; k++) {
      const day = 2 + k * 3 + r.int(0, 1);
      const date =
        day <= 30 ? `2024-09-${String(day).padStart(2, '0')}` : `2024-10-${String(day - 30).padStart(2, '0')}`;
      const remark = r.chance(0.1) ? (r.chance(0.5) ? 'bus te laat' : '"ziek, gebeld"') : '';
      att.push(
        [
          e,
          date,
          String(r.pick([30, 45, 50, 60, 90, 120])),
          r.pick(STATUSES),
          `${8 + (k % 8)}:${r.chance(0.5) ? '30' : '00'}`,
          remark,
        ].join(','),
      );
    }
  }
  return {
    enrolments: `${enr.join('\n')}\n`,
    attendance: `${att.join('\n')}\n`,
    secrets: { ids, birthDates: births, names: NAMES.map((n) => n.split(',')[0] as string) },
  };
}

export interface Mutant {
  /** Which mutation(s) made it, for the report. */
  kind: string;
  enrolments: Buffer;
  attendance: Buffer;
}

type Mutation = (text: string, r: Rng) => string | Buffer;

const lines = (s: string) => s.replace(/\n$/, '').split('\n');
const unlines = (ls: string[]) => `${ls.join('\n')}\n`;

/** The mutations, by kind; each takes the (possibly already mutated) text of one file. */
export const MUTATIONS: Record<string, Mutation> = {
  'byte-flip': (s, r) => {
    const b = Buffer.from(s, 'utf8');
    if (b.length === 0) return b;
    for (let k = r.int(1, 3); k > 0; k--) {
      const i = r.int(0, b.length - 1);
      b[i] = getAt(b, i) ^ (1 << r.int(0, 7));
    }
    return b;
  },
  truncate: (s, r) => Buffer.from(s, 'utf8').subarray(0, r.int(0, Buffer.byteLength(s) - 1)),
  'duplicate-line': (s, r) => {
    const ls = lines(s);
    const i = r.int(0, ls.length - 1);
    ls.splice(r.int(0, ls.length), 0, ls[i] as string);
    return unlines(ls);
  },
  'drop-line': (s, r) => {
    const ls = lines(s);
    ls.splice(r.int(0, ls.length - 1), 1);
    return unlines(ls);
  },
  'swap-lines': (s, r) => {
    const ls = lines(s);
    const i = r.int(0, ls.length - 1);
    const j = r.int(0, ls.length - 1);
    [ls[i], ls[j]] = [ls[j] as string, ls[i] as string];
    return unlines(ls);
  },
  'swap-columns-everywhere': (s, r) => swapColumns(s, r, true),
  'swap-columns-in-one-row': (s, r) => swapColumns(s, r, false),
  'drop-field-in-one-row': (s, r) => {
    const ls = lines(s);
    const i = r.int(1, Math.max(1, ls.length - 1));
    const line = ls[i];
    if (line === undefined) return s;
    const f = splitPlain(line);
    f.splice(r.int(0, f.length - 1), 1);
    ls[i] = f.join(',');
    return unlines(ls);
  },
  'duplicate-column': (s, r) => {
    const ls = lines(s).map(splitPlain);
    const c = r.int(0, (ls[0] as string[]).length - 1);
    return unlines(ls.map((f) => [...f.slice(0, c + 1), f[c] as string, ...f.slice(c + 1)].join(',')));
  },
  'windows-1252': (s) => iconv.encode(s.replace(/e/, 'é'), 'win1252'),
  'utf-16le-bom': (s) => iconv.encode(s, 'utf16-le', { addBOM: true }),
  'utf-16le-no-bom': (s) => iconv.encode(s, 'utf16-le'),
  'utf-16be-no-bom': (s) => iconv.encode(s, 'utf16-be'),
  'utf-8-bom': (s) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s)]),
  crlf: (s) => s.replace(/\n/g, '\r\n'),
  'lone-cr': (s) => s.replace(/\n/g, '\r'),
  'mixed-line-ends': (s, r) => s.replace(/\n/g, () => r.pick(['\n', '\r\n', '\r'])),
  'no-final-newline': (s) => s.replace(/\r?\n$/, ''),
  'blank-lines': (s, r) => {
    const ls = lines(s);
    for (let k = r.int(1, 3); k > 0; k--) ls.splice(r.int(0, ls.length), 0, r.pick(['', ' ', '\t']));
    return unlines(ls);
  },
  'stray-quote': (s, r) => {
    const i = r.int(0, s.length - 1);
    return `${s.slice(0, i)}"${s.slice(i)}`;
  },
  'quote-at-field-start': (s, r) => {
    const ls = lines(s);
    const i = r.int(1, Math.max(1, ls.length - 1));
    const line = ls[i];
    if (line === undefined) return s;
    const f = splitPlain(line);
    const c = r.int(0, f.length - 1);
    f[c] = `"${f[c]}`;
    ls[i] = f.join(',');
    return unlines(ls);
  },
  'quote-a-field': (s, r) => {
    const ls = lines(s);
    const i = r.int(0, ls.length - 1);
    const f = splitPlain(ls[i] as string);
    const c = r.int(0, f.length - 1);
    if (!(f[c] as string).startsWith('"')) f[c] = `"${(f[c] as string).replace(/"/g, '""')}"`;
    ls[i] = f.join(',');
    return unlines(ls);
  },
  'quoted-line-break-in-remark': (s, r) => {
    const ls = lines(s);
    const i = r.int(1, Math.max(1, ls.length - 1));
    const line = ls[i];
    if (line === undefined) return s;
    const f = splitPlain(line);
    f[f.length - 1] = `"eerste regel${r.pick(['\n', '\r\n', '\r'])}tweede regel"`;
    ls[i] = f.join(',');
    return unlines(ls);
  },
  semicolon: (s) => toDelimiter(s, ';'),
  tab: (s) => toDelimiter(s, '\t'),
  'excel-sep-line': (s) => `sep=;\r\n${toDelimiter(s, ';').replace(/\n/g, '\r\n')}`,
  'pad-fields': (s, r) =>
    unlines(
      lines(s).map((l) =>
        splitPlain(l)
          .map((f) => (r.chance(0.3) ? ` ${f} ` : f))
          .join(','),
      ),
    ),
  'upper-case-header': (s) => s.replace(/^[^\n]*/, (h) => h.toUpperCase()),
  'day-first-dates': (s) => s.replace(/\b(20\d\d)-(\d\d)-(\d\d)\b/g, (_, y, m, d) => `${Number(d)}-${Number(m)}-${y}`),
  empty: () => '',
  'header-only': (s) => `${lines(s)[0]}\n`,
};

/** Split a line of the base files on commas, keeping quoted fields (which hold no comma but the name's) whole. */
function splitPlain(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (const ch of line) {
    if (ch === '"') q = !q;
    if (ch === ',' && !q) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function toDelimiter(s: string, d: string): string {
  return unlines(lines(s).map((l) => splitPlain(l).join(d)));
}

function swapColumns(s: string, r: Rng, everywhere: boolean): string {
  const ls = lines(s).map(splitPlain);
  const w = (ls[0] as string[]).length;
  const a = r.int(0, w - 1);
  const b = r.int(0, w - 1);
  const row = r.int(1, Math.max(1, ls.length - 1));
  return unlines(
    ls.map((f, i) => {
      if (everywhere || i === row) [f[a], f[b]] = [f[b] as string, f[a] as string];
      return f.join(',');
    }),
  );
}

const KINDS = Object.keys(MUTATIONS);

/**
 * Mutant `i` of the run seeded `seed`: one file (or both) gets one to three mutations, applied
 * in turn (a mutation after one that produced non-UTF-8 bytes works on their Latin-1 reading).
 */
export function mutant(base: BaseDataset, seed: string | number, i: number): Mutant {
  const r = rngFor(seed, 'mutant', i);
  const which = r.pick(['enrolments', 'attendance', 'attendance', 'both'] as const);
  const kinds: string[] = [];
  const mutate = (text: string): Buffer => {
    let cur: string | Buffer = text;
    for (let k = r.chance(0.7) ? 1 : r.int(2, 3); k > 0; k--) {
      const kind = r.pick(KINDS);
      kinds.push(kind);
      cur = (MUTATIONS[kind] as Mutation)(typeof cur === 'string' ? cur : cur.toString('latin1'), r);
    }
    return typeof cur === 'string' ? Buffer.from(cur, 'utf8') : cur;
  };
  const enrolments = which === 'attendance' ? Buffer.from(base.enrolments) : mutate(base.enrolments);
  const attendance = which === 'enrolments' ? Buffer.from(base.attendance) : mutate(base.attendance);
  return { kind: `${which}: ${kinds.join(' + ')}`, enrolments, attendance };
}
