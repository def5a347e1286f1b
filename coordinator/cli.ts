import type { Command } from 'commander';
import { registerInstitutionCommands } from './cli/institution-commands.js';
import { registerCoordinatorRoundCommands } from './cli/round-commands.js';
import { registerServeCommands } from './cli/serve-commands.js';
import { registerSetupCommands } from './cli/setup-commands.js';
import { registerCoordinatorOpsCommands } from './ops/commands.js';

/**
 * `sectorbench coordinator …`: what the coalition runs: init, pin the key holder, the
 * institution registry, rounds (open, status, close, publish), carried files of air-gapped nodes
 * and the HTTP server. One module per command group under `cli/`, one function per command; each
 * loads its implementation lazily so `--help` stays fast. The order here is the order of `--help`.
 * @see ../../shared/spec/ARCHITECTURE.md "The round"
 */
export function registerCoordinatorCommands(program: Command): void {
  const c = program
    .command('coordinator')
    .description('the coordinator: institution registry, rounds, encrypted contributions and published benchmarks');
  registerSetupCommands(c);
  registerInstitutionCommands(c);
  registerCoordinatorRoundCommands(c);
  registerServeCommands(c);
  registerCoordinatorOpsCommands(c);
}
