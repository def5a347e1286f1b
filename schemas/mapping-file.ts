import { z } from 'zod';

/**
 * A node's mapping file: how an SIS export's columns and codes map onto the input contract.
 * @see ../../shared/spec/INPUT.md ("SIS exports use their own codes and column names")
 */

const Encoding = z.enum(['auto', 'utf-8', 'windows-1252']);
const Status = z.enum([
  'present',
  'late',
  'absent_authorized',
  'absent_unauthorized',
  'not_applicable',
  'unregistered',
]);

/** Minutes from a begin and end time column (`HH:MM`), as EduArte exports lessons. */
export const MinutesFromTimes = z
  .object({ start: z.string().min(1), end: z.string().min(1) })
  .strict()
  .describe('compute minutes as end - start from two HH:MM columns');

export const EnrolmentsMapping = z
  .object({
    encoding: Encoding.optional(),
    columns: z
      .object({
        student_id: z.string(),
        enrolment_id: z.string(),
        birth_date: z.string(),
        crebo: z.string(),
        niveau: z.string(),
        leerweg: z.string(),
        start_date: z.string(),
        end_date: z.string(),
        exit_reason: z.string(),
      })
      .partial()
      .strict()
      .optional()
      .describe('contract column -> SIS column name (matched case-insensitively after trimming)'),
    values: z
      .object({
        niveau: z.record(z.string(), z.enum(['1', '2', '3', '4'])),
        leerweg: z.record(z.string(), z.enum(['BOL', 'BBL'])),
      })
      .partial()
      .strict()
      .optional()
      .describe('SIS value -> contract value (matched case-insensitively after trimming)'),
    diploma: z
      .array(z.string())
      .optional()
      .describe("exit reasons that mean 'ended with the diploma of this programme', besides 'diploma'"),
  })
  .strict();

export const AttendanceMapping = z
  .object({
    encoding: Encoding.optional(),
    columns: z
      .object({
        enrolment_id: z.string(),
        date: z.string(),
        minutes: z.union([z.string(), MinutesFromTimes]),
        start_time: z.string(),
      })
      .partial()
      .strict()
      .optional(),
    status: z
      .object({
        from: z.array(z.string()).min(1).max(4).describe('SIS columns whose trimmed values, joined by |, form the key'),
        codes: z
          .record(z.string(), Status)
          .describe(
            "key -> contract status; '*' in a part matches any value; matched case-insensitively; the most specific key wins",
          ),
      })
      .strict()
      .optional(),
  })
  .strict();

export const MappingFile = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    enrolments: EnrolmentsMapping.optional(),
    attendance: AttendanceMapping.optional(),
  })
  .strict();

export type MappingFile = z.infer<typeof MappingFile>;
export type EnrolmentsMapping = z.infer<typeof EnrolmentsMapping>;
export type AttendanceMapping = z.infer<typeof AttendanceMapping>;
