#!/usr/bin/env node
// Entry point of the `sectorbench` CLI. Runs the compiled code in dist/ when `npm run build`
// made it; otherwise (right after `npm ci`) it runs the TypeScript sources through tsx, a
// devDependency, so `npx sectorbench` works in a fresh checkout (issue 13). Without dist/ and
// without tsx (an install with --omit=dev) it says how to build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let main = compiled;
if (!existsSync(fileURLToPath(compiled))) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      'error SB_ERR_NOT_BUILT: sectorbench is not built and tsx (a devDependency) is not installed: ' +
        'run `npm run build` in the checkout, or `npm ci` with dev dependencies.\n',
    );
    process.exit(1);
  }
  register();
  main = new URL('../cli/main.ts', import.meta.url);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv);
