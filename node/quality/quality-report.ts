import { getAt, itemAt } from '../../shared/arrays/checked-index.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { isoDate, roundCalendar } from '../../shared/metrics/calendar.js';
import { iterateWeeks } from '../store/dataset-store.js';
import { inReadTransaction, nodeDbError, openNodeDb } from '../store/node-db.js';
import { requireDataset } from '../vector/node-vector.js';
import { codebookMembership, type EnrolmentSums, sumEnrolments } from '../vector/analyse.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import type { RoundCalendar } from '../../shared/metrics/calendar.js';
import type { EnrolmentTable } from '../import/enrolment-table.js';
import type { StoredDataset } from '../store/dataset-store.js';

export interface CellQuality {
  cell: string;
  enrolments: number;
  planned_minutes: number;
  registered_minutes: number;
  unregistered_minutes: number;
  /** registered / planned, in per mille (integer, floor) */
  coverage_permille: number | null;
  observations_outside_enrolment: number;
}

/**
 * What a data team reads before anything is sent (issue 2, "Quality report"). Counts and cell
 * keys only; the single row-level references are line numbers into the institution's own export.
 */
export interface QualityReport {
  studiejaar: string;
  dataset: {
    imported_at: string;
    enrolments_file: string;
    enrolments_sha256: string;
    enrolments_records: number;
    attendance_file: string;
    attendance_sha256: string;
    attendance_records: number;
    rows_skipped: number;
    observations_dropped_with_skipped_enrolments: number;
    problems_total: number;
  };
  overall: Omit<CellQuality, 'cell'> & { observations_in_year: number };
  cells: CellQuality[];
  unknown_crebos: { crebo: string; enrolments_active_in_year: number; enrolments_total: number }[];
  niveau_mismatches: { line: number; crebo: string; niveau: number; codebook_niveau: number }[];
  students_with_conflicting_birth_dates: number;
  enrolments_without_observations_in_year: number;
  warnings: string[];
}

const permille = (num: number, den: number): number | null => (den > 0 ? Math.floor((1000 * num) / den) : null);

/** Build the quality report for the node's dataset, a codebook and a studiejaar. */
export async function qualityReport(opts: { home: string; codebook: string; year: number }): Promise<QualityReport> {
  const codebook = await readCodebookFile(opts.codebook);
  const cal = roundCalendar(opts.year);
  const db = openNodeDb(opts.home, { mode: 'existing' });
  try {
    // Metadata, enrolments and weekly sums from one snapshot (one read transaction).
    const { meta, t, s } = inReadTransaction(db, () => {
      const { meta, enrolments: t } = requireDataset(db, opts.home);
      return { meta, t, s: sumEnrolments(t.enrolmentId.length, iterateWeeks(db), cal) };
    });
    const membership = codebookMembership(t, codebook);
    const { mismatches } = membership;
    const { cells, overall, unknown, withoutObs } = tally(t, s, cal, codebook, membership);
    const warnings = qualityWarnings(meta, cal, mismatches.length);
    return {
      studiejaar: cal.label,
      dataset: {
        imported_at: meta.importedAt,
        enrolments_file: meta.enrolmentsFile,
        enrolments_sha256: meta.enrolmentsSha256,
        enrolments_records: meta.enrolmentsRecords,
        attendance_file: meta.attendanceFile,
        attendance_sha256: meta.attendanceSha256,
        attendance_records: meta.attendanceRecords,
        rows_skipped: meta.rowsSkipped,
        observations_dropped_with_skipped_enrolments: meta.observationsDropped,
        problems_total: meta.problemsTotal,
      },
      overall,
      cells: [...cells.entries()].sort((a, b) => a[0] - b[0]).map(([, q]) => q),
      unknown_crebos: [...unknown.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([crebo, u]) => ({ crebo, enrolments_active_in_year: u.active, enrolments_total: u.total })),
      niveau_mismatches: mismatches.map((i) => niveauMismatch(t, codebook, i)),
      students_with_conflicting_birth_dates: conflictingBirthDates(t),
      enrolments_without_observations_in_year: withoutObs,
      warnings,
    };
  } catch (e) {
    throw nodeDbError(e, `${opts.home}/node.sqlite`);
  } finally {
    db.close();
  }
}

/**
 * Enrolment `i`, whose niveau differs from its crebo's in the codebook: where it is in the export
 * and both niveaus. `i` comes from `codebookMembership`, which lists only crebos in the codebook.
 *
 * @throws RangeError when `i` is outside the table or its crebo is not in the codebook (a programming error).
 */
function niveauMismatch(t: EnrolmentTable, codebook: Codebook, i: number) {
  const crebo = itemAt(t.crebo, i);
  const entry = codebook.byCrebo.get(crebo);
  if (!entry) throw new RangeError(`enrolment ${i}: crebo is not in the codebook`);
  return { line: itemAt(t.line, i), crebo, niveau: itemAt(t.niveau, i), codebook_niveau: entry.niveau };
}

/** Whether enrolment `i` overlaps the studiejaar: it starts before the year ends and has not ended before it starts. */
function activeInYear(t: EnrolmentTable, i: number, cal: RoundCalendar): boolean {
  const end = itemAt(t.endDate, i);
  return itemAt(t.startDate, i) <= cal.end && (end === null || end >= cal.start);
}

/**
 * Per cell and overall: enrolments counted, planned, registered and unregistered minutes, and
 * observations outside enrolment; enrolments with crebos outside the codebook per crebo (active
 * in the year, total); enrolments in the codebook, active in the year, without observations.
 */
function tally(
  t: EnrolmentTable,
  s: EnrolmentSums,
  cal: RoundCalendar,
  codebook: Codebook,
  { inCodebook, cell }: ReturnType<typeof codebookMembership>,
) {
  const n = t.enrolmentId.length;
  const cells = new Map<number, CellQuality>();
  const overall: Omit<CellQuality, 'cell'> & { observations_in_year: number } = {
    enrolments: 0,
    planned_minutes: 0,
    registered_minutes: 0,
    unregistered_minutes: 0,
    coverage_permille: null,
    observations_outside_enrolment: 0,
    observations_in_year: 0,
  };
  let withoutObs = 0;
  const unknown = new Map<string, { active: number; total: number }>();
  for (let i = 0; i < n; i++) {
    overall.observations_in_year += getAt(s.nInYear, i);
    overall.observations_outside_enrolment += getAt(s.nOutside, i);
    if (!inCodebook[i]) {
      const crebo = itemAt(t.crebo, i);
      const u = unknown.get(crebo) ?? { active: 0, total: 0 };
      u.total++;
      if (activeInYear(t, i, cal)) u.active++;
      unknown.set(crebo, u);
      continue;
    }
    const c = getAt(cell, i);
    if (c < 0) continue;
    const q = cells.get(c) ?? {
      cell: itemAt(codebook.cellKeys, c),
      enrolments: 0,
      planned_minutes: 0,
      registered_minutes: 0,
      unregistered_minutes: 0,
      coverage_permille: null,
      observations_outside_enrolment: 0,
    };
    q.observations_outside_enrolment += getAt(s.nOutside, i);
    if (getAt(s.nCounted, i) > 0) {
      q.enrolments++;
      q.planned_minutes += getAt(s.planned, i);
      q.registered_minutes += getAt(s.registered, i);
      q.unregistered_minutes += getAt(s.unregistered, i);
    } else if (activeInYear(t, i, cal)) withoutObs++;
    cells.set(c, q);
  }
  for (const q of cells.values()) {
    q.coverage_permille = permille(q.registered_minutes, q.planned_minutes);
    overall.enrolments += q.enrolments;
    overall.planned_minutes += q.planned_minutes;
    overall.registered_minutes += q.registered_minutes;
    overall.unregistered_minutes += q.unregistered_minutes;
  }
  overall.coverage_permille = permille(overall.registered_minutes, overall.planned_minutes);
  return { cells, overall, unknown, withoutObs };
}

/** Students whose enrolments give different birth dates (a count; the ids stay here). */
function conflictingBirthDates(t: EnrolmentTable): number {
  const births = new Map<string, number | null>();
  const conflicts = new Set<string>();
  for (const [i, id] of t.studentId.entries()) {
    const birth = itemAt(t.birthDate, i);
    if (births.has(id) && births.get(id) !== birth) conflicts.add(id);
    else births.set(id, birth);
  }
  return conflicts.size;
}

/** Warnings for the data team: an export older than P1, niveau mismatches, skipped rows. */
function qualityWarnings(meta: StoredDataset['meta'], cal: RoundCalendar, mismatches: number): string[] {
  const warnings: string[] = [];
  if (meta.maxDate === null || meta.maxDate < cal.p1) {
    warnings.push(
      `De export lijkt ouder dan peildatum P1 (${isoDate(cal.p1)}): de laatste datum in de bestanden ` +
        `is ${meta.maxDate === null ? 'onbekend' : isoDate(meta.maxDate)}. Blok B (uitval) heeft een ` +
        'export van op of na P1 nodig.',
    );
  }
  if (mismatches)
    warnings.push(
      [
        `${mismatches} inschrijving(en) hebben een niveau dat niet past bij het codeboek;`,
        'de vector kan pas worden berekend als dat is opgelost.',
      ].join(' '),
    );
  if (meta.rowsSkipped)
    warnings.push(
      [
        `${meta.rowsSkipped} regel(s) zijn overgeslagen met --max-errors;`,
        'dit staat ook in het voorbeeld van wat verstuurd wordt.',
      ].join(' '),
    );
  return warnings;
}

const pct = (pm: number | null) => (pm === null ? '—' : `${(pm / 10).toFixed(1).replace('.', ',')}%`);
const int = (x: number) => x.toLocaleString('nl-NL');

/** Plain-text rendering, in Dutch, for the data team. */
export function renderQualityText(r: QualityReport): string {
  const out: string[] = [];
  out.push(`Datakwaliteit, studiejaar ${r.studiejaar}`);
  out.push(`Geïmporteerd: ${r.dataset.imported_at}`);
  out.push(
    [
      `  ${r.dataset.enrolments_file}: ${int(r.dataset.enrolments_records)} inschrijvingen`,
      `(sha256 ${r.dataset.enrolments_sha256.slice(0, 16)}…)`,
    ].join(' '),
  );
  out.push(
    [
      `  ${r.dataset.attendance_file}: ${int(r.dataset.attendance_records)} waarnemingen`,
      `(sha256 ${r.dataset.attendance_sha256.slice(0, 16)}…)`,
    ].join(' '),
  );
  out.push(
    `  Overgeslagen regels (--max-errors): ${int(r.dataset.rows_skipped)}; waarnemingen vervallen ` +
      `met overgeslagen inschrijvingen: ${int(r.dataset.observations_dropped_with_skipped_enrolments)}`,
  );
  out.push('');
  out.push('Registratie (waarnemingen in het studiejaar, zonder n.v.t.)');
  out.push(
    [
      `  Inschrijvingen met waarnemingen: ${int(r.overall.enrolments)};`,
      `zonder waarnemingen (wel actief): ${int(r.enrolments_without_observations_in_year)}`,
    ].join(' '),
  );
  out.push(
    [
      `  Geregistreerd: ${pct(r.overall.coverage_permille)} van de geplande minuten;`,
      `niet geregistreerd: ${int(r.overall.unregistered_minutes)} minuten`,
    ].join(' '),
  );
  out.push(
    `  Waarnemingen in het studiejaar: ${int(r.overall.observations_in_year)}; buiten de inschrijfperiode ` +
      `(alle data): ${int(r.overall.observations_outside_enrolment)}`,
  );
  out.push('');
  out.push(
    [
      'Per cel (crebo|niveau|leerweg): inschrijvingen, registratiegraad, niet-geregistreerde minuten,',
      'waarnemingen buiten inschrijfperiode',
    ].join(' '),
  );
  for (const c of r.cells) {
    out.push(
      `  ${c.cell.padEnd(14)} ${String(c.enrolments).padStart(6)}  ${pct(c.coverage_permille).padStart(7)} ` +
        ` ${int(c.unregistered_minutes).padStart(10)}  ${String(c.observations_outside_enrolment).padStart(5)}`,
    );
  }
  out.push('');
  out.push(`Crebo's buiten het codeboek: ${r.unknown_crebos.length}`);
  for (const u of r.unknown_crebos)
    out.push(`  ${u.crebo}: ${u.enrolments_active_in_year} actief in het studiejaar (${u.enrolments_total} in totaal)`);
  out.push(`Niveau wijkt af van het codeboek: ${r.niveau_mismatches.length}`);
  for (const m of r.niveau_mismatches.slice(0, 100))
    out.push(`  regel ${m.line}: crebo ${m.crebo} niveau ${m.niveau}, codeboek ${m.codebook_niveau}`);
  out.push(`Studenten met verschillende geboortedata op hun regels: ${r.students_with_conflicting_birth_dates}`);
  if (r.warnings.length) {
    out.push('');
    out.push('Waarschuwingen');
    for (const w of r.warnings) out.push(`  ! ${w}`);
  }
  return `${out.join('\n')}\n`;
}
