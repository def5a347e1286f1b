import { lateProtectionStatement, protectionStatement } from './protection.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import { readIdentityFile } from '../../shared/crypto/identity.js';
import { identityPath, readNodeConfig, type NodeConfig } from '../client/config.js';
import { openNodeDb } from '../store/node-db.js';
import { readAudit, redactPayload, type AuditEntry } from './log.js';
import { storedManifest, type LateKind } from './round-vector.js';
import { verifyAuditLog, type VerifyResult } from './verify.js';
import { escapeHtml as esc } from '../../shared/pages/html.js';
import { type Clock, systemClock } from '../../shared/time/clock.js';

const int = (x: number) => x.toLocaleString('nl-NL');

/** Dutch label of each entry kind. */
export const KIND_NL: Record<string, string> = {
  manifest_fetched: 'rondedocument opgehaald en gecontroleerd',
  preview: 'voorbeeld getoond',
  approval: 'goedkeuring',
  envelope: 'bijdrage versleuteld en ondertekend',
  request: 'verzoek aan de coördinator',
  receipt: 'ontvangstbewijs van de coördinator',
  release_fetched: 'publicatie opgehaald en gecontroleerd',
  refusal: 'geweigerd',
  approver_added: 'goedkeurder toegevoegd',
  secagg_message: 'maskering: bericht verstuurd',
  secagg_ack: 'maskering: ontvangst bevestigd door de coördinator',
  secagg_relay: 'maskering: fase afgesloten, doorgegeven door de coördinator',
  secagg_outcome: 'maskering: ronde mislukt (niets ontsleuteld)',
  airgap_import: 'antwoordbestand van de coördinator ingelezen',
};

const PHASE_NL: Record<string, string> = {
  advertise: 'sleutels bekendmaken',
  share: 'sleuteldelen verdelen',
  masked_input: 'gemaskeerde bijdrage',
  consistency: 'controle overlevenden',
  unmask: 'ontmaskeren',
};

/** One line per entry, in Dutch; secrets are never shown. */
export function describeEntry(e: AuditEntry): string {
  const p = redactPayload(e.payload);
  switch (e.kind) {
    case 'manifest_fetched':
      return `studiejaar ${p.studiejaar}, codeboek ${String(p.codebook_digest).slice(0, 12)}…, deadline ${p.deadline}`;
    case 'preview':
      return `${int(Number(p.wire_bytes))} bytes aangekondigd, digest ${p.vector_digest}`;
    case 'approval': {
      const a = p.approval as { approver_name: string; vector_digest: string };
      return `door ${a.approver_name} (${p.approver_fingerprint}) voor digest ${a.vector_digest}`;
    }
    case 'envelope':
      return (
        `${int(Number(p.wire_bytes))} bytes, ${(p.ciphertext_digests as string[]).length} versleutelde ` +
        `blokken, digest ${p.vector_digest}, envelop ${String(p.envelope_digest).slice(0, 12)}… (onversleutelde ` +
        'cijfers en geheim zaadje staan in het lokale log)'
      );
    case 'request':
      return p.transport === 'file'
        ? `${p.method} ${p.path}: ${int(Number(p.bytes))} bytes inhoud, in exportbestand ${p.file} (met ` +
            'de hand overgebracht; antwoord komt in een antwoordbestand)'
        : `${p.method} ${p.path}: ${int(Number(p.bytes))} bytes inhoud, antwoord ${p.status}`;
    case 'airgap_import': {
      const rs = (p.responses as { status: number }[] | undefined) ?? [];
      return [
        `${p.file}: ${rs.length} antwoord(en) (${rs.map((r) => r.status).join(', ')}),`,
        `sha256 ${String(p.file_sha256).slice(0, 12)}…`,
      ].join(' ');
    }
    case 'receipt': {
      const r = p.receipt as { sequence: number; received_at: string; wire_bytes: number; audit_head?: string };
      const head = r.audit_head ? `, logkop ${r.audit_head.slice(0, 12)}…` : '';
      return `ontvangen ${r.received_at}, ${int(r.wire_bytes)} bytes, volgnummer ${r.sequence}${head}`;
    }
    case 'release_fetched':
      return `versie ${p.release_version}`;
    case 'refusal':
      return `${p.stage}: ${p.code} — ${p.message}`;
    case 'approver_added': {
      const a = p.approver as { name: string; fingerprint: string };
      return `${a.name} (${a.fingerprint}); vereist: ${p.approvals_required}`;
    }
    case 'secagg_message': {
      const revealed = p.revealed as { self_seed: string[]; mask_key: string[] } | undefined;
      return `fase ${PHASE_NL[String(p.phase)] ?? p.phase}: ${int(Number(p.bytes))} bytes, digest ${String(p.digest).slice(0, 12)}…${
        revealed
          ? [
              '; onthuld aan de sleutelhouder (versleuteld):',
              `deel van het zelfmasker-zaad van ${revealed.self_seed.join(', ') || 'niemand'},`,
            ].join(' ') +
            ` deel van de maskersleutel van ${revealed.mask_key.join(', ') || 'niemand'} — nooit beide ` +
            'van één instelling'
          : ''
      }`;
    }
    case 'secagg_ack':
      return [
        `fase ${PHASE_NL[String(p.phase)] ?? p.phase}:`,
        `bevestigd ${String((p.ack as { received_at?: string })?.received_at ?? '')}`,
      ].join(' ');
    case 'secagg_relay':
      return (
        `fase ${PHASE_NL[String(p.phase)] ?? p.phase} afgesloten: ${(p.members as string[]).length} ` +
        `instelling(en) (${(p.members as string[]).join(', ')}), ${int(Number(p.items))} bericht(en) ` +
        'voor deze node'
      );
    case 'secagg_outcome':
      return `${p.code} — ${p.message}`;
    default:
      return JSON.stringify(p).slice(0, 200);
  }
}

function verdict(v: VerifyResult): string[] {
  const L: string[] = [];
  const deep = v.deep ? `, ${v.deep.ciphertexts} versleutelde blokken opnieuw berekend en gelijk` : '';
  L.push(
    v.ok
      ? `Controle: in orde. ${v.entries} regels, keten en handtekeningen kloppen, ${v.receipts_checked} ` +
          `ontvangstbewijs/-bewijzen gecontroleerd${deep}.`
      : `Controle: NIET IN ORDE (${v.findings.length} bevinding(en)).`,
  );
  for (const f of v.findings) L.push(`  - [${f.kind}] ${f.message}`);
  L.push(`Logkop: ${v.head ?? '(leeg)'}`);
  return L;
}

function accounting(v: VerifyResult): string[] {
  return v.accounting.map(
    (a) =>
      `Ronde ${a.round_id}: ${a.requests} verzoek(en), ${int(a.bytes_sent)} bytes inhoud verstuurd;` +
      ` daarvan ${a.contribution_posts} bijdrage(n) met ${int(a.contribution_bytes)} bytes; ${a.envelopes} ` +
      `gelogde envelop(pen) van samen ${int(a.envelope_wire_bytes)} bytes; ontvangstbewijzen bevestigen ` +
      `${int(a.receipted_bytes)} bytes${a.posts_match_envelopes ? '' : ' — LET OP: een verzonden bijdrage past bij geen gelogde envelop'}.`,
  );
}

/** `sectorbench node audit show`: the log for a person (Dutch text or HTML), verified first. */
export async function showAudit(o: { home: string; format?: 'text' | 'html'; roundId?: string }): Promise<string> {
  const v = await verifyAuditLog({ home: o.home });
  const config = readNodeConfig(o.home);
  const db = openNodeDb(o.home);
  let entries: AuditEntry[];
  try {
    entries = readAudit(db, { roundId: o.roundId });
  } finally {
    db.close();
  }
  const title = `Auditlog van node ${config.institution_id}${o.roundId ? `, ronde ${o.roundId}` : ''}`;
  if (o.format === 'html') {
    return (
      `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,` +
      'th{border-bottom:1px solid #ddd;padding:.2rem .5rem;vertical-align:top}.bad{color:#a00}code{font-size:.85em}</style>' +
      `</head>
<body><h1>${esc(title)}</h1>
<p class="${v.ok ? '' : 'bad'}">${verdict(v).map(esc).join('<br>')}</p>
<h2>Bytes per ronde</h2><ul>${accounting(v)
        .map((l) => `<li>${esc(l)}</li>`)
        .join('')}</ul>` +
      `
<h2>Regels</h2>
<table><tr><th>#</th><th>tijd</th><th>soort</th><th>ronde</th><th>wat</th><th>hash</th></tr>` +
      `
${entries
  .map(
    (e) =>
      `<tr><td>${e.seq}</td><td>${esc(e.at)}</td><td>${esc(KIND_NL[e.kind] ?? e.kind)}</td><td>${esc(e.round_id ?? '')}</td>` +
      `<td>${esc(describeEntry(e))}</td><td><code>${e.hash.slice(0, 16)}…</code></td></tr>`,
  )
  .join('\n')}
</table></body></html>
`
    );
  }
  const L = [title, '', ...verdict(v), '', ...accounting(v), ''];
  for (const e of entries)
    L.push(
      `${String(e.seq).padStart(5)}  ${e.at}  ${(KIND_NL[e.kind] ?? e.kind).padEnd(40)} ${e.round_id ?? '-'}  ${describeEntry(e)}`,
    );
  return `${L.join('\n')}\n`;
}

/**
 * Who holds which key and who vouches for the participants (issue 11), in the words of the art. 30
 * record and the dataflow statement. The node cannot check the key holder's custody itself;
 * the text says so.
 */
export const KEYS_AND_PARTICIPANTS_NL: string[] = [
  'de instelling houdt haar eigen Ed25519-identiteitssleutel (ondertekent bijdragen en verzoeken) ' +
    'en het geheime zaadje van elke versleuteling (alleen in het lokale auditlog)',
  'de coördinator houdt zijn Ed25519-identiteitssleutel (ondertekent rondedocumenten en ontvangstbewijzen) ' +
    'en de versleutelde bijdragen; geen sleutel om ze te lezen',
  'de sleutelhouder houdt zijn Ed25519-identiteitssleutel (ondertekent de deelnemerslijst, drempels ' +
    'en publicaties) en de geheime BFV-sleutel, verzegeld: ontsleutelen kan alleen als k van n ' +
    'benoemde bewaarders hun sleuteldeel aanbieden; elke ontzegeling en elk gebruik staat in het ' +
    'logboek van de sleutelhouder (de node kan dit niet zelf controleren: vraag de sleutelhouder ' +
    'om het verslag van de sleutelceremonie en het logboek)',
  'de deelnemerslijst (naam, BRIN-code, identiteitssleutel per instelling) wordt ondertekend ' +
    'door de sleutelhouder, die elke instelling zelf inschrijft na controle van haar vingerafdruk,' +
    ' en door de coördinator; de coördinator kan geen deelnemer toevoegen zonder dat elke node ' +
    'het rondedocument weigert',
];

/** What the protections do not prevent, as the code stands (issue 11, "tell the truth"). */
export const RESIDUAL_RISKS_NL: string[] = [
  'echte deelnemers die samenspannen kunnen hun eigen cijfers van de gepubliceerde sectorcijfers ' +
    'aftrekken; waar naast hen maar één andere instelling bijdroeg, kennen zij dan haar cijfers ' +
    '(de openbaarmakingscontrole beschermt tegen één instelling die haar eigen cijfers kent, niet ' +
    'tegen meerdere die samenspannen); die bescherming tegen één instelling met kennis van haar eigen ' +
    'cijfers heeft twee grenzen: een ' +
    'instelling die een telling van de hele sector (de totaalrij) helemaal zelf heeft, ' +
    'kan afleiden dat de andere instellingen daar 0 hebben, ook in onderdrukte cellen; en ' +
    'wat een instelling weet van haar eigen deel van een cel waaraan meer instellingen bijdroegen, ' +
    'wordt niet meegenomen (de sleutelhouder kent dat deel niet)',
  'de bundel die de sleutelhouder van de coördinator krijgt, bevat de versleutelde bijdrage van ' +
    'elke instelling afzonderlijk: in een ongemaskeerde ronde kan een sleutelhouder die met k bewaarders ' +
    'samenspant daarmee de cijfers van één instelling ontsleutelen; in een gemaskeerde ronde (secure ' +
    'aggregation) is één ontsleutelde bijdrage ruis, en zijn daarnaast minstens t andere deelnemers ' +
    'nodig die hun Shamir-delen van de maskergeheimen van die instelling afgeven, of — als de coördinator ' +
    'meedoet en deelnemers verschillende lijsten van overgebleven instellingen stuurt — minstens ' +
    '2t − n andere deelnemers (t en de aantallen staan per ronde in de gegevensstroom); de sleutelhouder ' +
    'en de bewaarders zijn daarom onafhankelijk van de coördinator en van elkaar gekozen, en elk ' +
    'gebruik van de sleutel wordt gelogd',
  'een sleutelhouder die samen met de coördinator een instelling inschrijft die niet bestaat,' +
    ' kan een deelnemer verzinnen; daarom toont elke node de deelnemerslijst met namen en BRIN-codes ' +
    'vóór de goedkeuring',
  'een late bijdrage aan een al gepubliceerde ronde (`node submit --late`, leidt tot een nieuwe ' +
    'versie) wordt ook in een gemaskeerde ronde NIET gemaskeerd verstuurd: de sleutelhouder met ' +
    'k bewaarders kan haar ontsleutelen, en het verschil tussen de optelsommen van twee versies ' +
    'is precies die bijdrage (of de som van de late bijdragen); de publicatie zelf wordt tegen ' +
    'elke eerdere versie gecontroleerd, en `node preview --late` zegt dit vóór de goedkeuring',
  'een correctie van een bijdrage aan een gemaskeerde ronde die al gepubliceerd is (`node submit ' +
    '--late` na een nieuwe import) stuurt het VERSCHIL tussen de gecorrigeerde en de eerder verstuurde ' +
    'cijfers, versleuteld maar NIET gemaskeerd (de gemaskeerde bijdrage blijft in de optelsom): de ' +
    'sleutelhouder met k bewaarders kan dat verschil precies ontsleutelen, en het verschil tussen de ' +
    'optelsommen van twee versies is dat verschil samen met de bijdragen en verschillen van de andere ' +
    'late of corrigerende instellingen in die versie',
];

/** The AVG (GDPR) art. 30 record of processing activities for the node (issue 6, part 3). */
export interface Art30Record {
  type: 'sectorbench.avg-art30-record';
  generated_at: string;
  controller: { institution_id: string };
  processing: string;
  purposes: string[];
  legal_basis_note: string;
  data_subjects: string[];
  personal_data_categories_local: string[];
  data_leaving_the_institution: string[];
  recipients: { role: string; url?: string; fingerprint: string }[];
  third_country_transfers: string;
  retention: string[];
  security_measures: string[];
  /** Who holds which key, and who vouches for the participants (issue 11). */
  keys_and_participants: string[];
  /** What the measures do not prevent. */
  residual_risks: string[];
  approvers: { name: string; fingerprint: string }[];
  approvals_required: number;
  rounds: { round_id: string; sent_at: string[]; bytes_sent: number; contributions: number; receipted_bytes: number }[];
  audit_log: { location: string; entries: number; head: string | null; verified: boolean };
}

/** Build the art. 30 record from the real config and log. */
export async function exportArt30(o: { home: string; now?: Clock }): Promise<Art30Record> {
  const config = readNodeConfig(o.home);
  await readIdentityFile(identityPath(o.home, config)); // the node must be intact
  const v = await verifyAuditLog({ home: o.home });
  const sentAt = receiptTimes(o.home);
  return {
    type: 'sectorbench.avg-art30-record',
    generated_at: (o.now ?? systemClock)().toISOString(),
    controller: { institution_id: config.institution_id },
    processing: 'Deelname aan sectorbench: sectorbrede benchmark van verzuim en uitval in jaar 1 (mbo)',
    purposes: [
      'de eigen opleidingen vergelijken met dezelfde opleidingen elders (kwaliteitszorg, verzuimbeleid)',
      'bijdragen aan sectorcijfers die alleen als optelsom van instellingen worden gepubliceerd',
    ],
    legal_basis_note: [
      'Door de instelling in te vullen (bv. art. 6 lid 1 sub e AVG, taak van algemeen belang);',
      'sectorbench stelt het niet vast.',
    ].join(' '),
    data_subjects: ['studenten van de instelling met een inschrijving in het studiejaar van de ronde'],
    personal_data_categories_local: [
      [
        'inschrijvingen: studentnummer, inschrijvingsnummer, geboortedatum (indien geleverd), crebo,',
        'niveau, leerweg, begin- en einddatum, diploma ja/nee',
      ].join(' '),
      'aanwezigheid: per les status en minuten, opgeslagen als weeksommen per inschrijving',
    ],
    data_leaving_the_institution: [
      [
        'alleen geaggregeerde gehele getallen per opleidingscel en groep (METRICS.md v1), versleuteld',
        '(BFV); geen gegevens per student',
      ].join(' '),
      'een ondertekende envelop met ronde, instelling, versies en digests',
      'ondertekende verzoekkoppen (instelling, tijdstip, nonce, digest, kop van het auditlog)',
    ],
    recipients: art30Recipients(config),
    third_country_transfers: art30ThirdCountry(config),
    retention: [
      [
        'de geïmporteerde gegevens blijven in de node-database tot een nieuwe import ze vervangt;',
        'de instelling bepaalt de bewaartermijn',
      ].join(' '),
      [
        'het auditlog (met de onversleutelde cijfers die vertrokken)',
        'wordt bewaard zolang de instelling moet kunnen verantwoorden wat is verstuurd',
      ].join(' '),
    ],
    security_measures: art30SecurityMeasures(config),
    keys_and_participants: KEYS_AND_PARTICIPANTS_NL,
    residual_risks: RESIDUAL_RISKS_NL,
    approvers: config.approvers.map((a) => ({ name: a.name, fingerprint: a.fingerprint })),
    approvals_required: config.approvals_required,
    rounds: v.accounting.map((a) => ({
      round_id: a.round_id,
      sent_at: sentAt.get(a.round_id) ?? [],
      bytes_sent: a.bytes_sent,
      contributions: a.contribution_posts,
      receipted_bytes: a.receipted_bytes,
    })),
    audit_log: { location: `${o.home}/node.sqlite, tabel audit_log`, entries: v.entries, head: v.head, verified: v.ok },
  };
}

/** Per round, when this node's contributions were receipted (from the audit log). */
function receiptTimes(home: string): Map<string, string[]> {
  const db = openNodeDb(home);
  try {
    const sentAt = new Map<string, string[]>();
    for (const e of readAudit(db).filter((x) => x.kind === 'receipt' && x.round_id))
      sentAt.set(e.round_id as string, [...(sentAt.get(e.round_id as string) ?? []), e.at]);
    return sentAt;
  } finally {
    db.close();
  }
}

/** The art. 30 recipients: the coordinator and the key holder, with their pinned fingerprints. */
function art30Recipients(config: NodeConfig): Art30Record['recipients'] {
  return [
    {
      role: 'coördinator (ontvangt alleen versleutelde bijdragen)',
      url: config.coordinator_url,
      fingerprint: config.pinned.coordinator.fingerprint,
    },
    {
      role:
        'sleutelhouder (krijgt de versleutelde bijdrage van elke instelling; ontsleutelt de optelsom,' +
        ' past openbaarmakingscontrole toe; in een gemaskeerde ronde alleen de gemaskeerde optelsom,' +
        ' zonder de maskers van één instelling te kunnen verwijderen zonder t andere deelnemers, of ' +
        'zonder 2t − n andere deelnemers samen met de coördinator; in een ongemaskeerde ronde kan hij,' +
        ' samen met k bewaarders, één bijdrage ontsleutelen; ondertekent de deelnemerslijst)',
      fingerprint: config.pinned.key_holder.fingerprint,
    },
  ];
}

/** Where the data goes, for the art. 30 record: nowhere outside the EEA by the node itself. */
function art30ThirdCountry(config: NodeConfig): string {
  return (
    `Geen door de node: ${
      config.transport === 'file'
        ? 'de node verbindt met niets (offline); zijn verzoeken gaan als ondertekende bestanden met de ' +
          'hand naar de coördinator'
        : `de node verbindt alleen met ${config.coordinator_url}`
    }. ` + 'Waar de coördinator en sleutelhouder hun gegevens houden, staat in hun eigen verwerkingsregister.'
  );
}

/** The art. 30 security measures, following the node's transport and approval settings. */
function art30SecurityMeasures(config: NodeConfig): string[] {
  const tls = config.coordinator_url.startsWith('https:')
    ? ' over TLS (certificaat van de coördinator vastgelegd bij aanmelding)'
    : ' (LET OP: coördinator-URL zonder TLS)';
  return [
    'gegevens blijven on-premises; alleen aggregaten vertrekken',
    'homomorfe versleuteling (BFV, node-seal) onder de sleutel van een onafhankelijke sleutelhouder,' +
      ' die de geheime sleutel verzegeld bewaart: ontsleutelen kan alleen met de sleuteldelen van ' +
      'k van n benoemde bewaarders, en elk gebruik staat in het logboek van de sleutelhouder',
    'deelnemerslijst (naam, BRIN, identiteitssleutel) ondertekend door de sleutelhouder, die elke ' +
      'instelling zelf inschrijft; de node weigert een rondedocument met een deelnemer die de sleutelhouder ' +
      'niet heeft ondertekend, en de drempel voor het aantal instellingen telt alleen die deelnemers',
    'maskering (secure aggregation, Bonawitz e.a. 2017) in rondes waarvan het rondedocument een ' +
      'drempel t noemt: de cijfers van één instelling zijn alleen te zien als sleutelhouder, coördinator ' +
      'en minstens t andere deelnemers samenwerken; zie `sectorbench node dataflow` per ronde',
    'openbaarmakingscontrole door de sleutelhouder met ondertekende drempels',
    config.transport === 'file'
      ? 'offline node (transport "file"): geen netwerkverbinding; ondertekende verzoeken (Ed25519) ' +
        'in een exportbestand dat als geheel door de node is ondertekend, met de hand naar de coördinator ' +
        'gebracht; de antwoorden komen terug in een bestand dat de coördinator ondertekent met de sleutel ' +
        'die bij aanmelding is vastgelegd; de bestanden zijn niet versleuteld en bevatten precies wat ' +
        'anders over het netwerk zou gaan (de bijdrage versleuteld, sleuteldelen versleuteld per deelnemer)'
      : `ondertekende verzoeken (Ed25519)${tls}; de node praat met niets anders dan de ingestelde coördinator`,
    `goedkeuring door ${config.approvals_required} functionaris(sen) gegevensbescherming vóór verzending`,
    'append-only auditlog, hashketen, ondertekend; logkop in elk verzoek en in de ontvangstbewijzen',
  ];
}

/** Plain-text rendering of the art. 30 record (Dutch). */
export function renderArt30Text(r: Art30Record): string {
  const list = (xs: string[]) => xs.map((x) => `  - ${x}`).join('\n');
  return (
    `Verwerkingsregister (AVG art. 30) — ${r.processing}
Verwerkingsverantwoordelijke: instelling ${r.controller.institution_id}
Doeleinden:
${list(r.purposes)}
Grondslag: ${r.legal_basis_note}
Betrokkenen:
${list(r.data_subjects)}
Persoonsgegevens (alleen lokaal):
${list(r.personal_data_categories_local)}
Wat de instelling verlaat:
${list(r.data_leaving_the_institution)}
Ontvangers:
${list(r.recipients.map((x) => `${x.role}${x.url ? `, ${x.url}` : ''}, vingerafdruk ${x.fingerprint}`))}
Doorgifte buiten de EER: ${r.third_country_transfers}
Bewaartermijnen:
${list(r.retention)}
Beveiligingsmaatregelen:
${list(r.security_measures)}
Sleutels en deelnemers:
${list(r.keys_and_participants)}
Wat mogelijk blijft:
${list(r.residual_risks)}
Goedkeurders (${r.approvals_required} vereist):
${list(r.approvers.map((a) => `${a.name}, ${a.fingerprint}`))}
Rondes:
${list(
  r.rounds.map(
    (x) =>
      `${x.round_id}: ${x.contributions} bijdrage(n), ${x.bytes_sent.toLocaleString('nl-NL')} bytes ` +
      `verstuurd, ${x.receipted_bytes.toLocaleString('nl-NL')} bytes bevestigd; ${x.sent_at.join(', ')}`,
  ),
)}
Auditlog: ${r.audit_log.location}; ${r.audit_log.entries} regels; kop ${r.audit_log.head ?? '-'};` +
    ` ${r.audit_log.verified ? 'gecontroleerd, in orde' : 'CONTROLE NIET IN ORDE'}
Opgesteld ${r.generated_at}
`
  );
}

/** The "Keys." paragraph of the English data-flow statement (the Dutch one is built from KEYS_AND_PARTICIPANTS_NL). */
const DATAFLOW_KEYS_EN =
  `Keys. The institution holds its own Ed25519 identity key (signs contributions and requests) ` +
  'and the secret seed of each encryption (only in the local audit log). The coordinator holds ' +
  'its Ed25519 identity key (signs manifests and receipts) and the encrypted contributions, but ' +
  'no key to read them. The key holder holds its Ed25519 identity key (signs the participant ' +
  'list, thresholds and releases) and the BFV secret key, sealed: decrypting needs k of n named ' +
  "custodians to present their key shares, and every unseal and every use is in the key holder's " +
  'log (the node cannot check this itself: ask the key holder for the key ceremony record and ' +
  'the log). The participant list (name, BRIN code, identity key per institution) is signed by ' +
  'the key holder, which enrols each institution itself after checking its fingerprint, and by ' +
  'the coordinator; the coordinator cannot add a participant without every node refusing the ' +
  'manifest.';

/** The "What remains possible." paragraph of the English data-flow statement. */
const DATAFLOW_RESIDUAL_EN =
  `What remains possible. Real participants who collude can subtract their own figures from the ` +
  'published sector figures; where only one other institution contributed besides them, they ' +
  'then know its figures (disclosure control protects against one institution that knows its ' +
  'own figures, not against several colluding; with two limits: an institution that holds the whole of a ' +
  'count of the whole sector (the total row) can infer that the other institutions ' +
  'hold 0 there, suppressed cells included, and what an institution knows of its own share of a cell ' +
  'several institutions contributed to is not modelled). The bundle the key holder receives from the coordinator ' +
  "holds every institution's encrypted contribution separately: in an unmasked round a key holder " +
  "colluding with k custodians can decrypt one institution's figures; in a masked round (secure " +
  'aggregation) one decrypted contribution is noise, and at least t other participants handing ' +
  "over their Shamir shares of that institution's mask secrets are needed as well, or, if the " +
  'coordinator joins by telling participants different sets of surviving institutions, at least ' +
  '2t − n other participants (the numbers for this round are in this statement, above); the key ' +
  'holder and the custodians are therefore chosen independent of the coordinator and of each ' +
  'other, and every use of the key is logged. A key holder that, together with the coordinator,' +
  ' enrols an institution that does not exist can invent a participant; that is why every node ' +
  'shows the participant list with names and BRIN codes before approval. A late contribution ' +
  'to a released round (`node submit --late`, leading to a new version) is sent NOT masked,' +
  ' also in a masked round: the key holder with k custodians could decrypt it, and the difference ' +
  "between two versions' sums is exactly that contribution (or the sum of the late ones); the " +
  'release itself is checked against every earlier version, and `node preview --late` says ' +
  'so before approval. A correction of a contribution to a masked round that was released ' +
  '(`node submit --late` after a new import) sends the DIFFERENCE between the corrected figures ' +
  'and those sent before, encrypted but NOT masked (the masked contribution stays in the sum): ' +
  'the key holder with k custodians could decrypt that difference exactly, and the difference ' +
  "between two versions' sums is that difference together with the contributions and differences " +
  'of the other late or correcting institutions in that version.';

/** What the data-flow statement is built from: the node's config, the round's manifest and the protection text. */
interface DataflowFacts {
  config: NodeConfig;
  manifest: RoundManifest;
  protection: { nl: string; en: string };
  /** The coordinator URL is https. */
  tls: boolean;
  /** An air-gapped node (issue 16, item 3) connects to nothing; its requests travel as files. */
  offline: boolean;
  codebookSize: number;
  /** The approvers as "name (fingerprint)", comma-separated, or "—". */
  approvers: string;
}

/**
 * `sectorbench node dataflow`: the data-flow statement for a DPIA, in Dutch and English, from
 * the real config and the round's verified manifest (stored by preview or submit).
 */
export function dataflowStatement(o: { home: string; roundId: string }): {
  nl: string;
  en: string;
  manifest: RoundManifest;
  config: NodeConfig;
} {
  const config = readNodeConfig(o.home);
  const db = openNodeDb(o.home);
  let manifest: RoundManifest;
  let late: LateKind | undefined;
  try {
    manifest = storedManifest(db, o.roundId, o.home);
    // A late or corrected contribution this node sent after the release (submit --late): its own protection.
    const sentLate = readAudit(db, { roundId: o.roundId }).find((e) => e.kind === 'envelope' && e.payload.late);
    late = sentLate ? (sentLate.payload.late as LateKind) : undefined;
  } finally {
    db.close();
  }
  const base = protectionStatement(manifest);
  const lateText = late ? lateProtectionStatement(manifest, late) : undefined;
  const facts: DataflowFacts = {
    config,
    manifest,
    protection: lateText ? { nl: `${base.nl} ${lateText.nl}`, en: `${base.en} ${lateText.en}` } : base,
    tls: config.coordinator_url.startsWith('https:'),
    offline: config.transport === 'file',
    codebookSize: manifest.codebook.entries.length,
    approvers: config.approvers.map((a) => `${a.name} (${a.fingerprint})`).join(', ') || '—',
  };
  return { nl: dataflowNl(facts), en: dataflowEn(facts), manifest, config };
}

/** The data-flow statement in Dutch. */
function dataflowNl(f: DataflowFacts): string {
  const { config, manifest, protection, tls, offline, codebookSize, approvers } = f;
  const t = manifest.thresholds;
  const nl =
    `Gegevensstroom sectorbench — instelling ${config.institution_id}, ronde ${manifest.round_id} ` +
    `(studiejaar ${manifest.studiejaar})

Wat wordt verstuurd. Eén bijdrage: per opleidingscel (${codebookSize} opleidingen uit het ` +
    `codeboek, elk BOL en BBL) 64 gehele getallen en per groep 24 (metriekspecificatie ${manifest.metric_spec}),` +
    ` versleuteld met BFV (${manifest.he_params}) onder de publieke sleutel van de sleutelhouder,` +
    ` in een door de instelling ondertekende envelop. Geen gegevens per student.
Aan wie. Aan de coördinator ${config.coordinator_url} (sleutelvingerafdruk ${config.pinned.coordinator.fingerprint}),` +
    ' die de versleutelde bijdragen optelt zonder ze te kunnen lezen. De sleutelhouder (vingerafdruk ' +
    `${config.pinned.key_holder.fingerprint}) krijgt de versleutelde bijdrage van elke instelling ` +
    `in de bundel van de coördinator en ontsleutelt bij publicatie alleen de optelsom${manifest.secagg ? ' (gemaskeerd)' : ''}.
Wie zou moeten samenwerken. ${protection.nl}
Wanneer. Na goedkeuring door ${config.approvals_required} van de goedkeurders (${approvers}),` +
    ` vóór de deadline ${manifest.deadline}; daarna alleen het ophalen van de publicatie.
Drempels (ondertekend door de sleutelhouder). Een cijfer wordt alleen gepubliceerd met minstens ` +
    `${t.min_institutions} instellingen en een populatie van minstens ${t.min_population}; niet ` +
    `als één instelling meer dan ${t.dominance_share * 100}% kan hebben; verdelingen alleen bij ` +
    `minstens ${t.min_institutions_distribution} instellingen; met secundaire onderdrukking tegen ` +
    `aftrekken.
Beschermingen. Alleen aggregaten; homomorfe versleuteling;${manifest.secagg ? ' maskering (secure aggregation);' : ''} ` +
    `${
      offline
        ? 'geen netwerkverbinding: ondertekende verzoeken in een ondertekend exportbestand, met de hand ' +
          'naar de coördinator gebracht, antwoorden in een bestand ondertekend met de bij aanmelding ' +
          'vastgelegde sleutel van de coördinator (de bestanden zelf zijn niet versleuteld; ze bevatten ' +
          'precies wat anders over het netwerk zou gaan);'
        : `ondertekende verzoeken ${
            tls
              ? 'over TLS (certificaat van de coördinator vastgelegd bij aanmelding)'
              : 'ZONDER TLS (de coördinator-URL is http)'
          };` + ` de node verbindt met niets anders dan ${config.coordinator_url};`
    } ` +
    `goedkeuring van precies de te versturen cijfers; append-only, ondertekend auditlog.
Deelnemers (ondertekend door de sleutelhouder, die elke instelling zelf inschrijft). ${participantList(manifest)}. ` +
    'De node weigert een rondedocument waarvan de sleutelhouder deze lijst niet heeft ondertekend;' +
    ` de drempel voor het aantal instellingen telt alleen deze deelnemers.
Sleutels. ${KEYS_AND_PARTICIPANTS_NL.map((x) => `${x.charAt(0).toUpperCase()}${x.slice(1)}.`).join(' ')}
Wat mogelijk blijft. ${RESIDUAL_RISKS_NL.map((x) => `${x.charAt(0).toUpperCase()}${x.slice(1)}.`).join(' ')}
Wat nooit vertrekt. De SIS-exports en alle gegevens per student of per les; het datakwaliteitsoverzicht;` +
    ` de onversleutelde cijfers; het geheime zaadje van de versleuteling${
      manifest.secagg
        ? '; de geheime maskersleutel en het zelfmasker-zaad (alleen Shamir-delen, versleuteld per deelnemer;' +
          ' bij het ontmaskeren per instelling nooit beide delen)'
        : ''
    }.
Waar het log staat. In de node-database (node.sqlite, tabel audit_log) in de beheerde omgeving ` +
    'van de instelling; controleren met `sectorbench node audit verify`, tonen met `sectorbench ' +
    `node audit show\`.
`;
  return nl;
}

/** The round's participants as `name (BRIN xxxx)`, separated by semicolons. */
function participantList(manifest: RoundManifest): string {
  return manifest.participants.map((p) => `${p.name} (BRIN ${p.brin})`).join('; ');
}

/** The data-flow statement in English. */
function dataflowEn(f: DataflowFacts): string {
  const { config, manifest, protection, tls, offline, codebookSize, approvers } = f;
  const t = manifest.thresholds;
  const en =
    `Data flow of sectorbench — institution ${config.institution_id}, round ${manifest.round_id} ` +
    `(studiejaar ${manifest.studiejaar})

What is sent. One contribution: 64 integers per programme cell (${codebookSize} programmes ` +
    `of the codebook, each BOL and BBL) and 24 per group (metric spec ${manifest.metric_spec}),` +
    ` encrypted with BFV (${manifest.he_params}) under the key holder's public key, in an envelope ` +
    `signed by the institution. No student-level data.
To whom. To the coordinator ${config.coordinator_url} (key fingerprint ${config.pinned.coordinator.fingerprint}),` +
    ' which adds the encrypted contributions without being able to read them. The key holder (fingerprint ' +
    `${config.pinned.key_holder.fingerprint}) receives every institution's encrypted contribution ` +
    `in the coordinator's bundle; its release decrypts only the${manifest.secagg ? ' masked' : ''} ` +
    `sum.
Who would have to work together. ${protection.en}
When. After approval by ${config.approvals_required} of the approvers (${approvers}), before ` +
    `the deadline ${manifest.deadline}; afterwards only the release is fetched.
Thresholds (signed by the key holder). A figure is published only with at least ${t.min_institutions} ` +
    `institutions and a population of at least ${t.min_population}; not when one institution could ` +
    `hold more than ${t.dominance_share * 100}%; distributions only with at least ${t.min_institutions_distribution} ` +
    `institutions; with secondary suppression against differencing.
Protections. Aggregates only; homomorphic encryption;${manifest.secagg ? ' masking (secure aggregation);' : ''} ` +
    `${
      offline
        ? 'no network connection: signed requests in a signed export file carried by hand to the coordinator,' +
          ' answers in a file signed with the coordinator key pinned at enrolment (the files themselves ' +
          'are not encrypted; they hold exactly what would otherwise cross the network);'
        : `signed requests ${
            tls
              ? "over TLS (the coordinator's certificate pinned at enrolment)"
              : 'WITHOUT TLS (the coordinator URL is http)'
          };` + ` the node connects to nothing but ${config.coordinator_url};`
    } ` +
    `approval of exactly the figures to be sent; append-only, signed audit log.
Participants (signed by the key holder, which enrols every institution itself). ${participantList(manifest)}. ` +
    'The node refuses a manifest whose participant list the key holder did not sign; the minimum ' +
    `number of institutions counts these participants only.
${DATAFLOW_KEYS_EN}
${DATAFLOW_RESIDUAL_EN}
What never leaves. The SIS exports and any student-level or lesson-level data; the data-quality ` +
    `report; the unencrypted figures; the secret encryption seed${
      manifest.secagg
        ? '; the secret mask key and self-mask seed (only Shamir shares leave, each encrypted to one ' +
          'participant; at unmasking never both shares of one institution)'
        : ''
    }.
Where the log lives. In the node database (node.sqlite, table audit_log) in the institution's ` +
    'managed environment; verify with `sectorbench node audit verify`, show with `sectorbench ' +
    `node audit show\`.
`;
  return en;
}
