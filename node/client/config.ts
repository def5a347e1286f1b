import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeConfigSchema, type NodeConfig } from '../../schemas/config.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { formatZodIssues } from '../../shared/errors/zod-issues.js';

export type { NodeConfig };

export const CONFIG_FILE = 'node.json';

/** Read and validate `<home>/node.json`, or say how to create it. */
export function readNodeConfig(home: string): NodeConfig {
  const path = join(home, CONFIG_FILE);
  if (!existsSync(path)) {
    throw new SbError(
      'SB_ERR_NODE_NOT_INITIALISED',
      `${home} has no ${CONFIG_FILE}. Run \`sectorbench node init --home ${home} --institution ID ` +
        '--coordinator URL --coordinator-key FILE --key-holder-key FILE` first.',
      { home },
    );
  }
  const r = NodeConfigSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.success) {
    throw new SbError(
      'SB_ERR_CONFIG_INVALID',
      `${path} is not a valid node configuration: ${formatZodIssues(r.error.issues)}`,
      { path },
    );
  }
  return r.data;
}

/** Write `<home>/node.json` atomically (temp file + rename), so a crash never leaves half a config. */
export async function writeNodeConfig(home: string, config: NodeConfig): Promise<void> {
  const path = join(home, CONFIG_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(NodeConfigSchema.parse(config), null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

/** The identity key file of a node (absolute, or relative to its home). */
export function identityPath(home: string, config: NodeConfig): string {
  return config.identity_key_file.startsWith('/') ? config.identity_key_file : join(home, config.identity_key_file);
}
