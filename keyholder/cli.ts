import type { Command } from 'commander';
import { registerCustodyCommands } from './cli/custody-commands.js';
import { registerEnrolmentCommands } from './cli/enrolment-commands.js';
import { registerKeyHolderRoundCommands } from './cli/round-commands.js';
import { registerKeyHolderOpsCommands } from './ops/commands.js';

/**
 * `sectorbench keyholder …`: what the independent key holder runs. One module per command group
 * under cli/ (custody, enrolment, round); the order here is the order of `--help`.
 */
export function registerKeyholderCommands(program: Command): void {
  const kh = program
    .command('keyholder')
    .description(
      'the independent key holder: round keys, endorsements, decryption of the sector sum and signed releases',
    );
  registerCustodyCommands(kh);
  registerEnrolmentCommands(kh);
  registerKeyHolderRoundCommands(kh);
  registerKeyHolderOpsCommands(kh);
}
