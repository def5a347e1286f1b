import type { Command } from 'commander';
import { registerAuditCommands } from './cli/audit-commands.js';
import { registerDatasetCommands } from './cli/dataset-commands.js';
import { registerRoundCommands } from './cli/round-commands.js';
import { registerNodeOpsCommands } from './cli/ops-commands.js';

/**
 * `sectorbench node …`: what an institution's data team runs on-prem. One module per command
 * group under `cli/`; each loads its implementation lazily so `--help` stays fast.
 */
export function registerNodeCommands(program: Command): void {
  const node = program
    .command('node')
    .description("an institution's node: import SIS exports, compute, check and send its contribution");
  registerDatasetCommands(node);
  registerRoundCommands(node);
  registerAuditCommands(node);
  registerNodeOpsCommands(node);
}
