// Issue 6: preview → approve → submit over real HTTP; the preview's byte count is what was
// sent; every byte the node sent in the round is accounted for by the log; receipts echo the
// audit head; deep verify re-encrypts the logged vector; show, export and dataflow work on the home.
import t, { type Test } from 'tap';
import { approveRound } from '../../node/audit/approval.js';
import { readAudit, sha256Hex } from '../../node/audit/log.js';
import { previewRound } from '../../node/audit/preview.js';
import { renderOfficerView } from '../../node/audit/officer-view.js';
import { dataflowStatement, exportArt30, renderArt30Text, showAudit } from '../../node/audit/render.js';
import { verifyAuditLog } from '../../node/audit/verify.js';
import { submitContribution } from '../../node/round/submit.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { itemAt } from '../../shared/arrays/checked-index.js';
import { ROUND, setupNode } from './fixture.js';

type NodeSetup = Awaited<ReturnType<typeof setupNode>>;
type Preview = Awaited<ReturnType<typeof previewRound>>['preview'];
type Submitted = Awaited<ReturnType<typeof submitContribution>>;
type Entry = ReturnType<typeof readAudit>[number];

/** The text and HTML preview: what leaves, its digest, the thresholds, every value explained. */
async function checkPreview(t: Test, n: NodeSetup): Promise<Preview> {
  const { preview, rendered } = await previewRound({ home: n.home, roundId: ROUND, format: 'text' });
  t.match(rendered, /WAT DE INSTELLING VERLAAT/);
  t.match(rendered, new RegExp(preview.vector_digest));
  t.match(rendered, /minstens 3 instellingen en een populatie van minstens 10/);
  t.match(rendered, /Niets anders verlaat de instelling/);
  t.ok(preview.cells.length > 0, 'non-zero cells listed');
  t.ok(
    preview.cells.every((c) => c.values.every((v) => v.uitleg.length > 0)),
    'every value explained',
  );
  t.ok(preview.cells.some((c) => c.students > 0));
  const html = await previewRound({ home: n.home, roundId: ROUND, format: 'html' });
  t.match(html.rendered, /<html lang="nl">/);

  return preview;
}

/** Without approval nothing is sent; with it, the coordinator receives exactly the previewed bytes. */
async function approveAndSubmit(t: Test, n: NodeSetup, preview: Preview): Promise<Submitted> {
  // submit without approval is refused and logged
  await t.rejects(submitContribution({ home: n.home, roundId: ROUND }), { code: 'SB_ERR_APPROVAL_MISSING' });
  t.equal(n.coordinator.received.length, 0, 'nothing sent without approval');

  const a = await approveRound({
    home: n.home,
    roundId: ROUND,
    approverKeyFile: itemAt(n.approverKeys, 0),
    expectDigest: preview.vector_digest,
  });
  t.equal(a.approval.vector_digest, preview.vector_digest);
  t.equal(a.approval.wire_bytes, preview.wire_bytes);

  const r = await submitContribution({ home: n.home, roundId: ROUND });
  t.equal(n.coordinator.received.length, 1);
  const got = n.coordinator.received[0]!;
  t.equal(got.wire.byteLength, preview.wire_bytes, 'preview bytes = bytes the coordinator received');
  t.equal(r.wireBytes, preview.wire_bytes);
  t.equal(r.receipt.wire_bytes, preview.wire_bytes);

  return r;
}

/** The receipt echoes an audit head in the chain; the encryption seed stays in the local log. */
function checkAuditHead(t: Test, n: NodeSetup, preview: Preview, r: Submitted): { entries: Entry[]; env: Entry } {
  const got = n.coordinator.received[0]!;
  // the receipt echoes an audit head that is in the chain (the envelope entry is before it)
  const db = openNodeDb(n.home);
  const entries = readAudit(db);
  db.close();
  const headIdx = entries.findIndex((e) => e.hash === r.receipt.audit_head);
  t.ok(headIdx >= 0, 'receipt audit_head is in the chain');
  t.equal(entries[headIdx]!.kind, 'envelope', 'the head sent with the contribution covers the envelope entry');
  const env = entries.find((e) => e.kind === 'envelope')!;
  t.ok(env.payload.encryption_seed, 'seed kept in the local log');
  t.same(env.payload.vector_digest, preview.vector_digest);
  // every request the coordinator saw carried a head; the seed never left
  t.ok(n.coordinator.requests.every((q) => q.auditHead !== null));
  const seed = Buffer.from(String(env.payload.encryption_seed), 'base64');
  t.equal(Buffer.from(got.wire).indexOf(seed), -1, 'the seed is not in what was sent');

  return { entries, env };
}

/** Byte accounting from the log alone equals what the coordinator received; deep verify re-encrypts. */
async function checkAccounting(t: Test, n: NodeSetup, entries: Entry[], env: Entry): Promise<void> {
  const got = n.coordinator.received[0]!;
  // byte accounting from the log alone vs what the coordinator received
  const v = await verifyAuditLog({ home: n.home });
  t.ok(v.ok, JSON.stringify(v.findings));
  const acc = v.accounting.find((x) => x.round_id === ROUND)!;
  const coordinatorBytes = n.coordinator.requests.reduce((s, q) => s + q.bytes, 0);
  t.equal(acc.bytes_sent, coordinatorBytes, 'logged request bytes = bytes the coordinator received');
  t.equal(
    acc.contribution_bytes,
    n.coordinator.received.reduce((s, x) => s + x.wire.byteLength, 0),
  );
  t.equal(acc.envelope_wire_bytes, acc.contribution_bytes);
  t.equal(acc.receipted_bytes, acc.contribution_bytes);
  t.ok(acc.posts_match_envelopes);
  const post = entries.find((e) => e.kind === 'request' && e.payload.method === 'POST')!;
  t.equal(post.payload.body_sha256, sha256Hex(got.wire), 'logged body digest = digest of the bytes received');
  t.equal(acc.requests, n.coordinator.requests.length);

  const deep = await verifyAuditLog({ home: n.home, deep: true });
  t.ok(deep.ok, JSON.stringify(deep.findings));
  t.equal(deep.deep?.ciphertexts, (env.payload.ciphertext_digests as string[]).length);
}

/** `audit show` and the privacy officer's view: what left, approval and receipt, never the seed. */
async function checkShowAndOfficerView(t: Test, n: NodeSetup, env: Entry): Promise<void> {
  const shown = await showAudit({ home: n.home });
  t.match(shown, /Controle: in orde/);
  t.match(shown, /ontvangstbewijs van de coördinator/);
  t.notMatch(
    shown,
    new RegExp(String(env.payload.encryption_seed).replace(/[+/]/g, '.')),
    'show never prints the seed',
  );
  t.match(await showAudit({ home: n.home, format: 'html' }), /<table>/);
  // The privacy officer's view: the figures that left, as in the log, with approval and receipt.
  const view = await renderOfficerView({ home: n.home });
  const sentVector = env.payload.vector as { cells: Record<string, Record<string, number>> };
  const [firstCell, firstRow] = Object.entries(sentVector.cells)[0] as [string, Record<string, number>];
  t.match(view, `<h4>${firstCell} — `, 'each cell that left, by key and name');
  t.match(
    view,
    `<th scope="row"><code>a_enrolments</code></th><td class="num">${firstRow.a_enrolments?.toLocaleString('nl-NL')}</td>`,
    'its values as sent',
  );
  t.match(view, /✓ voor precies deze cijfers/, 'the approval beside them, matching the digest');
  t.match(view, /Ontvangen door de coördinator op .* \(Nederlandse tijd\)/, 'the receipt, in Amsterdam time');
  t.notMatch(view, new RegExp(String(env.payload.encryption_seed).replace(/[+/]/g, '.')), 'never the seed');
  t.notMatch(view, /\d{4}-\d\d-\d\dT\d\d:/, 'no raw UTC timestamps');
}

/** The art. 30 record: receipted bytes, recipient, verified log. */
async function checkArt30(t: Test, n: NodeSetup, preview: Preview) {
  const rec = await exportArt30({ home: n.home });
  t.equal(rec.rounds[0]?.receipted_bytes, preview.wire_bytes);
  t.equal(rec.recipients[0]?.url, n.coordinator.url);
  t.ok(rec.audit_log.verified);
  t.match(renderArt30Text(rec), /Verwerkingsregister \(AVG art\. 30\)/);

  return rec;
}

/** The dataflow statement (nl, en): recipient, thresholds, keys and participants, residual risks. */
function checkDataflow(t: Test, n: NodeSetup, rec: Awaited<ReturnType<typeof exportArt30>>): void {
  const df = dataflowStatement({ home: n.home, roundId: ROUND });
  t.match(df.nl, new RegExp(n.coordinator.url.replace(/[.]/g, '\\.')));
  t.match(df.nl, /minstens 3 instellingen en een populatie van minstens 10/);
  t.match(df.en, /at least 3 institutions and a population of at least 10/);
  t.match(df.en, /85%/);
  // Issue 11: who holds which key, who endorses the participants, what remains possible.
  t.match(df.nl, /Deelnemers \(ondertekend door de sleutelhouder, die elke instelling zelf inschrijft\)\. Instelling /);
  t.match(df.nl, /BRIN 9901/);
  t.match(df.nl, /k van n benoemde bewaarders/);
  t.match(df.nl, /Wat mogelijk blijft\. Echte deelnemers die samenspannen/);
  t.match(df.en, /Participants \(signed by the key holder/);
  t.match(df.en, /k of n named custodians/);
  t.match(df.en, /What remains possible\. Real participants who collude/);
  t.equal(rec.residual_risks.length, 5);
  t.match(
    rec.residual_risks[3],
    /late bijdrage .* NIET gemaskeerd/,
    'the art. 30 record names the unmasked late contribution',
  );
  t.match(
    rec.residual_risks[4],
    /correctie van een bijdrage aan een gemaskeerde ronde .* VERSCHIL .* NIET gemaskeerd/,
    'and the correction of a masked round sent as an unmasked difference',
  );
  t.match(df.en, /A correction of a contribution to a masked round .* DIFFERENCE .* NOT masked/);
  t.match(df.en, /A late contribution to a released round .* NOT masked/);
  t.match(renderArt30Text(rec), /Sleutels en deelnemers:\n {2}- de instelling houdt/);
  t.match(renderArt30Text(rec), /Wat mogelijk blijft:\n {2}- echte deelnemers die samenspannen/);
  t.match(df.en, /FG 0/);
}

t.test('preview, approve, submit: every byte accounted for', async (t) => {
  const n = await setupNode(t);
  const preview = await checkPreview(t, n);
  const r = await approveAndSubmit(t, n, preview);
  const { entries, env } = checkAuditHead(t, n, preview, r);
  await checkAccounting(t, n, entries, env);
  await checkShowAndOfficerView(t, n, env);
  checkDataflow(t, n, await checkArt30(t, n, preview));
});
