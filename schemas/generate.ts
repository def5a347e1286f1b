/** Writes `schemas/json/*.schema.json` from the zod schemas: `npm run schemas`. */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderJsonSchemas } from './json-schemas.js';

const dir = fileURLToPath(new URL('./json/', import.meta.url));
await mkdir(dir, { recursive: true });
for (const [file, text] of Object.entries(renderJsonSchemas())) {
  await writeFile(dir + file, text);
  console.log(`wrote schemas/json/${file}`);
}
