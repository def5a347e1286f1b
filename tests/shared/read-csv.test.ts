// Differential test of the hand-written CSV reader against csv-parse (the well-kept library it
// stands in for on the hot path): same records on random RFC 4180 input, at any chunk boundary.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import t from 'tap';
import { readCsv } from '../../shared/csv/read-csv.js';
import { sampleDir } from '../helpers/paths.js';

async function readAll(path: string, chunkSize?: number, encoding?: 'auto' | 'utf-8' | 'windows-1252') {
  const rows: string[][] = [];
  const lines: number[] = [];
  const s = await readCsv(
    path,
    (h) => rows.push(h.names.map((n) => n)),
    (f, line) => {
      rows.push(f);
      lines.push(line);
    },
    { chunkSize, encoding, multilineQuotes: 'warn' },
  );
  return { rows, lines, header: s.header };
}

/** A small seeded PRNG so failures reproduce. */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'b', 'Z', '1', ' ', 'é', 'ë', '€', '–', '😀', ',', ';', '"', '\n', '\r\n'];

t.test('random RFC 4180 files: same records as csv-parse, at every chunk size', async (t) => {
  const dir = t.testdir();
  const rnd = prng(42);
  for (let round = 0; round < 60; round++) {
    const delim = [',', ';', '|', '\t'][round % 4]!;
    const cols = 2 + Math.floor(rnd() * 4);
    const header = Array.from({ length: cols }, (_, i) => `col${i}`);
    const records: string[][] = [];
    const nrec = 1 + Math.floor(rnd() * 40);
    for (let r = 0; r < nrec; r++) {
      records.push(
        Array.from({ length: cols }, () => {
          const len = Math.floor(rnd() * 8);
          let s = '';
          for (let k = 0; k < len; k++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
          return s;
        }),
      );
    }
    const eol = round % 3 === 0 ? '\r\n' : '\n';
    const quote = (v: string) =>
      /[",;|\t\r\n]/.test(v) || (v === '' && rnd() < 0.2) ? `"${v.replace(/"/g, '""')}"` : v;
    const text =
      [header.join(delim), ...records.map((r) => r.map(quote).join(delim))].join(eol) + (rnd() < 0.5 ? eol : '');
    const path = join(dir, `r${round}.csv`);
    writeFileSync(path, text);
    // Records that consist of one empty field are blank lines to both readers; skip them.
    const oracle = parse(text, { delimiter: delim, relax_column_count: true, skip_empty_lines: true }) as string[][];
    for (const chunk of [1, 2, 3, 7, 64, 1 << 20]) {
      const got = await readAll(path, chunk);
      t.same(got.rows, oracle, `round ${round}, chunk ${chunk}`);
      if (got.rows.length !== oracle.length) break;
    }
  }
});

t.test('the dirty sample: Windows-1252 detected, quoted newlines, doubled quotes, line numbers', async (t) => {
  const path = join(sampleDir, 'inst-1-dirty', 'enrolments.csv');
  const got = await readAll(path, 5);
  t.equal(got.header.encoding, 'windows-1252');
  t.equal(got.header.delimiter, ';');
  const oracle = parse(iconv.decode(require_(path), 'win1252'), {
    delimiter: ';',
    relax_column_count: true,
  }) as string[][];
  oracle[0] = oracle[0]!.map((n) => n.trim()); // header names are trimmed (INPUT.md)
  t.same(got.rows, oracle);
  const att = await readAll(join(sampleDir, 'inst-1-dirty', 'attendance.csv'), 1000);
  t.equal(att.header.bom, true);
  t.equal(att.header.encoding, 'utf-8');
  t.equal(att.rows[0]![0], 'Status', 'BOM stripped from the first column name');
});

t.test('physical line numbers count quoted newlines', async (t) => {
  const dir = t.testdir({ 'q.csv': 'a,b\n1,"x\ny"\n2,z\n\n3,w\n' });
  const got = await readAll(join(dir, 'q.csv'), 3);
  t.same(got.lines, [2, 4, 6]);
});

t.test('errors', async (t) => {
  const dir = t.testdir({
    'empty.csv': '',
    'nodelim.csv': 'justonecolumn\nx\n',
    'utf16.csv': Buffer.from([0xff, 0xfe, 0x61, 0x00]),
    'bomcp.csv': Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x2c, 0x62, 0x0a]),
    'junk.csv': 'a,b\n"x"y,1\n',
  });
  const code = async (f: string, enc?: 'windows-1252') =>
    (await readAll(join(dir, f), undefined, enc).catch((e) => e)).code;
  t.equal(await code('empty.csv'), 'SB_ERR_CSV_EMPTY');
  t.equal(await code('nodelim.csv'), 'SB_ERR_CSV_DELIMITER');
  t.equal(await code('utf16.csv'), 'SB_ERR_CSV_ENCODING');
  t.equal(await code('bomcp.csv', 'windows-1252'), 'SB_ERR_CSV_ENCODING');
  t.equal(await code('junk.csv'), 'SB_ERR_CSV_QUOTE');
  t.equal(await code('missing.csv'), 'SB_ERR_FILE_NOT_FOUND');
});

import { readFileSync } from 'node:fs';
function require_(p: string): Buffer {
  return readFileSync(p);
}
