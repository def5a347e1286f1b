import { Command, CommanderError } from 'commander';
import { registerNodeCommands } from '../node/cli.js';
import { registerCoordinatorCommands } from '../coordinator/cli.js';
import { registerSynthCommand } from '../synth/cli.js';
import { registerKeyholderCommands } from '../keyholder/cli.js';
import { registerDemoCommand } from '../demo/cli.js';
import { registerDoctorCommand } from './doctor.js';
import { renderError, toSbError } from './error-report.js';

/** Where the CLI writes its errors (a seam for in-process tests). */
export interface CliIo {
  stderr: (text: string) => void;
}

const processIo: CliIo = { stderr: (text) => process.stderr.write(text) };

/**
 * The `sectorbench` CLI: one subcommand group per role (`node`, `coordinator`, `keyholder`),
 * plus `synth` (synthetic institutions) and `demo` (a full round on this machine). Commander's
 * own argument errors are reported as `SB_ERR_USAGE` with the command's usage after them.
 */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('sectorbench')
    .description('Privacy-preserving federated benchmarking of verzuim and uitval in mbo')
    .option('--debug', 'on an error, also print its stack trace (for maintainers)')
    .showHelpAfterError('(run the command with --help for its options)')
    .configureOutput({
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(`error SB_ERR_USAGE: ${text.replace(/^error: /, '')}`),
    })
    .exitOverride();
  registerNodeCommands(program);
  registerCoordinatorCommands(program);
  registerSynthCommand(program);
  registerKeyholderCommands(program);
  registerDemoCommand(program);
  registerDoctorCommand(program);
  return program;
}

/**
 * Run the CLI; resolves to the process exit code (0 ok, 1 for every error, usage included).
 * Every failure ends here as one coded line (`error SB_ERR_…: … what to do`), never a stack
 * trace unless `--debug` (issue 13).
 */
export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const debug = argv.includes('--debug');
  const program = buildProgram(io);
  // A command may set its own exit status (`node round`: 4 when this node was dropped; `round
  // advance`: 3 when the round failed closed). Cleared first so that one in-process run does not
  // leak its status into the next.
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    const own = process.exitCode;
    process.exitCode = undefined;
    return typeof own === 'number' ? own : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    io.stderr(renderError(toSbError(e), debug));
    return 1;
  }
}
