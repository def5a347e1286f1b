import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root (holds package.json). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The spec folder beside the checkout (`../shared`), as CI and developers have it. */
export const specDir = resolve(repoRoot, '../shared');
export const sampleDir = resolve(specDir, 'sample');

if (!existsSync(sampleDir)) {
  throw new Error(`conformance sample not found at ${sampleDir}; the spec folder must sit beside the checkout`);
}
