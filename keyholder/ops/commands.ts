import type { Command } from 'commander';
import { registerOpsCommands } from '../../shared/ops/commands.js';
import { keyHolderSchemaVersion, openKeyHolderFile } from '../store/keyholder-store.js';
import { keyHolderDbFile } from './doctor.js';

/** `sectorbench keyholder doctor | backup | restore` (docs/OPERATIONS.md). */
export function registerKeyHolderOpsCommands(kh: Command): void {
  registerOpsCommands(kh, {
    role: 'keyholder',
    doctor: async (home) => (await import('./doctor.js')).keyHolderDoctor({ home }),
    databaseFile: keyHolderDbFile,
    open: openKeyHolderFile,
    known: keyHolderSchemaVersion(),
    stopHint: 'wait for the running sectorbench keyholder command to end',
  });
}
