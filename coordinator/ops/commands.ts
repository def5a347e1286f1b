import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { registerOpsCommands } from '../../shared/ops/commands.js';
import { coordinatorSchemaVersion, DB_FILE, openCoordinatorFile } from '../store/db.js';

/** `sectorbench coordinator doctor | backup | restore` (docs/OPERATIONS.md). */
export function registerCoordinatorOpsCommands(c: Command): void {
  registerOpsCommands(c, {
    role: 'coordinator',
    doctor: async (home) => (await import('./doctor.js')).coordinatorDoctor({ home }),
    databaseFile: (home) => join(resolve(home), DB_FILE),
    open: openCoordinatorFile,
    known: coordinatorSchemaVersion(),
    stopHint: 'systemctl stop sectorbench-coordinator, or end its serve process',
  });
}
