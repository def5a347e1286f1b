import { CommanderError, type Command } from 'commander';
import { type DoctorReport, doctorExitCode, renderDoctorReport } from './report.js';
import { backupDatabase, type OpenSqlite, restoreDatabase } from './sqlite-file.js';

/** What a role gives {@link registerOpsCommands}. */
export interface OpsRole {
  role: DoctorReport['role'];
  /** The role's doctor. */
  doctor(home: string): Promise<DoctorReport>;
  /** The role's database file in a home. */
  databaseFile(home: string): string;
  /** Opens the role's database files without migrating (better-sqlite3). */
  open: OpenSqlite;
  /** The schema version this code knows. */
  known: number;
  /** How an operator stops what holds the database, for the restore's refusal. */
  stopHint: string;
}

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}

/**
 * `doctor`, `backup` and `restore` under a role's command (`sectorbench node|coordinator|keyholder …`),
 * the same for every role (docs/OPERATIONS.md). `doctor` exits 0 (OK), 1 (WARN) or 2 (FAIL)
 * after its report: a CommanderError carries the status through the CLI's one error path
 * (cli/main.ts) without printing anything more.
 */
export function registerOpsCommands(parent: Command, r: OpsRole): void {
  parent
    .command('doctor')
    .description(
      'check this home: versions, configuration, keys and their permissions, database integrity, disk space; exit 0 OK, 1 WARN, 2 FAIL',
    )
    .requiredOption('--home <dir>', `the ${r.role}'s home folder`)
    .option('--json', 'print the report as JSON')
    .action(async (o: { home: string; json?: boolean }) => {
      const report = await r.doctor(o.home);
      out(o.json ? JSON.stringify(report, null, 2) : renderDoctorReport(report));
      const code = doctorExitCode(report.verdict);
      if (code !== 0) throw new CommanderError(code, 'sectorbench.doctor', '');
    });
  parent
    .command('backup')
    .description(
      `online backup of the ${r.role}'s database (SQLite backup API; safe while the service runs), checked with integrity_check`,
    )
    .requiredOption('--home <dir>', `the ${r.role}'s home folder`)
    .requiredOption('--out <file>', 'the backup file to write (must not exist; written 0600)')
    .action(async (o: { home: string; out: string }) => {
      const b = await backupDatabase({ live: r.databaseFile(o.home), out: o.out, open: r.open, known: r.known });
      out(
        `Backed up ${r.databaseFile(o.home)} to ${b.file} (${b.bytes.toLocaleString('en-GB')} bytes,` +
          ` schema version ${b.version}, integrity_check ok).` +
          `${r.role === 'node' ? '\nThe backup holds student-level data: keep it on-prem, readable by this user only.' : ''}`,
      );
    });
  parent
    .command('restore')
    .description(
      `restore the ${r.role}'s database from a backup (refused while it is in use; the replaced database is kept beside it)`,
    )
    .requiredOption('--home <dir>', `the ${r.role}'s home folder`)
    .requiredOption('--from <file>', 'the backup file (from the backup command)')
    .action((o: { home: string; from: string }) => {
      const res = restoreDatabase({
        live: r.databaseFile(o.home),
        from: o.from,
        open: r.open,
        known: r.known,
        stopHint: r.stopHint,
      });
      out(
        `Restored ${res.file} from ${o.from} (schema version ${res.version}` +
          `${res.version < r.known ? `, migrated to ${r.known} when next opened` : ''}).` +
          `${res.keptAs ? `\nThe database it replaced is kept as ${res.keptAs}.` : ''}\nRun ` +
          `'sectorbench ${r.role} doctor --home ${o.home}' to check, then start the service again.`,
      );
    });
}
