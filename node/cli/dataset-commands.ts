import { type Command, Option } from 'commander';
import { importProgressReporter } from '../cli-progress.js';
import type { importDataset } from '../import/import-dataset.js';
import { vectorToCsv } from '../vector/vector-csv.js';
import { intOption, writeOutput, yearOption } from './options.js';

/** `sectorbench node import | vector | quality`: the institution's dataset and what it yields. */
export function registerDatasetCommands(node: Command): void {
  registerImport(node);
  registerVector(node);
  registerQuality(node);
}

function registerImport(node: Command): void {
  node
    .command('import')
    .description('import enrolments and attendance exports into the node database (all or nothing)')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--enrolments <file>', 'enrolments export (INPUT.md)')
    .requiredOption('--attendance <file>', 'attendance export (INPUT.md)')
    .option('--mapping <file>', 'mapping file for SIS column names and codes (see node/mappings/)')
    .option('--max-errors <n>', 'skip up to N bad rows instead of refusing the import', '0')
    .addOption(
      new Option('--encoding <enc>', 'encoding of the files')
        .choices(['auto', 'utf-8', 'windows-1252'])
        .default('auto'),
    )
    .option('--codebook <file>', 'check niveaus against this codebook while importing')
    .addOption(
      new Option(
        '--multiline-quotes <how>',
        'a quoted field over several lines that look like records: ' +
          'refuse the import, or warn and read it as one value',
      )
        .choices(['refuse', 'warn'])
        .default('refuse'),
    )
    .action(
      async (o: {
        home: string;
        enrolments: string;
        attendance: string;
        mapping?: string;
        maxErrors: string;
        encoding: 'auto' | 'utf-8' | 'windows-1252';
        codebook?: string;
        multilineQuotes: 'refuse' | 'warn';
      }) => {
        const { importDataset } = await import('../import/import-dataset.js');
        const progress = importProgressReporter();
        try {
          const r = await importDataset({
            home: o.home,
            enrolments: o.enrolments,
            attendance: o.attendance,
            mapping: o.mapping,
            maxErrors: intOption('--max-errors', o.maxErrors),
            encoding: o.encoding,
            codebook: o.codebook,
            multilineQuotes: o.multilineQuotes,
            onProgress: progress.update,
          });
          progress.stop();
          process.stdout.write(importedText(o.home, r));
        } finally {
          progress.stop();
        }
      },
    );
}

/** What `node import` prints: counts, encodings, skipped rows and warnings (never a row's content). */
function importedText(home: string, r: Awaited<ReturnType<typeof importDataset>>): string {
  const delimiter = r.enrolments.delimiter === '\t' ? 'tab' : r.enrolments.delimiter;
  const skipped = r.rowsSkipped
    ? `${r.rowsSkipped} bad row(s) skipped under --max-errors (${r.problemsTotal} problem(s)); ` +
      `${r.observationsDropped} observation(s) dropped with skipped enrolments. ` +
      'They are recorded with the dataset and shown in the quality report.\n'
    : '';
  return (
    `Imported ${r.enrolments.imported} enrolments (${r.enrolments.encoding}, '${delimiter}') ` +
    `and ${r.attendance.records - r.observationsDropped} observations (${r.attendance.encoding}) ` +
    `into ${home} in ${(r.durationMs / 1000).toFixed(1)} s; stored as ${r.attendance.weeks} weekly sums.\n` +
    skipped +
    r.warnings.map((w) => `warning: ${w.file}:${w.line}: ${w.message}\n`).join('')
  );
}

function registerVector(node: Command): void {
  node
    .command('vector')
    .description('compute the METRICS.md contribution vector of the imported dataset')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--codebook <file>', "the round's codebook")
    .requiredOption('--year <S>', 'studiejaar S (2024 for 2024-2025)')
    .addOption(new Option('--format <f>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; codebook: string; year: string; format: 'json' | 'csv'; out?: string }) => {
      const { computeNodeVector } = await import('../vector/node-vector.js');
      const r = await computeNodeVector({ home: o.home, codebook: o.codebook, year: yearOption(o.year) });
      writeOutput(o.out, o.format === 'json' ? `${JSON.stringify(r.json, null, 2)}\n` : vectorToCsv(r.json));
    });
}

function registerQuality(node: Command): void {
  node
    .command('quality')
    .description('the data-quality report a data team reads before anything is sent')
    .requiredOption('--home <dir>', "the node's home folder")
    .requiredOption('--codebook <file>', "the round's codebook")
    .requiredOption('--year <S>', 'studiejaar S (2024 for 2024-2025)')
    .addOption(new Option('--format <f>', 'output format').choices(['text', 'json']).default('text'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { home: string; codebook: string; year: string; format: 'text' | 'json'; out?: string }) => {
      const { qualityReport, renderQualityText } = await import('../quality/quality-report.js');
      const r = await qualityReport({ home: o.home, codebook: o.codebook, year: yearOption(o.year) });
      writeOutput(o.out, o.format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : renderQualityText(r));
    });
}
