// Issue 15: attendance.csv read in two parts on two threads gives exactly what one sequential
// read gives: the same stored dataset (metadata, enrolments, every weekly row), the same report,
// and for a refused import the same error, problems, lines and message. Differential: every input
// is imported twice, sequentially and split at chosen places, and the outcomes compared whole.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { baseDataset, mutant } from '../../bench/fuzz/csv-mutants.js';
import { type ImportOptions, importDataset } from '../../node/import/import-dataset.js';
import { iterateWeeks, loadDataset } from '../../node/store/dataset-store.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { sampleDir, specDir } from '../helpers/paths.js';

t.setTimeout(1_800_000);

// Homes go to their own folder: t.testdir() would replace a test's folder with the inputs in it.
const homesDir = mkdtempSync(join(tmpdir(), 'sb-import-parallel-'));
t.teardown(() => rmSync(homesDir, { recursive: true, force: true }));

type How = 'split' | 'sequential-after-split' | 'whole' | 'not told';

let homes = 0;

/** Import into a fresh home; the whole observable outcome, and how attendance was read. */
async function outcome(
  dir: string,
  enrolments: string,
  attendance: string,
  opts: Partial<ImportOptions>,
): Promise<{ how: How; value: unknown }> {
  const home = join(dir, `home-${++homes}`);
  const cleanup = () => rmSync(home, { recursive: true, force: true });
  let how: How = 'not told';
  const parallel = {
    ...opts.parallel,
    onRead: (h: How) => {
      how = h;
    },
  };
  try {
    const r = await importDataset({ home, enrolments, attendance, ...opts, parallel });
    const db = openNodeDb(home);
    try {
      const ds = loadDataset(db);
      const { durationMs: _d, ...report } = r;
      const { importedAt: _i, ...meta } = ds?.meta ?? { importedAt: '' };
      return { how, value: { report, meta, enrolments: ds?.enrolments, weeks: [...iterateWeeks(db)] } };
    } finally {
      db.close();
      cleanup();
    }
  } catch (e) {
    cleanup();
    const err = e as { code?: string; message?: string; details?: unknown };
    return { how, value: { error: err.code ?? String(e), message: err.message, details: err.details } };
  }
}

const SEQUENTIAL = { minBytes: Number.POSITIVE_INFINITY };

/** Sequential vs split at each fraction: equal outcomes; returns how each split read went. */
async function compare(
  t: Test,
  name: string,
  enrolments: string,
  attendance: string,
  fractions: number[],
  opts: Partial<ImportOptions> = {},
): Promise<How[]> {
  const dir = homesDir;
  const seq = await outcome(dir, enrolments, attendance, { ...opts, parallel: SEQUENTIAL });
  t.equal(seq.how, (seq.value as { error?: string }).error ? seq.how : 'whole', `${name}: the reference is read whole`);
  const hows: How[] = [];
  for (const fraction of fractions) {
    const par = await outcome(dir, enrolments, attendance, { ...opts, parallel: { minBytes: 0, fraction } });
    t.strictSame(par.value, seq.value, `${name}, split at ${fraction}: same outcome (${par.how})`);
    hows.push(par.how);
  }
  return hows;
}

const INST1 = join(sampleDir, 'inst-1');
const inst1Att = readFileSync(join(INST1, 'attendance.csv'), 'utf8');
const inst1Enr = join(INST1, 'enrolments.csv');

t.test('conformance institution: split anywhere, same dataset, read on two threads', async (t) => {
  const hows = await compare(t, 'inst-1', inst1Enr, join(INST1, 'attendance.csv'), [0.05, 0.5, 0.93]);
  t.strictSame(hows, ['split', 'split', 'split'], 'the second part was read by the worker each time');
  const small = await compare(t, 'inst-1, 4 KiB chunks', inst1Enr, join(INST1, 'attendance.csv'), [0.37], {
    chunkSize: 4099,
  });
  t.strictSame(small, ['split']);
});

t.test('CRLF line ends and a last line without line end', async (t) => {
  const dir = t.testdir({ 'attendance.csv': `${inst1Att.replace(/\n/g, '\r\n').replace(/\r\n$/, '')}` });
  const hows = await compare(t, 'CRLF', inst1Enr, join(dir, 'attendance.csv'), [0.25, 0.75]);
  t.strictSame(hows, ['split', 'split']);
});

/** inst-1 with bad rows scattered over the whole file (bad dates, unknown enrolments, bad status). */
function withBadRows(every: number): string {
  const lines = inst1Att.split('\n');
  for (let i = 1; i < lines.length - 1; i += every) {
    const f = (lines[i] as string).split(',');
    const k = (i / every) % 3;
    if (k === 0) f[1] = '2024-13-01';
    else if (k === 1) f[0] = 'X404';
    else f[3] = 'maybe';
    lines[i] = f.join(',');
  }
  return lines.join('\n');
}

t.test('bad rows in both parts: the same refusal, problems in file order with their own lines', async (t) => {
  const dir = t.testdir({ 'few.csv': withBadRows(20011), 'many.csv': withBadRows(397) });
  const few = await compare(t, '7 bad rows', inst1Enr, join(dir, 'few.csv'), [0.3, 0.6]);
  t.strictSame(few, ['split', 'split']);
  const many = await compare(t, '>100 bad rows (listing cap)', inst1Enr, join(dir, 'many.csv'), [0.5, 0.8]);
  t.strictSame(many, ['split', 'split']);
  const tolerated = await compare(t, 'under --max-errors', inst1Enr, join(dir, 'many.csv'), [0.45], {
    maxErrors: 100_000,
  });
  t.strictSame(tolerated, ['split']);
});

t.test('a duplicate lesson whose first copy is in the other part', async (t) => {
  const lines = inst1Att.replace(/\n$/, '').split('\n');
  lines.splice(lines.length - 3, 0, lines[5] as string, lines[6] as string);
  const dir = t.testdir({ 'attendance.csv': `${lines.join('\n')}\n` });
  const hows = await compare(t, 'duplicates across the split', inst1Enr, join(dir, 'attendance.csv'), [0.5]);
  t.strictSame(hows, ['split']);
});

t.test('a quoted field over two lines at the split: the main thread reads on, same result', async (t) => {
  const lines = inst1Att.split('\n');
  const mid = Math.floor(lines.length / 2);
  const f = (lines[mid] as string).split(',');
  f[3] = '"pres\nent"';
  lines[mid] = f.join(',');
  const text = lines.join('\n');
  const dir = t.testdir({ 'attendance.csv': text });
  // Split exactly at the line feed inside the quotes.
  const inner = text.indexOf('"pres\n') + 5;
  const hows = await compare(t, 'quoted line feed at the split', inst1Enr, join(dir, 'attendance.csv'), [
    inner / Buffer.byteLength(text),
  ]);
  t.strictSame(hows, ['sequential-after-split'], 'the worker result was not used');
});

t.test('CSV errors in the second part: the same error and line as a sequential read', async (t) => {
  const lines = inst1Att.replace(/\n$/, '').split('\n');
  lines.splice(lines.length - 10, 0, '1396004,"2024-08-26,60,present,08:30');
  const dir = t.testdir({
    'unclosed.csv': `${lines.join('\n')}\n`,
    'nul.csv': `${inst1Att.slice(0, inst1Att.length - 200)}\u0000${inst1Att.slice(inst1Att.length - 200)}`,
  });
  await compare(t, 'unclosed quote', inst1Enr, join(dir, 'unclosed.csv'), [0.5]);
  await compare(t, 'NUL byte late in the file', inst1Enr, join(dir, 'nul.csv'), [0.5]);
  const utf8 = Buffer.from(inst1Att);
  const bad = Buffer.concat([utf8.subarray(0, utf8.length - 100), Buffer.from([0xc3, 0x28]), utf8.subarray(-100)]);
  writeFileSync(join(dir, 'bad-utf8.csv'), bad);
  await compare(t, 'invalid UTF-8 late in the file', inst1Enr, join(dir, 'bad-utf8.csv'), [0.5]);
});

t.test('the import cases of the spec folder', async (t) => {
  for (const c of ['import-baseline', 'import-cr-only', 'import-sep-hint', 'import-stray-quote-swallow']) {
    const d = join(specDir, 'cases', c);
    await compare(t, c, join(d, 'enrolments.csv'), join(d, 'attendance.csv'), [0.3, 0.7], {
      codebook: join(d, 'codebook.csv'),
    });
  }
});

t.test('80 seeded CSV mutants (the fuzz of issue 13), split at varying places', async (t) => {
  const base = baseDataset('fuzz');
  const dir = mkdtempSync(join(homesDir, 'fuzz-'));
  const enr = join(dir, 'enrolments.csv');
  const att = join(dir, 'attendance.csv');
  const codebook = join(specDir, 'cases', 'import-baseline', 'codebook.csv');
  const fractions = [0.1, 0.33, 0.5, 0.71, 0.9];
  const tally: Record<string, number> = {};
  let differ = 0;
  for (let i = 0; i < 80; i++) {
    const m = mutant(base, 'fuzz', i);
    writeFileSync(enr, m.enrolments);
    writeFileSync(att, m.attendance);
    const opts = { codebook, chunkSize: [13, 257, 4096, 1 << 20][i % 4] };
    const seq = await outcome(homesDir, enr, att, { ...opts, parallel: SEQUENTIAL });
    const par = await outcome(homesDir, enr, att, { ...opts, parallel: { minBytes: 0, fraction: fractions[i % 5] } });
    tally[par.how] = (tally[par.how] ?? 0) + 1;
    if (JSON.stringify(par.value) !== JSON.stringify(seq.value)) {
      differ++;
      if (differ <= 3) t.strictSame(par.value, seq.value, `mutant ${i} (${m.kind}) differs`);
    }
  }
  t.equal(differ, 0, `80 mutants: none differs (${JSON.stringify(tally)})`);
  t.ok((tally.split ?? 0) >= 25, 'most were read on two threads');
});
