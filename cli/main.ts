import { Command, CommanderError } from 'commander';
import { isSbError } from '../shared/errors/sb-error.js';
import { registerNodeCommands } from '../node/cli.js';
import { registerCoordinatorCommands } from '../coordinator/cli.js';
import { registerSynthCommand } from '../synth/cli.js';
import { registerKeyholderCommands } from '../keyholder/cli.js';
import { registerDemoCommand } from '../demo/cli.js';

/**
 * The `sectorbench` CLI: one subcommand group per role (`node`, `coordinator`, `keyholder`),
 * plus `synth` (synthetic institutions) and `demo` (a full round on this machine).
 */
export function buildProgram(): Command {
  const program = new Command('sectorbench')
    .description('Privacy-preserving federated benchmarking of verzuim and uitval in mbo')
    .showHelpAfterError()
    .exitOverride();
  registerNodeCommands(program);
  registerCoordinatorCommands(program);
  registerSynthCommand(program);
  registerKeyholderCommands(program);
  registerDemoCommand(program);
  return program;
}

/** Run the CLI; resolves to the process exit code. Errors print their code and what to do. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (isSbError(e)) {
      process.stderr.write(`error ${e.code}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
