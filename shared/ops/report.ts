/**
 * What `sectorbench doctor` reports: one line per check, each OK, WARN or FAIL, and a verdict.
 * The report names files, versions, counts and times only, never a value from a dataset.
 */

/** Outcome of one check: OK (nothing to do), WARN (works, but look at it), FAIL (will not work, or unsafe). */
export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

/** One check of a doctor run. */
export interface Check {
  /** Short name, e.g. `versions`, `config`, `keys`, `database`, `disk`, `clock`. */
  name: string;
  status: CheckStatus;
  /** What was found and, for WARN and FAIL, what to do. One or more sentences. */
  detail: string;
}

/** The whole doctor report of one home. */
export interface DoctorReport {
  role: 'node' | 'coordinator' | 'keyholder';
  home: string;
  checks: Check[];
  verdict: CheckStatus;
}

const RANK: Record<CheckStatus, number> = { OK: 0, WARN: 1, FAIL: 2 };

/** The worst status among the checks (OK when there are none). */
export function verdictOf(checks: readonly Check[]): CheckStatus {
  let v: CheckStatus = 'OK';
  for (const c of checks) if (RANK[c.status] > RANK[v]) v = c.status;
  return v;
}

/** Build a report from its checks. */
export function doctorReport(role: DoctorReport['role'], home: string, checks: Check[]): DoctorReport {
  return { role, home, checks, verdict: verdictOf(checks) };
}

/**
 * Exit status of `doctor`, as monitoring plugins use it (Nagios/Icinga convention): 0 OK,
 * 1 WARN, 2 FAIL. (Any error that stops the doctor itself is exit 1 with an `SB_ERR_…` line,
 * like every other command.)
 */
export function doctorExitCode(verdict: CheckStatus): number {
  return RANK[verdict];
}

/** The report as text for an operator: one aligned line per check, then the verdict. */
export function renderDoctorReport(r: DoctorReport): string {
  const width = Math.max(8, ...r.checks.map((c) => c.name.length));
  const lines = [`sectorbench doctor: ${r.role} at ${r.home}`];
  for (const c of r.checks) lines.push(`  ${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
  const fails = r.checks.filter((c) => c.status === 'FAIL').length;
  const warns = r.checks.filter((c) => c.status === 'WARN').length;
  lines.push(
    r.verdict === 'OK'
      ? `Verdict: OK: all ${r.checks.length} checks passed.`
      : `Verdict: ${r.verdict}: ${fails} failed, ${warns} warning(s) of ${r.checks.length} checks; fix the FAIL lines first.`,
  );
  return `${lines.join('\n')}\n`;
}
