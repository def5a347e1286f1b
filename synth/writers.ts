import { createWriteStream, type WriteStream } from 'node:fs';
import { itemAt } from '../shared/arrays/checked-index.js';
import { once } from 'node:events';
import iconv from 'iconv-lite';
import type { EnrolmentRec, InstitutionProfile, InstitutionSink } from './institution-gen.js';
import { STATUSES } from './institution-gen.js';
import type { Rng } from './prng.js';
import type { CodebookEntry } from '../shared/metrics/codebook.js';

/**
 * A buffered, back-pressure-aware text writer: collects text and writes ~1 MiB chunks, awaiting
 * 'drain' when the stream asks for it. `encode` turns text into bytes; without it the text is
 * UTF-8, written straight into a reused chunk buffer (no array of small strings to join and
 * re-encode: that join and the garbage it left were a fifth of `npm start`'s CPU profile).
 */
export class BufferedWriter {
  private parts: string[] = [];
  private size = 0;
  private readonly stream: WriteStream;
  /** UTF-8 path: the chunk being filled and the bytes in it. */
  private buf: Buffer | undefined;
  private pos = 0;
  bytes = 0;
  constructor(
    path: string,
    private readonly encode?: (s: string) => Buffer,
    private readonly chunk = 1 << 20,
  ) {
    this.stream = createWriteStream(path);
    if (!encode) this.buf = Buffer.allocUnsafe(chunk);
  }
  write(s: string): void {
    const buf = this.buf;
    if (!buf) {
      this.parts.push(s);
      this.size += s.length;
      return;
    }
    // At most 3 UTF-8 bytes per UTF-16 unit; a text longer than what is left goes to a new chunk.
    if (this.pos + s.length * 3 > buf.length) {
      if (this.pos > 0) this.detach();
      if (s.length * 3 > this.chunk) {
        this.queue(Buffer.from(s, 'utf8'));
        return;
      }
    }
    this.pos += (this.buf as Buffer).write(s, this.pos, 'utf8');
  }
  get pending(): number {
    return this.buf ? this.pos : this.size;
  }
  async flush(): Promise<void> {
    if (this.buf) {
      if (this.pos > 0) this.detach();
    } else if (this.size) {
      const buf = (this.encode as (s: string) => Buffer)(this.parts.join(''));
      this.parts = [];
      this.size = 0;
      this.queue(buf);
    }
    if (this.stream.writableNeedDrain) await once(this.stream, 'drain');
  }
  /** Between records: write what is due and wait while the stream asks for it. */
  async maybeFlush(): Promise<void> {
    if (this.buf) {
      if (this.stream.writableNeedDrain) await once(this.stream, 'drain');
    } else if (this.size >= this.chunk) await this.flush();
  }
  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }
  /** Hand the filled part of the chunk to the stream and start a fresh chunk. */
  private detach(): void {
    this.queue((this.buf as Buffer).subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(this.chunk);
    this.pos = 0;
  }
  private queue(b: Buffer): void {
    this.bytes += b.length;
    this.stream.write(b);
  }
}

/** Quote a CSV field (RFC 4180) when it holds the delimiter, a quote, CR/LF or must keep padding. */
export function csvField(v: string, delim: string, force = false): string {
  if (force || v.includes(delim) || v.includes('"') || v.includes('\n') || v.includes('\r'))
    return `"${v.replace(/"/g, '""')}"`;
  return v;
}

/** Cache of date strings by day number. */
function dateCache(fmt: (d: Date) => string): (day: number) => string {
  const cache = new Map<number, string>();
  return (day) => {
    let s = cache.get(day);
    if (s === undefined) {
      s = fmt(new Date(day * 86400000));
      cache.set(day, s);
    }
    return s;
  };
}
const isoOf = dateCache((d) => d.toISOString().slice(0, 10));
const p2 = (n: number): string => String(n).padStart(2, '0');
const dmyOf = dateCache((d) => `${p2(d.getUTCDate())}-${p2(d.getUTCMonth() + 1)}-${d.getUTCFullYear()}`);
const dmyShortOf = dateCache((d) => `${d.getUTCDate()}-${d.getUTCMonth() + 1}-${d.getUTCFullYear()}`);
const TIMES: string[] = Array.from({ length: 24 * 60 }, (_, m) => `${p2(Math.floor(m / 60))}:${p2(m % 60)}`);
const MINUTES: string[] = Array.from({ length: 721 }, (_, m) => String(m));

/** Canonical INPUT.md shape: comma, UTF-8 without BOM, LF, ISO dates, exact column names. */
export function canonicalSink(p: InstitutionProfile, enr: BufferedWriter, att: BufferedWriter): InstitutionSink {
  const ecols = [
    'student_id',
    'enrolment_id',
    ...(p.hasBirthDate ? ['birth_date'] : []),
    'crebo',
    'niveau',
    'leerweg',
    'start_date',
    'end_date',
    'exit_reason',
  ];
  enr.write(`${ecols.join(',')}\n`);
  att.write(p.hasStartTime ? 'enrolment_id,date,minutes,status,start_time\n' : 'enrolment_id,date,minutes,status\n');
  const st = p.hasStartTime;
  return {
    enrolment(e: EnrolmentRec) {
      const f = [
        e.studentId,
        e.enrolmentId,
        ...(p.hasBirthDate ? [e.birthDate] : []),
        e.crebo,
        String(e.niveau),
        e.leerweg,
        isoOf(e.start),
        e.end === null ? '' : isoOf(e.end),
        e.exitReason,
      ];
      enr.write(`${f.map((x) => csvField(x, ',')).join(',')}\n`);
    },
    lesson(eid, day, minutes, status, startMin) {
      att.write(
        st
          ? `${eid},${isoOf(day)},${MINUTES[minutes]},${STATUSES[status]},${TIMES[startMin]}\n`
          : `${eid},${isoOf(day)},${MINUTES[minutes]},${STATUSES[status]}\n`,
      );
    },
    async drain() {
      await enr.maybeFlush();
      await att.maybeFlush();
    },
  };
}

const FIRST = [
  'Zoë',
  'Ömer',
  'Inês',
  'Noë',
  'Chloë',
  'Anaïs',
  'Björn',
  'Fenna',
  'Sem',
  'Daan',
  'Mohammed',
  'Yusuf',
  'Lotte',
  'Iris',
  'Eline',
  'Luuk',
  'Thijs',
  'Sanne',
  'Gijs',
  'Noah',
  'Saïd',
  'François',
];
const LAST = [
  'Çelik',
  'Bakker',
  'de Vries',
  'Peeters',
  'Yilmaz',
  'Öztürk',
  'Müller',
  'Jansen',
  'Visser',
  'Smit',
  'Mulder',
  'de Groot',
  'Bos',
  'Ramdin',
  'El Idrissi',
  'van den Berg',
];
const REMARKS = [
  '',
  '',
  '',
  '',
  '',
  '',
  'mentor: J. Smit; akkoord',
  'zie dossier; "BBL-contract" loopt\nnog niet',
  'verlof aangevraagd "zorg"',
];
const VAK = ['REK', 'NED', 'ENG', 'BV', 'LOB', 'Praktijk; werkplaats', 'Keuzedeel "ondernemen"', 'SLB', 'Burgerschap'];

/** The header lines of the messy files: enrolments with extra columns, attendance with a BOM. */
function writeMessyHeaders(p: InstitutionProfile, enr: BufferedWriter, att: BufferedWriter): void {
  const hdr = [
    'Student_ID',
    'Deelnemernaam',
    'Enrolment_ID',
    ' Crebo ',
    'Opleidingsnaam',
    'NIVEAU',
    'Leerweg',
    'Start_Date',
    'End_Date',
    'Exit_Reason',
    ...(p.hasBirthDate ? ['Birth_Date'] : []),
    'Opmerking',
  ];
  enr.write(`${hdr.join(';')}\r\n`);
  att.write(
    '\ufeff' +
      (p.hasStartTime ? 'Status;Date;Enrolment_ID;Minutes;Start_Time;Vak' : 'Status;Date;Enrolment_ID;Minutes;Vak') +
      '\r\n',
  );
}

/**
 * SIS-export shape (like sample/inst-1-dirty): enrolments in Windows-1252 with `;`, CRLF,
 * DD-MM-YYYY, mixed-case headers, padded values, extra columns (deelnemernaam, opleidingsnaam,
 * opmerking); attendance in UTF-8 with BOM, `;`, CRLF, D-M-YYYY, reordered columns and `vak`.
 * The messy decoration uses its own PRNG, so the records equal the canonical twin's.
 */
export function messySink(
  p: InstitutionProfile,
  enr: BufferedWriter,
  att: BufferedWriter,
  rng: Rng,
  codebook: ReadonlyMap<string, CodebookEntry>,
): InstitutionSink {
  writeMessyHeaders(p, enr, att);
  const names = new Map<string, [string, string]>();
  const pad = (v: string): string => {
    const r = rng.next();
    if (r < 0.04) return ` ${v}`;
    if (r < 0.07) return `${v} `;
    return v;
  };
  const st = p.hasStartTime;
  // Per enrolment: a padded spelling of the id used on some rows.
  let lastEid = '';
  let paddedEid = '';
  return {
    enrolment(e: EnrolmentRec) {
      let nm = names.get(e.studentId);
      if (!nm) {
        const first = rng.pick(FIRST),
          last = rng.pick(LAST);
        nm = [rng.chance(0.1) ? `${last}; ${first}` : `${first} ${last}`, rng.pick(REMARKS)];
        names.set(e.studentId, nm);
      }
      const eidRaw = rng.chance(0.03) ? `" ${e.enrolmentId} "` : csvField(pad(e.enrolmentId), ';');
      const f = [
        csvField(pad(e.studentId), ';'),
        csvField(nm[0], ';'),
        eidRaw,
        csvField(rng.chance(0.05) ? ` ${e.crebo} ` : e.crebo, ';'),
        csvField(codebook.get(e.crebo)?.name ?? e.name, ';'),
        String(e.niveau),
        rng.chance(0.05) ? `${e.leerweg} ` : e.leerweg,
        dmyOf(e.start),
        e.end === null ? '' : dmyOf(e.end),
        csvField(e.exitReason, ';'),
        ...(p.hasBirthDate ? [e.birthDate ? dmyOf(Math.round(Date.parse(e.birthDate) / 86400000)) : ''] : []),
        csvField(nm[1], ';'),
      ];
      enr.write(`${f.join(';')}\r\n`);
    },
    lesson(eid, day, minutes, status, startMin) {
      if (eid !== lastEid) {
        lastEid = eid;
        paddedEid = ` ${eid}`;
      }
      const r = rng.next();
      const id = r < 0.02 ? paddedEid : eid;
      const s = r > 0.985 ? `${STATUSES[status]} ` : itemAt(STATUSES, status);
      const vak = itemAt(VAK, (startMin + day) % VAK.length);
      const v = vak.includes(';') || vak.includes('"') ? csvField(vak, ';', true) : vak;
      att.write(
        st
          ? `${s};${dmyShortOf(day)};${id};${MINUTES[minutes]};${TIMES[startMin]};${v}\r\n`
          : `${s};${dmyShortOf(day)};${id};${MINUTES[minutes]};${v}\r\n`,
      );
    },
    async drain() {
      await enr.maybeFlush();
      await att.maybeFlush();
    },
  };
}

/** Windows-1252 encoder for the messy enrolments file. */
export const win1252 = (s: string): Buffer => iconv.encode(s, 'win1252');
