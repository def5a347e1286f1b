/**
 * The privacy officer's view of the audit log (issue 14, part 3): per round exactly which
 * figures left, in the layout of the preview (per cell and group: slot, value, explanation),
 * with the approval(s) and the coordinator's receipt beside them; every time in
 * Europe/Amsterdam. Built from the verified, hash-chained log only: what the log says was
 * encrypted and sent, not a recomputation.
 */
import { CELL_SLOTS, GROUP_SLOTS } from '../../shared/metrics/slots.js';
import { z } from 'zod';
import { SbError } from '../../shared/errors/sb-error.js';
import { nlInt } from '../../shared/pages/format-nl.js';
import { escapeHtml as esc } from '../../shared/pages/html.js';
import { htmlPage, scrollTable } from '../../shared/pages/page.js';
import { amsterdamTime } from '../../shared/pages/time-nl.js';
import { readNodeConfig } from '../client/config.js';
import { openNodeDb } from '../store/node-db.js';
import { type AuditEntry, readAudit } from './log.js';
import { describeEntry, KIND_NL } from './render.js';
import { storedManifest } from './round-vector.js';
import { cellKeyParts, groupText, slotText } from './slot-text.js';
import { verifyAuditLog, type VerifyResult } from './verify.js';
import { type Clock, systemClock } from '../../shared/time/clock.js';

/** Slot name → value, as `vectorToJson` writes a cell or group (shared/metrics/vector.ts). */
const SlotValues = z.record(z.string(), z.number());

/** The fields of the logged payloads this view shows (node/audit/README.md); others are ignored. */
const ApprovalPayload = z.object({
  approval: z.object({ approver_name: z.string(), approved_at: z.string(), vector_digest: z.string() }),
  approver_fingerprint: z.string(),
});
const EnvelopePayload = z.object({
  envelope_digest: z.string(),
  vector_digest: z.string(),
  vector: z.object({ cells: z.record(z.string(), SlotValues), groups: z.record(z.string(), SlotValues) }),
  wire_bytes: z.number(),
  ciphertext_digests: z.array(z.string()),
});
type EnvelopePayload = z.infer<typeof EnvelopePayload>;
const ReceiptPayload = z.object({
  envelope_digest: z.string(),
  receipt: z.object({ sequence: z.number(), received_at: z.string(), wire_bytes: z.number() }),
});

/**
 * The payload of a verified log entry, parsed with the schema of its kind.
 *
 * @throws SbError `SB_ERR_AUDIT_TAMPERED` when it lacks a field its kind always has.
 */
function payloadOf<T>(e: AuditEntry, schema: z.ZodType<T>): T {
  const p = schema.safeParse(e.payload);
  if (!p.success)
    throw new SbError(
      'SB_ERR_AUDIT_TAMPERED',
      `audit log entry ${e.seq} (${e.kind}) lacks the fields of its kind; run \`sectorbench node audit verify\`.`,
      { seq: e.seq, kind: e.kind },
    );
  return p.data;
}

/** An entry in one line, with its ISO timestamps (UTC) said in Europe/Amsterdam. */
function describe(e: AuditEntry): string {
  return describeEntry(e).replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)/g, (m) =>
    amsterdamTime(m),
  );
}

function valuesTable(caption: string, order: readonly string[], row: Record<string, number>): string {
  const body = order
    .filter((s) => (row[s] ?? 0) !== 0)
    .map(
      (s) =>
        `<tr><th scope="row"><code>${esc(s)}</code></th><td class="num">${nlInt(row[s] ?? 0)}</td><td>${esc(slotText(s))}</td></tr>`,
    )
    .join('');
  return scrollTable(
    caption,
    '<tr><th scope="col">Vakje</th><th scope="col" class="num">Waarde</th><th scope="col">Uitleg</th></tr>',
    body,
  );
}

/** Whether an approval covers the digest that was encrypted: said in words and marked. */
const MATCH_HTML = '<span class="flag">✓ voor precies deze cijfers</span> (digest gelijk)';
const MISMATCH_HTML = '<span class="flag flag-hi">✗ voor andere cijfers</span> (digest verschilt)';

function approvalsHtml(approvals: AuditEntry[], env: EnvelopePayload): string {
  if (approvals.length === 0) return '<p class="sup">Geen goedkeuring in het log.</p>';
  return `<ul>${approvals
    .map((e) => {
      const p = payloadOf(e, ApprovalPayload);
      const match = p.approval.vector_digest === env.vector_digest;
      return (
        `<li><strong>${esc(p.approval.approver_name)}</strong> (vingerafdruk <code>${esc(p.approver_fingerprint)}</code>` +
        `) keurde goed op ${esc(amsterdamTime(p.approval.approved_at))}; vastgelegd ${esc(amsterdamTime(e.at))}. ` +
        `${match ? MATCH_HTML : MISMATCH_HTML}.</li>`
      );
    })
    .join('')}</ul>`;
}

function receiptHtml(receipts: AuditEntry[], env: EnvelopePayload): string {
  const r = receipts.find((e) => payloadOf(e, ReceiptPayload).envelope_digest === env.envelope_digest);
  if (!r) return '<p class="sup">Geen ontvangstbewijs van de coördinator voor deze bijdrage in het log.</p>';
  const p = payloadOf(r, ReceiptPayload);
  return (
    `<p>Ontvangen door de coördinator op ${esc(amsterdamTime(p.receipt.received_at))}, ${nlInt(p.receipt.wire_bytes)} ` +
    `bytes, volgnummer ${nlInt(p.receipt.sequence)}; ondertekend ontvangstbewijs vastgelegd ${esc(amsterdamTime(r.at))}. ` +
    '<span class="flag">✓ hoort bij deze envelop</span> (envelopdigest gelijk).</p>'
  );
}

function roundSection(roundId: string, entries: AuditEntry[], names: Map<string, string>, cellOrder: string[]): string {
  const envelopes = entries.filter((e) => e.kind === 'envelope');
  const approvals = entries.filter((e) => e.kind === 'approval');
  const receipts = entries.filter((e) => e.kind === 'receipt');
  const parts: string[] = [
    `<section aria-labelledby="r-${esc(roundId)}"><h2 id="r-${esc(roundId)}">Ronde ${esc(roundId)}</h2>`,
  ];
  if (envelopes.length === 0)
    parts.push('<p>In deze ronde is niets verstuurd: er staat geen versleutelde bijdrage in het log.</p>');
  envelopes.forEach((e, i) => {
    const p = payloadOf(e, EnvelopePayload);
    const v = p.vector;
    const cells = Object.entries(v.cells).sort(([a], [b]) => cellOrder.indexOf(a) - cellOrder.indexOf(b));
    const groups = Object.entries(v.groups);
    parts.push(
      `<h3>Bijdrage ${envelopes.length > 1 ? `${i + 1} ` : ''}van ${esc(amsterdamTime(e.at))}</h3>` +
        `
<div class="pair">
<div class="figures">
<p>Deze getallen zijn versleuteld (BFV) en in één envelop van ${nlInt(p.wire_bytes)} bytes ` +
        `(${nlInt(p.ciphertext_digests.length)} versleutelde blokken) verstuurd. Digest van precies ` +
        `deze getallen: <code>${esc(p.vector_digest)}</code>. Niet genoemde vakjes en cellen zijn 0.</p>` +
        `
${cells
  .map(([k, values]) => {
    const { crebo, niveau, leerweg } = cellKeyParts(k);
    return (
      `<h4>${esc(k)} — ${esc(names.get(crebo) ?? crebo)}, niveau ${esc(niveau)},` +
      ` ${esc(leerweg)}</h4>${valuesTable(`Cel ${k}`, CELL_SLOTS, values)}`
    );
  })
  .join('\n')}
<h4>Groepen (alleen blok C: telt instellingen, voor de openbaarmakingscontrole)</h4>
${groups.map(([g, values]) => valuesTable(`${g} (${groupText(g)})`, GROUP_SLOTS, values)).join('\n')}
</div>
<aside class="proof" aria-label="Goedkeuring en ontvangstbewijs">
<h4>Goedkeuring</h4>
${approvalsHtml(approvals, p)}
<h4>Ontvangstbewijs</h4>
${receiptHtml(receipts, p)}
</aside>
</div>`,
    );
  });
  const rows = entries
    .map(
      (x) =>
        `<tr><th scope="row" class="num">${x.seq}</th><td>${esc(amsterdamTime(x.at))}</td><td>${esc(KIND_NL[x.kind] ?? x.kind)}</td>` +
        `<td>${esc(describe(x))}</td></tr>`,
    )
    .join('');
  parts.push(
    scrollTable(
      `Alle regels van ronde ${roundId}`,
      '<tr><th scope="col" class="num">#</th><th scope="col">Tijd</th><th scope="col">Soort</th><th scope="col">Wat</th></tr>',
      rows,
    ),
  );
  parts.push('</section>');
  return parts.join('\n');
}

const EXTRA_CSS = `<style>.pair{display:grid;grid-template-columns:minmax(0,2fr) minmax(14rem,1fr);gap:1.5rem;align-items:start}
aside.proof{position:sticky;top:.5rem;background:#f4f6f8;border-left:4px solid #5b6b7b;padding:.5rem 1rem}
@media (max-width:50rem){.pair{grid-template-columns:minmax(0,1fr)}aside.proof{position:static}}
@media print{.pair{display:block}aside.proof{position:static}}</style>`;

function verdictHtml(v: VerifyResult): string {
  return v.ok
    ? `<p><strong>Controle van het log: in orde.</strong> ${nlInt(v.entries)} regels; keten en handtekeningen ` +
        `kloppen; ${nlInt(v.receipts_checked)} ontvangstbewijs/-bewijzen gecontroleerd.</p>`
    : `<p class="flag flag-hi"><strong>Controle van het log: NIET IN ORDE</strong> (${nlInt(v.findings.length)} ` +
        `bevinding(en)).</p><ul>${v.findings.map((f) => `<li>${esc(f.message)}</li>`).join('')}</ul>`;
}

/**
 * `sectorbench node audit show --format html`: the officer's view, verified first.
 * @param o.roundId only this round; default every round in the log
 */
export async function renderOfficerView(o: { home: string; roundId?: string; now?: Clock }): Promise<string> {
  const v = await verifyAuditLog({ home: o.home });
  const config = readNodeConfig(o.home);
  const db = openNodeDb(o.home);
  let entries: AuditEntry[];
  const names = new Map<string, string>();
  const cellOrder: string[] = [];
  try {
    entries = readAudit(db, { roundId: o.roundId });
    for (const r of new Set(entries.map((e) => e.round_id).filter((x): x is string => !!x))) {
      try {
        const m = storedManifest(db, r, o.home);
        for (const e of m.codebook.entries) {
          names.set(e.crebo, e.name);
          cellOrder.push(`${e.crebo}|${e.niveau}|BOL`, `${e.crebo}|${e.niveau}|BBL`);
        }
      } catch {
        // A round whose manifest was never stored: the keys are shown without names.
      }
    }
  } finally {
    db.close();
  }
  const name = config.institution_name ?? config.institution_id;
  const rounds = [...new Set(entries.map((e) => e.round_id).filter((x): x is string => !!x))].sort();
  const general = entries.filter((e) => !e.round_id);
  const body =
    `${EXTRA_CSS}
<p>Wat ${esc(name)} (instelling ${esc(config.institution_id)}) per ronde heeft verstuurd, ` +
    'volgens het eigen, ondertekende en hash-geketende auditlog van deze node. Tijden in Nederlandse ' +
    `tijd (Europe/Amsterdam). Gemaakt ${esc(amsterdamTime((o.now ?? systemClock)()))}.</p>
${verdictHtml(v)}
<nav aria-label="Rondes"><ul>${rounds.map((r) => `<li><a href="#r-${esc(r)}">Ronde ${esc(r)}</a></li>`).join('')}</ul>` +
    `</nav>
${rounds
  .map((r) =>
    roundSection(
      r,
      entries.filter((e) => e.round_id === r),
      names,
      cellOrder,
    ),
  )
  .join('\n')}
${
  general.length
    ? `<h2 id="overig">Regels buiten een ronde</h2>${scrollTable(
        'Regels buiten een ronde',
        '<tr><th scope="col" class="num">#</th><th scope="col">Tijd</th><th scope="col">Soort</th><th ' +
          'scope="col">Wat</th></tr>',
        general
          .map(
            (x) =>
              `<tr><th scope="row" class="num">${x.seq}</th><td>${esc(amsterdamTime(x.at))}</td><td>${esc(KIND_NL[x.kind] ?? x.kind)}</td>` +
              `<td>${esc(describe(x))}</td></tr>`,
          )
          .join(''),
      )}`
    : ''
}
<footer><p>Het geheime zaadje van de versleuteling staat in het lokale log maar wordt nooit ` +
    `getoond. Controleren: <code>sectorbench node audit verify --home ${esc(o.home)}</code>.</p>` +
    '</footer>';
  return htmlPage({
    title: `Wat ${name} verstuurde — auditlog`,
    h1: `Wat ${name} verstuurde`,
    body,
  });
}
