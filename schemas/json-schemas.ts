import { z } from 'zod';
import { SCHEMAS } from './index.js';

/** JSON Schema (draft 2020-12) text of every schema, keyed by file name (`<name>.schema.json`). */
export function renderJsonSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    const js = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >;
    const doc = { $id: `https://sectorbench.invalid/schemas/${name}.schema.json`, title: name, ...js };
    out[`${name}.schema.json`] = `${JSON.stringify(doc, null, 2)}\n`;
  }
  return out;
}
