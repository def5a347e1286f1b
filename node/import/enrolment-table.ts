/**
 * The enrolments of one import, column-wise: only the fields METRICS.md needs (data
 * minimisation, AVG art. 5). Names, free-text exit reasons and extra columns are never kept.
 */
export interface EnrolmentTable {
  studentId: string[];
  enrolmentId: string[];
  /** Day number, or null when empty/absent. */
  birthDate: (number | null)[];
  crebo: string[];
  niveau: number[];
  leerweg: ('BOL' | 'BBL')[];
  startDate: number[];
  /** Day number, or null when still enrolled. */
  endDate: (number | null)[];
  /** Ended with the diploma of this programme (exit_reason trimmed and lower-cased is `diploma`, or mapped). */
  diploma: boolean[];
  /** Line in enrolments.csv, for messages that point back at the export. */
  line: number[];
}

export function emptyEnrolmentTable(): EnrolmentTable {
  return {
    studentId: [],
    enrolmentId: [],
    birthDate: [],
    crebo: [],
    niveau: [],
    leerweg: [],
    startDate: [],
    endDate: [],
    diploma: [],
    line: [],
  };
}
