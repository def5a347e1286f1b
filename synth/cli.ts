import type { Command } from 'commander';

/** `sectorbench synth`: synthetic institutions in the INPUT.md layout (see synth/README.md). */
export function registerSynthCommand(program: Command): void {
  program
    .command('synth')
    .description('write a codebook and K synthetic institutions in the INPUT.md format')
    .requiredOption('--out <dir>', 'output folder')
    .option('--institutions <k>', 'number of institutions', '3')
    .option('--students <n>', 'students per institution', '500')
    .option('--seed <s>', 'random seed', '1')
    .option('--year <S>', 'studiejaar S (S-(S+1))', '2024')
    .option('--crebos <n>', 'codebook size (programmes)', '120')
    .option(
      '--drift <seed>',
      "year-to-year drift: same codebook and institutions, this studiejaar's own students, absence and dropout drift (synth/README.md)",
    )
    .option('--messy', 'write SIS-export shapes (semicolons, Windows-1252, DD-MM-YYYY, CRLF, extra columns)')
    .action(async (opts: Record<string, string | boolean>) => {
      const { runSynth } = await import('./run-synth.js');
      await runSynth(opts);
    });
}
