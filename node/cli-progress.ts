import cliProgress from 'cli-progress';
import type { ImportProgress } from './import/import-dataset.js';

/**
 * Import progress on stderr: a bar on a terminal, plain lines elsewhere (logs, CI). Counts rows
 * and phases only, never row contents.
 */
export function importProgressReporter(stream: NodeJS.WriteStream = process.stderr): {
  update: (p: ImportProgress) => void;
  stop: () => void;
} {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: '{phase} [{bar}] {percentage}% | {rows} rijen', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    let phase = '';
    return {
      update: (p) => {
        if (p.phase !== phase) {
          if (phase) bar.stop();
          phase = p.phase;
          bar.start(p.totalBytes ?? 1, 0, { phase: p.phase.padEnd(10), rows: 0 });
        }
        bar.update(p.bytes ?? 0, { rows: p.rows.toLocaleString('nl-NL') });
      },
      stop: () => bar.stop(),
    };
  }
  let last = '';
  return {
    update: (p) => {
      const pct = p.totalBytes ? ` (${Math.round((100 * (p.bytes ?? 0)) / p.totalBytes)}%)` : '';
      const line = `${p.phase}: ${p.rows.toLocaleString('en-GB')} rows${pct}`;
      if (line !== last) stream.write(`${line}\n`);
      last = line;
    },
    stop: () => {},
  };
}
