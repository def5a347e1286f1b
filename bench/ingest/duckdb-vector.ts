/**
 * An independent SQL rendering of METRICS.md v1 in DuckDB: computes one institution's full
 * contribution vector (64 cell slots, 24 group slots, `excluded_crebos`, `data_quality`) from
 * canonical-format INPUT.md files (comma, UTF-8, ISO dates, exact column names up to case).
 *
 * It is written from the spec only (not from the node's code), so it serves as a second check of
 * the node's numbers in the tests and as the reference time in `bench/ingest`.
 *
 * @see ../../../shared/spec/METRICS.md
 * @see ../../../shared/spec/INPUT.md
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { CELL_SLOTS, GROUP_SLOTS } from '../../shared/metrics/slots.js';
import { emptyVector, vectorToJson, type VectorJson } from '../../shared/metrics/vector.js';
import { SbError } from '../../shared/errors/sb-error.js';

/** Options of {@link duckdbVector}. */
export interface DuckdbVectorOptions {
  codebook: string;
  enrolments: string;
  attendance: string;
  /** Studiejaar S: 1 August S to 31 July S+1. */
  year: number;
  /** Check (enrolment_id, date, start_time) uniqueness when a start_time column exists (default true). */
  checkDuplicates?: boolean;
  /** DuckDB threads (default: DuckDB's own default, all cores). */
  threads?: number;
}

/**
 * The white space that ECMAScript's `String.prototype.trim` removes (METRICS.md, Conventions):
 * ASCII white space, NBSP, the Unicode space separators, line/paragraph separators and BOM.
 */
const JS_WS =
  '\t\n\u000b\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

const sqlStr = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const T = (col: string): string => `trim(${col}, ${sqlStr(JS_WS)})`;
const iso = (y: number, m: number, d: number): string =>
  `DATE '${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}'`;

/** Histogram lower bounds in percent (A14..A21). */
const HIST_PCT = [0, 2, 5, 10, 15, 20, 30, 50];
/** Early-attendance bin lower bounds (B7..B16), x in 0..1000. */
const EARLY_BINS = [0, 700, 800, 900, 950];
/** Block C absence-share bins, per mille. */
const ABS_PM = [0, 50, 75, 100, 125, 150, 175, 200, 250, 300];
/** Block C dropout-share bins, per mille. */
const DROP_PM = [0, 50, 100, 150, 200, 250, 300, 350, 400, 500];

/** SQL for "the index of the highest bin whose lower bound the value reaches" with integer tests. */
function binExpr(bounds: readonly number[], test: (b: number) => string): string {
  const whens = bounds
    .map((b, i) => ({ b, i }))
    .slice(1)
    .reverse()
    .map(({ b, i }) => `WHEN ${test(b)} THEN ${i}`)
    .join(' ');
  return `CASE ${whens} ELSE 0 END`;
}

async function columnsOf(con: DuckDBConnection, path: string): Promise<Map<string, string>> {
  const r = await con.runAndReadAll(
    `SELECT * FROM read_csv(${sqlStr(path)}, header=true, all_varchar=true, delim=',', quote='"', escape='"') LIMIT 0`,
  );
  const m = new Map<string, string>();
  for (const name of r.columnNames()) m.set(name.trim().toLowerCase(), name);
  return m;
}

function requireCols(cols: Map<string, string>, need: readonly string[], file: string): void {
  const missing = need.filter((c) => !cols.has(c));
  if (missing.length)
    throw new SbError('SB_ERR_INPUT_COLUMNS', `${file} lacks column(s) ${missing.join(', ')}.`, { file, missing });
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

async function scalar(con: DuckDBConnection, sql: string): Promise<bigint | number | null> {
  const r = await con.runAndReadAll(sql);
  const v = r.getRows()[0]?.[0];
  return (v ?? null) as bigint | number | null;
}

/** The dates of studiejaar S as SQL DATE literals (METRICS.md, Conventions and block B). */
interface YearDates {
  /** 1 August S. */
  YS: string;
  /** 31 July S+1. */
  YE: string;
  /** Peildatum P0 = 1 October S. */
  P0: string;
  /** P1 = 1 October S+1. */
  P1: string;
  /** P-1 = 1 October S-1. */
  PM1: string;
  /** Born on or before this date: 18 or older on P0. */
  ADULT: string;
}

function yearDates(S: number): YearDates {
  return {
    YS: iso(S, 8, 1),
    YE: iso(S + 1, 7, 31),
    P0: iso(S, 10, 1),
    P1: iso(S + 1, 10, 1),
    PM1: iso(S - 1, 10, 1),
    ADULT: iso(S - 18, 10, 1),
  };
}

const csvSource = (path: string): string =>
  `read_csv(${sqlStr(path)}, header=true, all_varchar=true, delim=',', quote='"', escape='"')`;

type Codebook = Awaited<ReturnType<typeof readCodebookFile>>;

/** Tables `cb`, `cells` and `groupcells` (order fixed by the shared Codebook). */
async function loadCodebookTables(con: DuckDBConnection, codebook: Codebook): Promise<void> {
  const cbRows = codebook.entries
    .map((e) => `(${sqlStr(e.crebo)}, ${e.niveau}, ${sqlStr(e.sectorkamerCode)})`)
    .join(',');
  await con.run(`CREATE TEMP TABLE cb(crebo VARCHAR, niveau INTEGER, sk VARCHAR)`);
  if (cbRows) await con.run(`INSERT INTO cb VALUES ${cbRows}`);
  const cellRows = codebook.cellKeys
    .map((k, i) => {
      const [crebo, niveau, lw] = k.split('|') as [string, string, string];
      return `(${i}, ${sqlStr(crebo)}, ${Number(niveau)}, ${sqlStr(lw)})`;
    })
    .join(',');
  await con.run(`CREATE TEMP TABLE cells(idx INTEGER, crebo VARCHAR, niveau INTEGER, leerweg VARCHAR)`);
  if (cellRows) await con.run(`INSERT INTO cells VALUES ${cellRows}`);
  const gcRows: string[] = [];
  codebook.groupKeys.forEach((g, j) => {
    for (const i of codebook.groupCells.get(g) ?? []) gcRows.push(`(${j}, ${i})`);
  });
  await con.run(`CREATE TEMP TABLE groupcells(gidx INTEGER, cidx INTEGER)`);
  if (gcRows.length) await con.run(`INSERT INTO groupcells VALUES ${gcRows.join(',')}`);
}

/** Table `enr` (trimmed, typed enrolments joined to the codebook); throws on invalid rows. */
async function loadEnrolments(con: DuckDBConnection, path: string): Promise<void> {
  const ecols = await columnsOf(con, path);
  requireCols(ecols, ['student_id', 'enrolment_id', 'crebo', 'niveau', 'leerweg', 'start_date'], 'enrolments.csv');
  const ecol = (c: string): string => (ecols.has(c) ? T(q(ecols.get(c) as string)) : 'NULL::VARCHAR');
  const dateOf = (expr: string): string => `CAST(NULLIF(${expr}, '') AS DATE)`;
  await con.run(`
      CREATE TEMP TABLE enr AS
      SELECT e.*, (cb.crebo IS NOT NULL) AS in_cb, cb.niveau AS cb_niveau
      FROM (
        SELECT ${ecol('student_id')} AS sid, ${ecol('enrolment_id')} AS eid,
               ${dateOf(ecol('birth_date'))} AS birth, ${ecol('crebo')} AS crebo,
               CAST(${ecol('niveau')} AS INTEGER) AS niveau, ${ecol('leerweg')} AS leerweg,
               ${dateOf(ecol('start_date'))} AS sd, ${dateOf(ecol('end_date'))} AS ed,
               coalesce(lower(${ecol('exit_reason')}) = 'diploma', false) AS diploma
        FROM ${csvSource(path)}
      ) e LEFT JOIN cb USING (crebo)`);
  const bad = await con.runAndReadAll(`
      SELECT
        (SELECT count(*) FROM (SELECT eid FROM enr GROUP BY eid HAVING count(*) > 1)) AS dup_ids,
        (SELECT count(*) FROM enr WHERE ed < sd) AS end_before_start,
        (SELECT count(*) FROM enr WHERE in_cb AND niveau <> cb_niveau) AS niveau_mismatch,
        (SELECT count(*) FROM enr WHERE leerweg NOT IN ('BOL', 'BBL') OR niveau NOT IN (1,2,3,4)
            OR sid IS NULL OR sid = '' OR eid IS NULL OR eid = '' OR sd IS NULL
            OR NOT regexp_full_match(crebo, '[0-9]{5}')) AS invalid`);
  const [dupIds, endBefore, nivMis, invalid] = (bad.getRows()[0] ?? []).map(Number);
  if (dupIds || endBefore || nivMis || invalid)
    throw new SbError(
      'SB_ERR_INPUT_INVALID',
      `enrolments.csv: ${dupIds} duplicate enrolment_id(s), ${endBefore} end_date before start_date, ` +
        `${nivMis} niveau contradicting the codebook, ${invalid} invalid row(s).`,
      { dupIds, endBefore, nivMis, invalid },
    );
}

/** The attendance CSV's columns: raw (quoted) and trimmed expressions, and its `read_csv` source. */
interface AttendanceSource {
  cols: Map<string, string>;
  src: string;
  raw: (c: string) => string;
  acol: (c: string) => string;
}

/**
 * Table `raw`: one pass over the CSV grouped by the raw strings (few distinct values); trimming
 * and casting happen later on the distinct values only, as trimming 15 million strings is the slow
 * part otherwise.
 */
async function loadRawAttendance(con: DuckDBConnection, path: string): Promise<AttendanceSource> {
  const cols = await columnsOf(con, path);
  requireCols(cols, ['enrolment_id', 'date', 'minutes', 'status'], 'attendance.csv');
  const acol = (c: string): string => T(q(cols.get(c) as string));
  const src = csvSource(path);
  const raw = (c: string): string => q(cols.get(c) as string);
  await con.run(`
      CREATE TEMP TABLE raw AS
      SELECT e, d, s, count(*) AS n, coalesce(sum(m), 0) AS m,
             count(*) FILTER (WHERE m IS NULL OR m < 1 OR m > 720) AS n_badm
      FROM (
        SELECT ${raw('enrolment_id')} AS e, ${raw('date')} AS d, ${raw('status')} AS s,
               coalesce(TRY_CAST(${raw('minutes')} AS BIGINT), TRY_CAST(${T(raw('minutes'))} AS BIGINT)) AS m
        FROM ${src}
      ) GROUP BY e, d, s`);
  return { cols, src, raw, acol };
}

/**
 * Throws SB_ERR_INPUT_DUPLICATE_LESSON when an (enrolment_id, date, start_time) occurs twice.
 * Fast path: group by the raw strings. Exact (trimmed) grouping only when some distinct raw id,
 * date or start_time carries white space that trimming removes (checked with JS trim).
 */
async function checkDuplicateLessons(con: DuckDBConnection, a: AttendanceSource): Promise<void> {
  const { src, raw, acol } = a;
  const distinct = async (sql: string): Promise<string[]> =>
    (await con.runAndReadAll(sql)).getRows().map((r) => (r[0] ?? '') as string);
  const values = [
    ...(await distinct(`SELECT DISTINCT e FROM raw`)),
    ...(await distinct(`SELECT DISTINCT d FROM raw`)),
    ...(await distinct(`SELECT DISTINCT ${raw('start_time')} FROM ${src}`)),
  ];
  const dirty = values.some((v) => v !== v.trim());
  const trimmedIds = `SELECT ${acol('enrolment_id')} e, ${acol('date')} d, ${acol('start_time')} t FROM ${src}`;
  const dupSql = dirty
    ? `SELECT count(*) FROM (SELECT 1 FROM (${trimmedIds})
             WHERE t <> '' GROUP BY e, CAST(d AS DATE), t HAVING count(*) > 1)`
    : `SELECT count(*) FROM (SELECT 1 FROM ${src} WHERE coalesce(${raw('start_time')}, '') <> ''
             GROUP BY ${raw('enrolment_id')}, ${raw('date')}, ${raw('start_time')} HAVING count(*) > 1)`;
  const dups = Number(await scalar(con, dupSql));
  if (dups)
    throw new SbError(
      'SB_ERR_INPUT_DUPLICATE_LESSON',
      `attendance.csv: ${dups} (enrolment_id, date, start_time) combination(s) occur more than once.`,
      { duplicates: dups },
    );
}

const REGISTERED_STATUSES = `'present', 'late', 'absent_authorized', 'absent_unauthorized'`;
const KNOWN_STATUSES = `${REGISTERED_STATUSES}, 'not_applicable', 'unregistered'`;

/**
 * Table `od`: attendance aggregated per (trimmed enrolment, date); throws on unknown statuses,
 * minutes outside 1..720 and rows of unknown enrolments.
 */
async function aggregatePerDay(con: DuckDBConnection): Promise<void> {
  await con.run(`
      CREATE TEMP TABLE od AS
      WITH de AS (SELECT e, ${T('e')} AS eid FROM (SELECT DISTINCT e FROM raw)),
           dd AS (SELECT d, CAST(NULLIF(${T('d')}, '') AS DATE) AS d2 FROM (SELECT DISTINCT d FROM raw)),
           ds AS (SELECT s, ${T('s')} AS st FROM (SELECT DISTINCT s FROM raw)),
           r AS (SELECT de.eid, dd.d2 AS d, ds.st, raw.n, raw.m, raw.n_badm
                 FROM raw JOIN de ON raw.e IS NOT DISTINCT FROM de.e JOIN dd ON raw.d IS NOT DISTINCT FROM dd.d
                 JOIN ds ON raw.s IS NOT DISTINCT FROM ds.s)
      SELECT eid, d,
        sum(n) AS n_all,
        coalesce(sum(n) FILTER (WHERE st <> 'not_applicable'), 0) AS n_counted,
        coalesce(sum(m) FILTER (WHERE st IN ('present', 'late')), 0) AS m_present,
        coalesce(sum(m) FILTER (WHERE st = 'absent_authorized'), 0) AS m_abs_a,
        coalesce(sum(m) FILTER (WHERE st = 'absent_unauthorized'), 0) AS m_abs_u,
        coalesce(sum(m) FILTER (WHERE st = 'unregistered'), 0) AS m_unreg,
        coalesce(sum(n) FILTER (WHERE st IN (${REGISTERED_STATUSES})), 0) AS n_registered,
        coalesce(sum(n) FILTER (WHERE st = 'late'), 0) AS n_late,
        coalesce(sum(n_badm), 0)
          + coalesce(sum(n) FILTER (WHERE st IS NULL OR st NOT IN (${KNOWN_STATUSES})), 0) AS n_invalid
      FROM r GROUP BY eid, d`);
  const abad = await con.runAndReadAll(`
      SELECT coalesce(sum(n_invalid), 0), coalesce(sum(n_all) FILTER (WHERE enr.eid IS NULL), 0)
      FROM od LEFT JOIN enr ON od.eid = enr.eid`);
  const [nInvalid, nUnknown] = (abad.getRows()[0] ?? []).map(Number);
  if (nInvalid || nUnknown)
    throw new SbError(
      'SB_ERR_INPUT_INVALID',
      `attendance.csv: ${nInvalid} row(s) with an unknown status or minutes outside 1..720, ` +
        `${nUnknown} row(s) for an unknown enrolment_id.`,
      { invalid: nInvalid, unknownEnrolment: nUnknown },
    );
}

/** Table `ew`: per enrolment and ISO week, counted observations in S of codebook enrolments. */
async function aggregatePerWeek(con: DuckDBConnection, { YS, YE }: YearDates): Promise<void> {
  await con.run(`
      CREATE TEMP TABLE ew AS
      SELECT od.eid, od.d - CAST(isodow(od.d) - 1 AS INTEGER) AS wk,
        sum(n_counted) AS n_counted, sum(m_present) AS m_present, sum(m_abs_a) AS m_abs_a,
        sum(m_abs_u) AS m_abs_u, sum(m_unreg) AS m_unreg, sum(n_registered) AS n_registered,
        sum(n_late) AS n_late
      FROM od JOIN enr ON od.eid = enr.eid
      WHERE enr.in_cb AND od.d BETWEEN ${YS} AND ${YE}
      GROUP BY ALL
      HAVING sum(n_counted) > 0`);
}

/** Table `ea`: block A per enrolment (minute totals, 16-hour signal, age on P0). */
async function blockAPerEnrolment(con: DuckDBConnection, { P0, ADULT }: YearDates): Promise<void> {
  await con.run(`
      CREATE TEMP TABLE ea AS
      WITH roll AS (
        SELECT eid,
               sum(m_abs_u) OVER (PARTITION BY eid ORDER BY wk ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS u4
        FROM ew
      ), sig AS (SELECT eid, max(u4) >= 960 AS signal FROM roll GROUP BY eid),
      tot AS (
        SELECT eid, sum(m_present) AS present, sum(m_abs_a) AS abs_a, sum(m_abs_u) AS abs_u,
               sum(m_unreg) AS unreg, sum(n_registered) AS obs_reg, sum(n_late) AS late
        FROM ew GROUP BY eid
      )
      SELECT tot.*, present + abs_a + abs_u AS registered, sig.signal,
             e.crebo, e.niveau, e.leerweg,
             (e.birth IS NOT NULL AND e.birth <= ${P0}) AS age_known,
             (e.birth IS NOT NULL AND e.birth <= ${P0} AND e.birth > ${ADULT}) AS u18
      FROM tot JOIN sig USING (eid) JOIN enr e USING (eid)`);
}

/** SQL CTE `name`: each student's main enrolment on date `d` (earliest start, then enrolment id). */
const mainOn = (d: string, name: string): string => `
      ${name} AS (
        SELECT sid, eid, crebo, niveau, leerweg FROM (
          SELECT sid, eid, crebo, niveau, leerweg,
                 row_number() OVER (PARTITION BY sid ORDER BY sd, encode(eid)) AS rn
          FROM enr WHERE in_cb AND sd <= ${d} AND (ed IS NULL OR ed >= ${d})
        ) WHERE rn = 1
      )`;

/** Table `st`: block B starters with their outcome on P1 and early attendance bin. */
async function blockBStarters(con: DuckDBConnection, { P0, P1, PM1 }: YearDates): Promise<void> {
  await con.run(`
      CREATE TEMP TABLE st AS
      WITH ${mainOn(P0, 'm0')}, ${mainOn(P1, 'm1')},
      onpm1 AS (SELECT DISTINCT sid FROM enr WHERE sd <= ${PM1} AND (ed IS NULL OR ed >= ${PM1})),
      onp1 AS (SELECT DISTINCT sid FROM enr WHERE sd <= ${P1} AND (ed IS NULL OR ed >= ${P1})),
      dipl AS (SELECT DISTINCT sid FROM enr WHERE diploma AND ed >= ${P0} AND ed < ${P1}),
      early_w AS (
        SELECT ew.*, row_number() OVER (PARTITION BY ew.eid ORDER BY wk) AS wn
        FROM ew JOIN m0 USING (eid)
      ),
      early AS (
        SELECT eid, sum(m_present) AS p, sum(m_present + m_abs_a + m_abs_u) AS r
        FROM early_w WHERE wn <= 6 GROUP BY eid
      ),
      s AS (
        SELECT m0.sid, m0.eid, m0.crebo, m0.niveau, m0.leerweg,
               (onp1.sid IS NOT NULL) AS retained,
               (onp1.sid IS NULL AND dipl.sid IS NOT NULL) AS left_diploma,
               m1.crebo AS crebo1, m1.niveau AS niveau1,
               CASE WHEN early.r > 0 THEN (1000 * early.p) // early.r END AS x
        FROM m0
        LEFT JOIN onpm1 USING (sid)
        LEFT JOIN onp1 USING (sid)
        LEFT JOIN dipl USING (sid)
        LEFT JOIN m1 USING (sid)
        LEFT JOIN early ON early.eid = m0.eid
        WHERE onpm1.sid IS NULL
      )
      SELECT *, (NOT retained AND NOT left_diploma) AS dropout,
             (retained AND (crebo1 IS NULL OR (crebo1 <> crebo AND niveau1 <= niveau))) AS switched,
             (retained AND niveau1 > niveau) AS progressed,
             ${binExpr(EARLY_BINS, (b) => `x >= ${b}`)} AS xbin
      FROM s`);
}

/** SQL select list of the absence histogram A14..A21 (per enrolment absence share in percent). */
function histogramColumns(): string {
  return HIST_PCT.map((_, i) => {
    const bin = binExpr(HIST_PCT, (b) => `100 * (abs_a + abs_u) >= ${b} * registered`);
    return `count(*) FILTER (WHERE registered > 0 AND ${bin} = ${i}) AS a_hist_${i}`;
  }).join(',\n');
}

/** SQL select list of the early-attendance bins B7..B16 (totals and dropouts per bin). */
function earlyColumns(): string {
  return EARLY_BINS.flatMap((_, i) => [
    `count(*) FILTER (WHERE x IS NOT NULL AND xbin = ${i}) AS b_early_total_${i}`,
    `count(*) FILTER (WHERE x IS NOT NULL AND xbin = ${i} AND dropout) AS b_early_dropout_${i}`,
  ]).join(',\n');
}

/**
 * SQL select list of block C for one row (cell or group) from the SQL expressions of its counts:
 * contributor flags, squared sizes and the one-hot absence and dropout share bins.
 */
function blockCColumns(nA: string, rated: string, reg: string, abs: string, nB: string, drops: string): string {
  const abs1 = ABS_PM.map((_, i) => {
    const bin = binExpr(ABS_PM, (t) => `1000 * ${abs} >= ${t} * ${reg}`);
    return `CASE WHEN ${rated} >= 10 AND ${bin} = ${i} THEN 1 ELSE 0 END AS c_abs_bin_${i}`;
  });
  const drop1 = DROP_PM.map((_, i) => {
    const bin = binExpr(DROP_PM, (t) => `1000 * ${drops} >= ${t} * ${nB}`);
    return `CASE WHEN ${nB} >= 10 AND ${bin} = ${i} THEN 1 ELSE 0 END AS c_drop_bin_${i}`;
  });
  return [
    `CASE WHEN ${nA} >= 1 THEN 1 ELSE 0 END AS c_contrib_a`,
    `CASE WHEN ${nB} >= 1 THEN 1 ELSE 0 END AS c_contrib_b`,
    `${nA} * ${nA} AS c_sq_a`,
    `${nB} * ${nB} AS c_sq_b`,
    ...abs1,
    ...drop1,
  ].join(',\n');
}

/** Table `cellrows`: blocks A, B and C of every codebook cell (zero where a cell has no rows). */
async function cellRows(con: DuckDBConnection): Promise<void> {
  const abSlots = CELL_SLOTS.slice(0, 40).map((s) => `coalesce(${s}, 0)::BIGINT AS ${s}`);
  const cBlock = blockCColumns(
    'a_enrolments',
    'a_rated',
    'a_min_registered',
    '(a_min_abs_auth + a_min_abs_unauth)',
    'b_starters',
    'dropouts',
  );
  await con.run(`
      CREATE TEMP TABLE cellrows AS
      WITH a AS (
        SELECT crebo, niveau, leerweg,
          count(*) AS a_enrolments,
          count(*) FILTER (WHERE registered > 0) AS a_rated,
          sum(registered + unreg) AS a_min_planned,
          sum(registered) AS a_min_registered,
          sum(present) AS a_min_present,
          sum(abs_a) AS a_min_abs_auth,
          sum(abs_u) AS a_min_abs_unauth,
          sum(obs_reg) AS a_obs_registered,
          sum(late) AS a_late,
          count(*) FILTER (WHERE signal) AS a_signal16,
          count(*) FILTER (WHERE age_known) AS a_age_known,
          count(*) FILTER (WHERE u18) AS a_enrolments_u18,
          count(*) FILTER (WHERE u18 AND signal) AS a_signal16_u18,
          ${histogramColumns()}
        FROM ea GROUP BY ALL
      ), b AS (
        SELECT crebo, niveau, leerweg,
          count(*) AS b_starters,
          count(*) FILTER (WHERE retained) AS b_retained,
          count(*) FILTER (WHERE left_diploma) AS b_left_diploma,
          count(*) FILTER (WHERE switched) AS b_switched,
          count(*) FILTER (WHERE progressed) AS b_progressed,
          count(*) FILTER (WHERE x IS NOT NULL) AS b_early_n,
          ${earlyColumns()},
          coalesce(sum(x), 0) AS b_sum_x,
          coalesce(sum(x * x), 0) AS b_sum_x2,
          coalesce(sum(x) FILTER (WHERE dropout), 0) AS b_sum_xy,
          count(*) FILTER (WHERE dropout) AS dropouts
        FROM st GROUP BY ALL
      ), j AS (
        SELECT cells.idx, ${abSlots.join(', ')},
               coalesce(dropouts, 0)::BIGINT AS dropouts
        FROM cells
        LEFT JOIN a USING (crebo, niveau, leerweg)
        LEFT JOIN b USING (crebo, niveau, leerweg)
      )
      SELECT *, ${cBlock}
      FROM j`);
}

/** Table `grouprows`: block C of every group from the pooled sums of its cells. */
async function groupRows(con: DuckDBConnection): Promise<void> {
  await con.run(`
      CREATE TEMP TABLE grouprows AS
      WITH g AS (
        SELECT gidx, sum(a_enrolments) AS na, sum(a_rated) AS rated, sum(a_min_registered) AS reg,
               sum(a_min_abs_auth + a_min_abs_unauth) AS abs, sum(b_starters) AS nb, sum(dropouts) AS drops
        FROM groupcells JOIN cellrows ON cellrows.idx = groupcells.cidx GROUP BY gidx
      )
      SELECT gidx, ${blockCColumns('na', 'rated', 'reg', 'abs', 'nb', 'drops')} FROM g`);
}

/** Enrolments active in S whose crebo is not in the codebook, counted per crebo. */
async function excludedCrebos(con: DuckDBConnection, { YS, YE }: YearDates): Promise<Record<string, number>> {
  const ex = await con.runAndReadAll(`
      SELECT crebo, count(*) FROM enr
      WHERE NOT in_cb AND sd <= ${YE} AND (ed IS NULL OR ed >= ${YS}) GROUP BY crebo`);
  const excluded: Record<string, number> = {};
  for (const [crebo, n] of ex.getRows()) excluded[String(crebo)] = Number(n);
  return excluded;
}

/** The `data_quality` counts of the vector (METRICS.md, data quality). */
async function dataQuality(con: DuckDBConnection, { YS, YE }: YearDates): Promise<Record<string, number>> {
  const dq = await con.runAndReadAll(`
      SELECT
        (SELECT count(*) FROM enr) AS enrolments,
        (SELECT count(*) FROM enr WHERE NOT in_cb) AS enrolments_excluded,
        (SELECT coalesce(sum(n_all), 0) FROM od) AS observations,
        (SELECT coalesce(sum(n_all), 0) FROM od WHERE d BETWEEN ${YS} AND ${YE}) AS observations_in_year,
        (SELECT coalesce(sum(n_all), 0) FROM od JOIN enr USING (eid) WHERE od.d < enr.sd OR od.d > enr.ed)
          AS observations_outside_enrolment`);
  const dqRow = dq.getRowObjects()[0] ?? {};
  const counts: Record<string, number> = {};
  for (const [k, val] of Object.entries(dqRow)) counts[k] = Number(val);
  return counts;
}

/** The vector from tables `cellrows` and `grouprows`, with excluded crebos and data quality. */
async function readVector(con: DuckDBConnection, codebook: Codebook, S: number, dates: YearDates): Promise<VectorJson> {
  const v = emptyVector(codebook, `${S}-${S + 1}`);
  const cr = await con.runAndReadAll(`SELECT idx, ${CELL_SLOTS.join(', ')} FROM cellrows`);
  for (const row of cr.getRows()) {
    const idx = Number(row[0]);
    v.cells[idx] = row.slice(1).map((x) => Number(x));
  }
  const gr = await con.runAndReadAll(`SELECT gidx, ${GROUP_SLOTS.join(', ')} FROM grouprows`);
  for (const row of gr.getRows()) {
    const idx = Number(row[0]);
    v.groups[idx] = row.slice(1).map((x) => Number(x));
  }
  const excluded = await excludedCrebos(con, dates);
  return vectorToJson(codebook, v, { excluded_crebos: excluded, data_quality: await dataQuality(con, dates) });
}

/**
 * Compute the METRICS.md v1 contribution vector of one institution with DuckDB.
 * Throws an `SbError` on the input errors it checks (unknown status, bad minutes, duplicate
 * enrolment ids, end before start, niveau contradicting the codebook, attendance for an unknown
 * enrolment, duplicate lessons when `start_time` is present).
 *
 * @see ../../../shared/spec/METRICS.md "The contribution vector of one institution"
 */
export async function duckdbVector(opts: DuckdbVectorOptions): Promise<VectorJson> {
  const S = opts.year;
  const codebook = await readCodebookFile(opts.codebook);
  const db = await DuckDBInstance.create(':memory:', opts.threads ? { threads: String(opts.threads) } : {});
  const con = await db.connect();
  try {
    const dates = yearDates(S);
    await loadCodebookTables(con, codebook);
    await loadEnrolments(con, opts.enrolments);
    const attendance = await loadRawAttendance(con, opts.attendance);
    if (attendance.cols.has('start_time') && opts.checkDuplicates !== false)
      await checkDuplicateLessons(con, attendance);
    await aggregatePerDay(con);
    await aggregatePerWeek(con, dates);
    await blockAPerEnrolment(con, dates);
    await blockBStarters(con, dates);
    await cellRows(con);
    await groupRows(con);
    return await readVector(con, codebook, S, dates);
  } finally {
    con.closeSync();
    db.closeSync();
  }
}
