/**
 * The import fuzz as a bench (issue 13): `node --import tsx bench/fuzz/run.ts [--mutants 10000]
 * [--seed fuzz] [--from 0]`. Prints the tally by outcome and error code and every failure;
 * exits 1 when there is any. The suite runs the first 1,000 mutants of the same seed
 * (tests/node/import-fuzz.test.ts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runFuzz } from './run-fuzz.js';

const { values } = parseArgs({
  options: {
    mutants: { type: 'string', default: '10000' },
    seed: { type: 'string', default: 'fuzz' },
    from: { type: 'string', default: '0' },
  },
});
const codebook = new URL('../../../shared/cases/import-baseline/codebook.csv', import.meta.url).pathname;
// tmpfs when there is one: the fuzz opens SQLite thousands of times and fsync is what it waits for.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'sb-fuzz-'));
const count = Number(values.mutants);
const started = performance.now();
try {
  const r = await runFuzz({
    dir,
    count,
    seed: values.seed,
    from: Number(values.from),
    codebook,
    onProgress: (n) => {
      if (n % 250 !== 0 && n !== count) return;
      const s = (performance.now() - started) / 1000;
      const eta = n < count ? `, about ${Math.round(((count - n) * s) / n)} s to go` : '';
      process.stderr.write(`${n} of ${count} mutants in ${s.toFixed(0)} s${eta}\n`);
    },
  });
  const by = (what: string) => r.failures.filter((f) => f.what === what).length;
  process.stdout.write(
    `${r.mutants} mutants (seed '${values.seed}', from ${values.from}) in ${(r.ms / 1000).toFixed(0)} s: ` +
      `${r.accepted} accepted, ${r.refused} refused; ` +
      `${r.referenceRuns} distinct record sets computed by the reference.\n` +
      `crashes ${by('crash')}, partial imports ${by('partial-import')}, ` +
      `refusals without file and line ${by('no-file-line')}, refusals echoing a secret ${by('echo')}, ` +
      `accepted with a vector other than the reference ${by('vector-differs')}\n` +
      `refusals by code:\n${Object.entries(r.codes)
        .sort((a, b) => b[1] - a[1])
        .map(([c, n]) => `  ${c.padEnd(28)} ${n}`)
        .join('\n')}\n` +
      r.failures.map((f) => `FAIL #${f.i} [${f.kind}] ${f.what}: ${f.detail}\n`).join(''),
  );
  process.exitCode = r.failures.length ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
