import { lateProtectionStatement, protectionStatement } from './protection.js';
import type { RoundManifest, Thresholds } from '../../schemas/manifest.js';
import { CIPHERTEXT_BYTES } from '../../shared/crypto/he-params.js';
import { fingerprint } from '../../shared/crypto/identity.js';
import { CELL_SLOTS, GROUP_SLOTS } from '../../shared/metrics/slots.js';
import type { NodeConfig } from '../client/config.js';
import { codebookMembership } from '../vector/analyse.js';
import type { NodeDb } from '../store/node-db.js';
import { evaluateApprovals, storedApprovals } from './approval.js';
import { appendAudit } from './log.js';
import { computeLateVector, computeRoundVector, lateKind, type LateKind, type RoundVector } from './round-vector.js';
import { fetchManifestAudited, logRefusals, openAuditedSession, type AuditedClientOptions } from './session.js';
import { cellKeyParts, groupText, slotText } from './slot-text.js';
import { getAt, itemAt } from '../../shared/arrays/checked-index.js';
import { escapeHtml as esc } from '../../shared/pages/html.js';

/** One value of the vector, with its METRICS.md slot name and a Dutch explanation. */
export interface PreviewValue {
  slot: string;
  value: number;
  uitleg: string;
}

/** One non-zero cell row. */
export interface PreviewCell {
  key: string;
  crebo: string;
  name: string;
  niveau: number;
  leerweg: string;
  /** Distinct students whose enrolments in this cell are counted in block A. */
  students: number;
  /** Starters (each a student) counted in block B of this cell. */
  starters: number;
  /** Non-zero slots; every slot not listed is 0. */
  values: PreviewValue[];
}

/** The preview a privacy officer reads before approving (issue 6, part 1). */
export interface Preview {
  type: 'sectorbench.preview';
  institution_id: string;
  round_id: string;
  studiejaar: string;
  deadline: string;
  coordinator_url: string;
  coordinator_fingerprint: string;
  key_holder_fingerprint: string;
  metric_spec: string;
  slot_layout: string;
  he_params: string;
  codebook: { digest: string; programmes: number; cells: number; groups: number };
  thresholds: Thresholds;
  /**
   * The participant list the key holder endorsed (issue 11): the institutions whose
   * contributions the sector sum can hold. The manifest is refused unless the key holder's
   * signature covers exactly this list.
   */
  participants: { institution_id: string; name: string; brin: string; fingerprint: string }[];
  /** The digest the approver signs (shared/protocol/vector-digest.ts `vectorDigest`). */
  vector_digest: string;
  slots_total: number;
  slots_nonzero: number;
  ciphertexts: number;
  /** Exactly the size of the contribution POST body. */
  wire_bytes: number;
  envelope_bytes: number;
  cells: PreviewCell[];
  zero_cells: number;
  groups: { key: string; label: string; values: PreviewValue[] }[];
  data_quality: {
    imported_at: string;
    enrolments_file_sha256: string;
    attendance_file_sha256: string;
    enrolments: number;
    enrolments_not_in_codebook: number;
    observations: number;
    observations_in_year: number;
    observations_outside_enrolment: number;
    rows_skipped: number;
    problems_total: number;
  };
  approvals: {
    required: number;
    approvers: { name: string; fingerprint: string }[];
    valid: { name: string; approved_at: string }[];
  };
  /** Who would have to work together to see this institution's figures (node/audit/protection.ts). */
  protection: { masked: boolean; threshold: number | null; text_nl: string };
  /**
   * A late or corrected contribution to a released round (`preview --late`), sent unmasked;
   * `difference`: a correction of a masked round's contribution, sent as new − old, and the
   * cell and group values above are that difference (node/audit/round-vector.ts `LateKind`).
   */
  late?: LateKind;
}

const int = (x: number) => x.toLocaleString('nl-NL');

function values(names: readonly string[], row: readonly number[]): PreviewValue[] {
  const out: PreviewValue[] = [];
  names.forEach((slot, i) => {
    const v = row[i] ?? 0;
    if (v !== 0) out.push({ slot, value: v, uitleg: slotText(slot) });
  });
  return out;
}

/** Build the preview from a verified manifest and the node's dataset (no network). */
export function buildPreview(
  db: NodeDb,
  config: NodeConfig,
  manifest: RoundManifest,
  rv: RoundVector,
  late?: LateKind,
): Preview {
  const { codebook, computed } = rv;
  const { cells, groups } = previewFigures(rv);
  const meta = computed.dataset.meta;
  const check = evaluateApprovals(storedApprovals(db, manifest.round_id), config, {
    roundId: manifest.round_id,
    vectorDigest: rv.digest,
    late: late !== undefined,
  });
  const protection = late ? lateProtectionStatement(manifest, late) : protectionStatement(manifest);
  return {
    protection: {
      masked: protection.masked,
      threshold: late ? null : (manifest.secagg?.threshold ?? null),
      text_nl: protection.nl,
    },
    ...(late ? { late } : {}),
    type: 'sectorbench.preview',
    institution_id: config.institution_id,
    round_id: manifest.round_id,
    studiejaar: manifest.studiejaar,
    deadline: manifest.deadline,
    coordinator_url: config.coordinator_url,
    coordinator_fingerprint: config.pinned.coordinator.fingerprint,
    key_holder_fingerprint: config.pinned.key_holder.fingerprint,
    metric_spec: manifest.metric_spec,
    slot_layout: manifest.slot_layout,
    he_params: manifest.he_params,
    codebook: {
      digest: manifest.codebook.digest,
      programmes: codebook.entries.length,
      cells: codebook.cellKeys.length,
      groups: codebook.groupKeys.length,
    },
    thresholds: manifest.thresholds,
    participants: manifest.participants.map((p) => ({
      institution_id: p.institution_id,
      name: p.name,
      brin: p.brin,
      fingerprint: fingerprint(new Uint8Array(Buffer.from(p.ed25519_public_key, 'base64'))),
    })),
    vector_digest: rv.digest,
    slots_total: rv.slots.length,
    slots_nonzero: rv.slots.reduce((n, v) => (v !== 0n ? n + 1 : n), 0),
    ciphertexts: rv.ciphertexts,
    wire_bytes: rv.wireBytes,
    envelope_bytes: rv.wireBytes - 12 - rv.ciphertexts * CIPHERTEXT_BYTES,
    cells,
    zero_cells: codebook.cellKeys.length - cells.length,
    groups,
    data_quality: {
      imported_at: meta.importedAt,
      enrolments_file_sha256: meta.enrolmentsSha256,
      attendance_file_sha256: meta.attendanceSha256,
      enrolments: computed.dataQuality.enrolments,
      enrolments_not_in_codebook: computed.dataQuality.enrolments_excluded,
      observations: computed.dataQuality.observations,
      observations_in_year: computed.dataQuality.observations_in_year,
      observations_outside_enrolment: computed.dataQuality.observations_outside_enrolment,
      rows_skipped: meta.rowsSkipped,
      problems_total: meta.problemsTotal,
    },
    approvals: {
      required: config.approvals_required,
      approvers: config.approvers.map((a) => ({ name: a.name, fingerprint: a.fingerprint })),
      valid: check.valid.map((a) => ({ name: a.approver_name, approved_at: a.approved_at })),
    },
  };
}

/**
 * The non-zero figures of the vector per cell (with the number of distinct students counted in
 * it, shown to the officer but never sent) and per group.
 */
function previewFigures(rv: RoundVector): { cells: PreviewCell[]; groups: Preview['groups'] } {
  const { codebook, computed } = rv;
  const t = computed.dataset.enrolments;
  const { cell } = codebookMembership(t, codebook);
  const studentsPerCell = codebook.cellKeys.map(() => new Set<string>());
  for (const [i, studentId] of t.studentId.entries()) {
    const c = getAt(cell, i);
    if (c >= 0 && getAt(computed.sums.nCounted, i) > 0) studentsPerCell[c]?.add(studentId);
  }
  const cells: PreviewCell[] = [];
  // A difference shows, per cell and group, exactly the change that leaves (new − old, signed).
  const rowsOf = differenceRows(rv);
  rowsOf.cells.forEach((row, i) => {
    if (!row.some((x) => x !== 0)) return;
    const key = itemAt(codebook.cellKeys, i);
    const { crebo, niveau, leerweg } = cellKeyParts(key);
    cells.push({
      key,
      crebo,
      name: codebook.byCrebo.get(crebo)?.name ?? crebo,
      niveau: Number(niveau),
      leerweg,
      students: studentsPerCell[i]?.size ?? 0,
      starters: row[CELL_SLOTS.indexOf('b_starters')] ?? 0,
      values: values(CELL_SLOTS, row),
    });
  });
  const groups = rowsOf.groups
    .map((row, j) => {
      const key = itemAt(codebook.groupKeys, j);
      return { key, label: groupText(key), values: values(GROUP_SLOTS, row) };
    })
    .filter((g) => g.values.length > 0);
  return { cells, groups };
}

/** Cell and group rows of what is sent: the vector, or for a `difference` new − old (signed). */
function differenceRows(rv: RoundVector): { cells: number[][]; groups: number[][] } {
  const v = rv.computed.vector;
  const d = rv.difference;
  if (!d) return { cells: v.cells, groups: v.groups };
  let k = 0;
  const minus = (row: number[]) => row.map((x) => x - Number(d.previous[k++] as bigint));
  const cells = v.cells.map(minus);
  const groups = v.groups.map(minus);
  return { cells, groups };
}

/** What never leaves the node, in the preview's words. */
export const NEVER_LEAVES_NL: readonly string[] = [
  'studentnummers, inschrijvingsnummers, geboortedata en andere gegevens per student of per les;',
  'de bestanden zelf (alleen hun SHA-256 staat in dit overzicht, en alleen lokaal);',
  'het datakwaliteitsoverzicht en de lijst met opleidingen buiten het codeboek (excluded_crebos);',
  'deze cijfers onversleuteld: ze gaan alleen versleuteld (BFV) de deur uit; wie zou moeten samenwerken om ze te zien, staat hieronder onder "Bescherming";',
  'het geheime zaadje (seed) van de versleuteling: dat staat alleen in het lokale auditlog.',
];

/** Plain-text rendering (Dutch). */
export function renderPreviewText(p: Preview): string {
  const L: string[] = [];
  whatLeavesText(L, p);
  participantsText(L, p);
  thresholdsText(L, p);
  figuresText(L, p);
  approvalText(L, p);
  return `${L.join('\n')}\n`;
}

/** Header, what is sent to whom, and what never leaves. */
function whatLeavesText(L: string[], p: Preview): void {
  L.push(`WAT DE INSTELLING VERLAAT — voorbeeld voor ronde ${p.round_id} (studiejaar ${p.studiejaar})`);
  L.push(`Instelling ${p.institution_id}. Deadline ${p.deadline}.`);
  L.push('');
  L.push('Wat wordt verstuurd, en aan wie');
  L.push(
    `- Eén bijdrage van precies ${int(p.wire_bytes)} bytes aan de coördinator ${p.coordinator_url} (vingerafdruk ${p.coordinator_fingerprint}):`,
  );
  L.push(
    `  een ondertekende envelop van ${int(p.envelope_bytes)} bytes (ronde, instelling, versies,` +
      ` digests; geen cijfers) en ${p.ciphertexts} versleutelde blokken van ${int(CIPHERTEXT_BYTES)} ` +
      'bytes, plus 12 bytes opmaak.',
  );
  L.push(
    `- De versleutelde blokken bevatten precies de ${int(p.slots_total)} getallen hieronder (${int(p.slots_nonzero)} ` +
      `niet nul), versleuteld met de rondesleutel van de sleutelhouder (vingerafdruk ${p.key_holder_fingerprint}).`,
  );
  if (p.late === 'difference')
    L.push(
      '- Dit is een CORRECTIE als VERSCHIL: de getallen hieronder zijn de gecorrigeerde cijfers min de ' +
        'cijfers die deze instelling in de gemaskeerde ronde verstuurde (een negatief verschil gaat als ' +
        'klaartekstmodulus min het verschil, zodat het in de optelsom precies aftrekt). Alleen dit verschil ' +
        'vertrekt, niet gemaskeerd.',
    );
  L.push(
    '- Verder alleen de ondertekende verzoekkoppen (instelling, tijdstip, nonce, digest van de ' +
      'inhoud, kop van het auditlog, handtekening) bij het ophalen van het rondedocument en de sleutel.',
  );
  L.push('');
  L.push('Wat nooit vertrekt');
  for (const x of NEVER_LEAVES_NL) L.push(`- ${x}`);
  L.push('');
}

/** The signed participant list, what collusion can still do, and the protection of this round. */
function participantsText(L: string[], p: Preview): void {
  L.push(
    `Deelnemers (${p.participants.length}; lijst ondertekend door de sleutelhouder, die elke instelling ` +
      'zelf heeft ingeschreven — de coördinator kan er geen aan toevoegen)',
  );
  for (const x of p.participants)
    L.push(`- ${x.name} (BRIN ${x.brin}, id ${x.institution_id}, sleutelvingerafdruk ${x.fingerprint})`);
  L.push(
    '  Controleer deze lijst: de optelsom bevat alleen bijdragen van deze instellingen. Wat blijft ' +
      'kunnen: echte deelnemers die samenspannen kunnen hun eigen cijfers van de gepubliceerde sectorcijfers ' +
      'aftrekken; waar naast hen maar één andere instelling bijdroeg, kennen zij dan haar cijfers. ' +
      'De openbaarmakingscontrole beschermt tegen één instelling die haar eigen cijfers kent, niet ' +
      'tegen meerdere die samenspannen, met twee grenzen: wie een telling van de hele sector (de totaalrij) ' +
      'helemaal zelf heeft, kan afleiden dat de andere instellingen daar 0 hebben; en wat ' +
      'een instelling weet van haar eigen deel van een cel met meer instellingen, wordt niet meegenomen.',
  );
  L.push('Bescherming');
  L.push(`- ${p.protection.text_nl}`);
  L.push('');
}

/** The thresholds the key holder signed, and the versions of everything the figures depend on. */
function thresholdsText(L: string[], p: Preview): void {
  L.push('Drempels die de sleutelhouder toepast (ondertekend door de sleutelhouder)');
  L.push(
    `- een cijfer wordt alleen gepubliceerd met bijdragen van minstens ${p.thresholds.min_institutions} ` +
      `instellingen en een populatie van minstens ${p.thresholds.min_population};`,
  );
  L.push(
    `- niet als één instelling meer dan ${Math.round(p.thresholds.dominance_share * 100)}% van de populatie kan hebben;`,
  );
  L.push(
    `- verdelingen van instellingen alleen bij minstens ${p.thresholds.min_institutions_distribution} instellingen.`,
  );
  L.push('');
  L.push(
    `Versies: metriekspecificatie ${p.metric_spec}, indeling ${p.slot_layout}, versleuteling ${p.he_params};` +
      ` codeboek ${p.codebook.digest} (${p.codebook.programmes} opleidingen, ${p.codebook.cells} ` +
      `cellen, ${p.codebook.groups} groepen).`,
  );
  L.push('');
}

/** Data quality (stays local), then every non-zero figure per cell and per group. */
function figuresText(L: string[], p: Preview): void {
  const q = p.data_quality;
  L.push('Datakwaliteit (blijft lokaal)');
  L.push(
    `- geïmporteerd ${q.imported_at}; ${int(q.enrolments)} inschrijvingen (${int(q.enrolments_not_in_codebook)} ` +
      `buiten het codeboek), ${int(q.observations)} registraties (${int(q.observations_in_year)} ` +
      `in het studiejaar, ${int(q.observations_outside_enrolment)} buiten de inschrijfperiode);`,
  );
  L.push(`- ${int(q.rows_skipped)} regel(s) overgeslagen, ${int(q.problems_total)} probleem/problemen bij de import.`);
  L.push('');
  L.push(
    p.late === 'difference'
      ? `Het verschil per cel, nieuw min eerder verstuurd (${p.cells.length} cellen met een verschil; ` +
          `${p.zero_cells} cellen hebben geen verschil en gaan als nullen mee)`
      : `De cijfers per cel (${p.cells.length} cellen met gegevens; ${p.zero_cells} cellen zijn geheel 0 en gaan als nullen mee)`,
  );
  for (const c of p.cells) {
    L.push('');
    L.push(
      `${c.key} — ${c.name}, niveau ${c.niveau}, ${c.leerweg}: ${int(c.students)} student(en) in blok A, ${int(c.starters)} starter(s)`,
    );
    for (const v of c.values) L.push(`  ${v.slot.padEnd(20)} ${int(v.value).padStart(14)}  ${v.uitleg}`);
  }
  L.push('');
  L.push('Groepen (alleen blok C per groep: telt instellingen, voor de openbaarmakingscontrole)');
  for (const g of p.groups) {
    L.push(`${g.key} (${g.label})`);
    for (const v of g.values) L.push(`  ${v.slot.padEnd(20)} ${int(v.value).padStart(14)}  ${v.uitleg}`);
  }
  L.push('');
}

/** The digest to approve, who may approve it, who did, and the command to approve with. */
function approvalText(L: string[], p: Preview): void {
  L.push('Goedkeuring');
  L.push(`- Digest van precies deze getallen (dit ondertekent u): ${p.vector_digest}`);
  const approvers = p.approvals.approvers.map((a) => `${a.name} (${a.fingerprint})`).join(', ');
  L.push(`- Nodig: ${p.approvals.required} goedkeuring(en) van: ${approvers || '(nog geen goedkeurders ingesteld)'}`);
  L.push(
    `- Aanwezig voor deze getallen: ${p.approvals.valid.map((a) => `${a.name} op ${a.approved_at}`).join(', ') || 'geen'}`,
  );
  L.push(
    `- Goedkeuren: sectorbench node approve --home <map> --round ${p.round_id}${p.late ? ' --late' : ''} --key <uw sleutelbestand> --digest ${p.vector_digest}`,
  );
  L.push('');
  L.push(
    'Niets anders verlaat de instelling: de node praat alleen met de ingestelde coördinator, ' +
      'en elke verzonden byte staat in het auditlog.',
  );
}

/** HTML rendering (Dutch), self-contained. */
export function renderPreviewHtml(p: Preview): string {
  const rows = (vs: PreviewValue[]) =>
    vs
      .map(
        (v) =>
          `<tr><td><code>${esc(v.slot)}</code></td><td class="n">${int(v.value)}</td><td>${esc(v.uitleg)}</td></tr>`,
      )
      .join('');
  // The text up to the figures per cell (the page shows those as tables); split always gives a first part.
  const [text = ''] = renderPreviewText(p).split(/\n\n(?:De cijfers|Het verschil) per cel/);
  return (
    `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Wat de instelling verlaat — ${esc(p.round_id)}</title>` +
    `
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}td.n{text-align:right;` +
    'font-variant-numeric:tabular-nums}table{border-collapse:collapse}td,th{border-bottom:1px solid ' +
    `#ddd;padding:.2rem .5rem}pre{white-space:pre-wrap}code{font-size:.9em}</style></head>
<body><h1>Wat de instelling verlaat</h1>
<pre>${esc(text)}</pre>
<h2>Digest om goed te keuren</h2><p><code>${esc(p.vector_digest)}</code> — ${int(p.wire_bytes)} ` +
    `bytes</p>
<h2>${p.late === 'difference' ? 'Verschil per cel (nieuw min eerder verstuurd)' : 'Cijfers per cel'}</h2>
${p.cells
  .map(
    (c) =>
      `<h3>${esc(c.key)} — ${esc(c.name)}</h3><p>${int(c.students)} student(en) in blok A, ${int(c.starters)} ` +
      'starter(s). Niet genoemde vakjes zijn 0.</p><table><tr><th>vakje</th><th>waarde</th><th>uitleg</th>' +
      `</tr>${rows(c.values)}</table>`,
  )
  .join('\n')}
<p>${p.zero_cells} cellen zijn geheel 0.</p>
<h2>Groepen</h2>
${p.groups.map((g) => `<h3>${esc(g.key)} (${esc(g.label)})</h3><table>${rows(g.values)}</table>`).join('\n')}
<p><strong>Niets anders verlaat de instelling.</strong></p>
</body></html>
`
  );
}

/** Options of {@link previewRound}. */
export interface PreviewOptions extends AuditedClientOptions {
  roundId: string;
  format?: 'text' | 'html' | 'json';
  /**
   * Preview a late or corrected contribution to a released round (`submit --late`): its
   * protection is stated as it is.
   */
  late?: boolean;
}

/**
 * `sectorbench node preview`: fetch and verify the round's manifest, compute the vector
 * exactly as `submit` will, and show what will leave. Logged (`preview` entry with the digest
 * and byte count shown).
 */
export async function previewRound(o: PreviewOptions): Promise<{ preview: Preview; rendered: string }> {
  const s = await openAuditedSession(o);
  try {
    const manifest = await fetchManifestAudited(s, o.roundId);
    const late = o.late ? await logRefusals(s, 'preview', o.roundId, () => lateKind(s.db, manifest)) : undefined;
    const rv = await logRefusals(s, 'preview', o.roundId, () =>
      late
        ? computeLateVector(s.db, o.home, manifest, s.config.institution_id, late)
        : computeRoundVector(s.db, o.home, manifest, s.config.institution_id),
    );
    const preview = buildPreview(s.db, s.config, manifest, rv, late);
    const format = o.format ?? 'text';
    appendAudit(s.db, s.identity, {
      kind: 'preview',
      roundId: o.roundId,
      at: s.now(),
      payload: {
        vector_digest: rv.digest,
        wire_bytes: rv.wireBytes,
        ciphertexts: rv.ciphertexts,
        slots_nonzero: preview.slots_nonzero,
        cells_nonzero: preview.cells.length,
        format,
        ...(late ? { late } : {}),
        ...(rv.difference ? { corrects_envelope_digest: rv.difference.previousEnvelopeDigest } : {}),
      },
    });
    const rendered =
      format === 'json'
        ? `${JSON.stringify(preview, null, 2)}\n`
        : format === 'html'
          ? renderPreviewHtml(preview)
          : renderPreviewText(preview);
    return { preview, rendered };
  } finally {
    s.close();
  }
}
