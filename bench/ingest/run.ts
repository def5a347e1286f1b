/**
 * bench/ingest: one synthetic institution (default 20,000 students, about 15.5 million
 * observations); the node's import + vector (wall time, peak RSS, in a child process) against
 * DuckDB computing the same vector from the same CSV files in the same run, as a ratio.
 *
 *   node --import tsx bench/ingest/run.ts [--students 20000] [--seed 1] [--keep DIR] [--runs 1]
 *
 * @see ../../docs/PERFORMANCE.md "Ingest (bench/ingest)"
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { synthesize } from '../../synth/run-synth.js';
import { duckdbVector } from './duckdb-vector.js';

const { values: a } = parseArgs({
  options: {
    students: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'string' },
    runs: { type: 'string', default: '1' },
  },
});
const students = Number(a.students);
const runs = Math.max(1, Number(a.runs));
const year = 2024;
const work = a.keep ?? mkdtempSync(join(tmpdir(), 'sb-bench-ingest-'));
const repo = fileURLToPath(new URL('../../', import.meta.url));
const log = (s: string): void => void process.stderr.write(`bench:ingest: ${s}\n`);
const sec = (ms: number): string => (ms / 1000).toFixed(1);

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

function runNode(
  home: string,
  files: { codebook: string; enrolments: string; attendance: string },
  out: string,
): Promise<{ importMs: number; vectorMs: number; maxRssKb: number; wallMs: number }> {
  rmSync(home, { recursive: true, force: true });
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repo, 'bench/ingest/node-child.ts'),
        '--home',
        home,
        '--codebook',
        files.codebook,
        '--enrolments',
        files.enrolments,
        '--attendance',
        files.attendance,
        '--year',
        String(year),
        '--out',
        out,
      ],
      { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`node import/vector child exited with ${code}`));
      const last = stdout.trim().split('\n').pop() ?? '{}';
      resolve({
        ...(JSON.parse(last) as { importMs: number; vectorMs: number; maxRssKb: number }),
        wallMs: performance.now() - t0,
      });
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;

try {
  const dataDir = join(work, 'data');
  let synthMs = 0;
  if (!existsSync(join(dataDir, 'inst-1', 'attendance.csv'))) {
    log(`generating one institution of ${students} students in ${dataDir}`);
    [, synthMs] = await timed(() =>
      synthesize({ out: dataDir, institutions: 1, students, seed: a.seed as string, year, progress: true }),
    );
  } else log(`reusing ${dataDir}`);
  const files = {
    codebook: join(dataDir, 'codebook.csv'),
    enrolments: join(dataDir, 'inst-1', 'enrolments.csv'),
    attendance: join(dataDir, 'inst-1', 'attendance.csv'),
  };
  const csvBytes = statSync(files.enrolments).size + statSync(files.attendance).size;

  const duckNo: number[] = [],
    duckDup: number[] = [],
    nodeTot: number[] = [],
    nodeImp: number[] = [],
    nodeVec: number[] = [],
    rss: number[] = [];
  let duckJson = '';
  let equal = true;
  let observations = 0;
  let enrolments = 0;
  for (let r = 0; r < runs; r++) {
    log(`run ${r + 1}/${runs}: DuckDB without the duplicate-lesson check`);
    const [, t1] = await timed(() => duckdbVector({ ...files, year, checkDuplicates: false }));
    duckNo.push(t1);
    log(`run ${r + 1}/${runs}: DuckDB with the duplicate-lesson check`);
    const [dj, t2] = await timed(() => duckdbVector({ ...files, year, checkDuplicates: true }));
    duckDup.push(t2);
    duckJson = JSON.stringify(dj);
    observations = dj.data_quality?.observations ?? 0;
    enrolments = dj.data_quality?.enrolments ?? 0;
    log(`run ${r + 1}/${runs}: node import + vector (child process)`);
    const out = join(work, 'node-vector.json');
    const n = await runNode(join(work, 'home'), files, out);
    nodeImp.push(n.importMs);
    nodeVec.push(n.vectorMs);
    nodeTot.push(n.importMs + n.vectorMs);
    rss.push(n.maxRssKb);
    equal &&= readFileSync(out, 'utf8') === duckJson;
  }

  const cpu = (() => {
    try {
      return (
        execFileSync('lscpu', { encoding: 'utf8' })
          .split('\n')
          .find((l) => l.startsWith('Model name'))
          ?.replace(/^Model name:\s*/, '') ?? cpus()[0]?.model
      );
    } catch {
      return cpus()[0]?.model;
    }
  })();
  const nodeMs = median(nodeTot),
    dupMs = median(duckDup),
    noMs = median(duckNo);
  const rows: [string, string][] = [
    ['machine', `${cpus().length} vCPU, ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`],
    ['students / enrolments / observations', `${students} / ${enrolments} / ${observations}`],
    ['CSV size (enrolments + attendance)', `${(csvBytes / 1e6).toFixed(0)} MB`],
    ...(synthMs ? [['synth (generate the files)', `${sec(synthMs)} s`] as [string, string]] : []),
    ['DuckDB vector, no duplicate check', `${sec(noMs)} s`],
    ['DuckDB vector, with duplicate check', `${sec(dupMs)} s`],
    ['node import', `${sec(median(nodeImp))} s`],
    ['node vector', `${sec(median(nodeVec))} s`],
    ['node import + vector', `${sec(nodeMs)} s`],
    ['ratio node / DuckDB (with duplicate check)', `${(nodeMs / dupMs).toFixed(2)}x (target <= 4x)`],
    ['ratio node / DuckDB (no duplicate check)', `${(nodeMs / noMs).toFixed(2)}x`],
    ['node peak RSS', `${(Math.max(...rss) / 1024).toFixed(0)} MiB (target < 1 GiB)`],
    ['vectors equal', equal ? 'yes' : 'NO'],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(
    `\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k.padEnd(w)} | ${v} |`).join('\n')}\n${runs > 1 ? `(medians of ${runs} runs)\n` : ''}`,
  );
  if (!equal) process.exitCode = 1;
} finally {
  if (!a.keep) rmSync(work, { recursive: true, force: true });
}
