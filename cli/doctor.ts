import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { SbError } from '../shared/errors/sb-error.js';
import { doctorExitCode, renderDoctorReport, type DoctorReport } from '../shared/ops/report.js';

/** Which role a home belongs to, from the configuration file it holds. */
export function roleOfHome(home: string): DoctorReport['role'] {
  const found = (
    [
      ['node', 'node.json'],
      ['coordinator', 'coordinator.json'],
      ['keyholder', 'keyholder.json'],
    ] as const
  ).filter(([, f]) => existsSync(join(home, f)));
  const only = found.length === 1 ? found[0] : undefined;
  if (!only)
    throw new SbError(
      'SB_ERR_USAGE',
      found.length
        ? `${home} holds the configuration of more than one role (${found.map(([, f]) => f).join(', ')});` +
            ` run 'sectorbench node|coordinator|keyholder doctor --home ${home}'.`
        : `${home} holds no node.json, coordinator.json or keyholder.json; check --home, or run 'sectorbench node|coordinator|keyholder doctor --home DIR'.`,
      { home },
    );
  return only[0];
}

/**
 * `sectorbench doctor --home DIR`: the doctor of whichever role the home belongs to (the same as
 * `sectorbench <role> doctor`); exit 0 OK, 1 WARN, 2 FAIL.
 */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check a home of any role (node, coordinator, key holder); exit 0 OK, 1 WARN, 2 FAIL')
    .requiredOption('--home <dir>', 'the home folder')
    .option('--json', 'print the report as JSON')
    .action(async (o: { home: string; json?: boolean }) => {
      const role = roleOfHome(o.home);
      const report =
        role === 'node'
          ? await (await import('../node/ops/doctor.js')).nodeDoctor({ home: o.home })
          : role === 'coordinator'
            ? await (await import('../coordinator/ops/doctor.js')).coordinatorDoctor({ home: o.home })
            : await (await import('../keyholder/ops/doctor.js')).keyHolderDoctor({ home: o.home });
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctorReport(report));
      const code = doctorExitCode(report.verdict);
      if (code !== 0) throw new CommanderError(code, 'sectorbench.doctor', '');
    });
}
