import { resolve } from 'node:path';
import type { Command } from 'commander';
import { registerOpsCommands } from '../../shared/ops/commands.js';
import { nodeDbFile, nodeSchemaVersion, openNodeFile } from '../store/node-db.js';

/** `sectorbench node doctor | backup | restore` (docs/OPERATIONS.md). */
export function registerNodeOpsCommands(node: Command): void {
  registerOpsCommands(node, {
    role: 'node',
    doctor: async (home) => (await import('../ops/doctor.js')).nodeDoctor({ home }),
    databaseFile: (home) => nodeDbFile(resolve(home)),
    open: openNodeFile,
    known: nodeSchemaVersion(),
    stopHint: 'wait for the running sectorbench node command (a round or an import) to end, or stop its timer',
  });
}
