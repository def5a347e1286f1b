import { join } from 'node:path';
import { runDemo, type DemoResult } from '../../demo/run-demo.js';

/** The three studiejaren of the trend tests. */
export const TREND_YEARS = [2022, 2023, 2024] as const;

/**
 * `npm start -- --years 2022,2023,2024` in small: three masked rounds on one coordinator, on
 * generated data with year-to-year drift (3 institutions of about 100 students, seed 'trend').
 */
export async function runTrendDemo(dir: string): Promise<DemoResult> {
  return runDemo({
    out: join(dir, 'out'),
    institutions: 3,
    students: 100,
    seed: 'trend',
    year: 2024,
    years: [...TREND_YEARS],
    log: () => {},
  });
}
