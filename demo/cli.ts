import type { Command } from 'commander';
import { SbError } from '../shared/errors/sb-error.js';

function num(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min)
    throw new SbError('SB_ERR_USAGE', `${name} must be a number >= ${min}, not '${v}'.`);
  return n;
}

/** `sectorbench demo`: the main job, a complete round on this machine. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run a complete federated round on this machine (generated data, key holder, coordinator on loopback, nodes over HTTP)',
    )
    .option('--out <dir>', 'output folder', 'out')
    .option('--institutions <k>', 'number of synthetic institutions', '10')
    .option('--students <n>', 'students of the first institution (the others 0.6x-1.4x)', '3000')
    .option('--seed <s>', 'random seed of the generated data', '1')
    .option('--year <S>', 'studiejaar S', '2024')
    .option(
      '--years <S,S,...>',
      'several studiejaren (e.g. 2022,2023,2024): one round each on the same coordinator, data with year-to-year drift; the site and comparisons show series',
    )
    .option('--data <dir>', 'use institutions in the layout of ../shared/sample instead of generated data')
    .option('--messy', 'generate SIS-shaped exports (Windows-1252, ;, DD-MM-YYYY)')
    .option('--drop <k>', 'secure aggregation: k institutions drop out after sharing their keys (recovery)', '0')
    .option(
      '--unmasked',
      'run the round without secure aggregation (the key holder with k custodians could then decrypt one institution)',
    )
    .option('--min-institutions <n>', 'threshold: institutions behind a published block')
    .option('--min-population <n>', 'threshold: enrolments or starters behind a published block')
    .option('--dominance-share <x>', 'threshold: largest institution share that suppresses a block')
    .option('--min-institutions-distribution <n>', 'threshold: institutions in a published distribution')
    .action(async (o: Record<string, string | undefined>) => {
      const { runDemo } = await import('./run-demo.js');
      const thresholds: Record<string, number> = {};
      for (const [flag, key, min] of [
        ['minInstitutions', 'min_institutions', 2],
        ['minPopulation', 'min_population', 1],
        ['dominanceShare', 'dominance_share', 0],
        ['minInstitutionsDistribution', 'min_institutions_distribution', 2],
      ] as const) {
        const v = num(`--${key.replace(/_/g, '-')}`, o[flag], min);
        if (v !== undefined) thresholds[key] = v;
      }
      const r = await runDemo({
        out: o.out ?? 'out',
        institutions: num('--institutions', o.institutions, 1) ?? 10,
        students: num('--students', o.students, 20) ?? 3000,
        seed: o.seed ?? '1',
        year: num('--year', o.year, 1990) ?? 2024,
        ...(o.years !== undefined
          ? { years: o.years.split(',').map((y) => num('--years', y.trim(), 1990) as number) }
          : {}),
        data: o.data,
        messy: Boolean(o.messy),
        thresholds,
        drop: num('--drop', o.drop, 0) ?? 0,
        unmasked: Boolean(o.unmasked),
      });
      process.stdout.write(r.summary);
    });
}
