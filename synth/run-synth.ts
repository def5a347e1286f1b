import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SbError } from '../shared/errors/sb-error.js';
import { buildCodebook } from '../shared/metrics/codebook.js';
import { generateCodebook, unknownCrebos } from './codebook-gen.js';
import { generateInstitution, institutionProfile, type InstitutionSink } from './institution-gen.js';
import { rngFor } from './prng.js';
import { BufferedWriter, canonicalSink, csvField, messySink, win1252 } from './writers.js';

/** Options of {@link synthesize}. */
export interface SynthOptions {
  out: string;
  institutions: number;
  /** Students of institution 1; the others get 0.6x..1.4x. */
  students: number;
  seed: string;
  /** Studiejaar S. */
  year: number;
  messy?: boolean;
  /** Codebook size (default 120). */
  crebos?: number;
  /** Progress lines on stderr (default: when more than 5,000 students in all). */
  progress?: boolean;
  /**
   * Year-to-year drift seed (`npm start -- --years`): the same codebook and institutions every
   * year (both from `seed`), but each studiejaar gets its own students, an absence level that
   * rises about 3% (relative) a year from 2022 on, and a dropout factor per sectorkamer that
   * varies from year to year (lognormal, sd 0.15). Absent: the data of `seed` and `year` as
   * before (no drift).
   */
  drift?: string;
}

/** The drift of studiejaar `year` under drift seed `driftSeed` (see {@link SynthOptions.drift}). */
export function yearDrift(
  driftSeed: string,
  year: number,
  sectorkamerCodes: readonly string[],
): { absence: number; dropout: Map<string, number> } {
  const a = rngFor(driftSeed, 'absence', year);
  const absence = Math.max(0.5, 1 + 0.03 * (year - 2022) + 0.01 * a.normal());
  const dropout = new Map<string, number>();
  for (const code of [...sectorkamerCodes].sort())
    dropout.set(code, Math.exp(0.15 * rngFor(driftSeed, 'dropout', year, code).normal()));
  return { absence, dropout };
}

/** What {@link synthesize} wrote. */
export interface SynthResult {
  codebook: string;
  institutions: {
    dir: string;
    enrolments: string;
    attendance: string;
    students: number;
    enrolmentRows: number;
    observations: number;
    bytes: number;
  }[];
  seconds: number;
}

/**
 * Write `codebook.csv` and `inst-1/` … `inst-K/` (`enrolments.csv`, `attendance.csv`) in the
 * INPUT.md format, streaming. Same options → same bytes; canonical and `messy` output of one seed
 * hold the same records.
 * @see ../../shared/spec/INPUT.md
 */
export async function synthesize(o: SynthOptions): Promise<SynthResult> {
  const t0 = performance.now();
  await mkdir(o.out, { recursive: true });
  const seed = o.seed;
  const entries = generateCodebook(rngFor(seed, 'codebook'), o.crebos ?? 120);
  const codebook = buildCodebook(entries);
  const unknown = unknownCrebos(rngFor(seed, 'unknown'), entries, 6);
  const cbPath = join(o.out, 'codebook.csv');
  const cbw = new BufferedWriter(cbPath);
  cbw.write('crebo,name,niveau,sectorkamer_code,sectorkamer_name\n');
  for (const e of entries)
    cbw.write(
      [e.crebo, e.name, String(e.niveau), e.sectorkamerCode, e.sectorkamerName].map((x) => csvField(x, ',')).join(',') +
        '\n',
    );
  await cbw.close();
  const drift =
    o.drift === undefined ? undefined : yearDrift(o.drift, o.year, [...new Set(entries.map((e) => e.sectorkamerCode))]);
  const profiles = Array.from({ length: o.institutions }, (_, i) => {
    const p = institutionProfile(seed, i + 1, o.students, o.year, entries, unknown);
    if (!drift) return p;
    return {
      ...p,
      absBase: p.absBase * drift.absence,
      drift: { label: `drift:${o.drift}:${o.year}`, dropout: drift.dropout },
    };
  });
  const total = profiles.reduce((a, p) => a + p.students, 0);
  const progress = o.progress ?? total > 5000;
  const result: SynthResult = { codebook: cbPath, institutions: [], seconds: 0 };
  let done = 0;
  for (const p of profiles) {
    const dir = join(o.out, `inst-${p.index}`);
    await mkdir(dir, { recursive: true });
    const enrPath = join(dir, 'enrolments.csv');
    const attPath = join(dir, 'attendance.csv');
    const enr = new BufferedWriter(enrPath, o.messy ? win1252 : undefined);
    const att = new BufferedWriter(attPath);
    const inner = o.messy
      ? messySink(p, enr, att, rngFor(seed, 'messy', p.index), codebook.byCrebo)
      : canonicalSink(p, enr, att);
    let enrolmentRows = 0,
      observations = 0,
      students = 0;
    const sink: InstitutionSink = {
      enrolment: (e) => {
        enrolmentRows++;
        inner.enrolment(e);
      },
      lesson: (a, b, c, d, e) => {
        observations++;
        inner.lesson(a, b, c, d, e);
      },
      drain: async () => {
        students++;
        if (progress && (done + students) % 2000 === 0)
          process.stderr.write(
            `synth: ${done + students}/${total} students, ${observations} observations in inst-${p.index}, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
          );
        await inner.drain();
      },
    };
    await generateInstitution(seed, p, sink);
    await enr.close();
    await att.close();
    done += p.students;
    result.institutions.push({
      dir,
      enrolments: enrPath,
      attendance: attPath,
      students: p.students,
      enrolmentRows,
      observations,
      bytes: enr.bytes + att.bytes,
    });
  }
  result.seconds = (performance.now() - t0) / 1000;
  if (progress) process.stderr.write(`synth: done, ${total} students in ${result.seconds.toFixed(1)} s\n`);
  return result;
}

function intOpt(v: unknown, name: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new SbError('SB_ERR_SYNTH_OPTION', `--${name} must be an integer >= ${min} (got '${String(v)}').`, {
      option: name,
    });
  return n;
}

/** The `sectorbench synth` command. */
export async function runSynth(opts: Record<string, string | boolean>): Promise<void> {
  const r = await synthesize({
    out: String(opts.out),
    institutions: intOpt(opts.institutions ?? 3, 'institutions', 1),
    students: intOpt(opts.students ?? 500, 'students', 1),
    seed: String(opts.seed ?? '1'),
    year: intOpt(opts.year ?? 2024, 'year', 1900),
    messy: opts.messy === true,
    crebos: intOpt(opts.crebos ?? 120, 'crebos', 4),
    ...(typeof opts.drift === 'string' ? { drift: opts.drift } : {}),
  });
  for (const i of r.institutions)
    process.stdout.write(
      `${i.dir}: ${i.students} students, ${i.enrolmentRows} enrolments, ${i.observations} observations, ${(i.bytes / 1e6).toFixed(1)} MB\n`,
    );
  process.stdout.write(`codebook: ${r.codebook}; ${r.seconds.toFixed(1)} s\n`);
}
