// Development entry point: `node --import tsx cli/run.ts …` runs the CLI from source.
import { run } from './main.js';

process.exitCode = await run(process.argv);
