import type { RoundManifest } from '../../schemas/manifest.js';
import { sparseBounds } from '../../shared/secagg/index.js';
import type { LateKind } from './round-vector.js';

/** Who would have to work together to see one institution's figures in a round, in Dutch and English. */
export interface ProtectionStatement {
  masked: boolean;
  /** One paragraph, Dutch. */
  nl: string;
  /** One paragraph, English. */
  en: string;
}

/**
 * Exactly the protection a round's manifest gives one institution's figures (issue 10, "Tell
 * the truth everywhere"), for the preview, the data-flow statement and the art. 30 record.
 *
 * Masked round (manifest `secagg`, Bonawitz et al., CCS 2017): the coordinator holds the
 * institution's ciphertext but not the BFV key; the key holder holds the key and receives every
 * ciphertext in the bundle, but a single decrypted contribution is vector + self mask + pairwise
 * masks, uniform modulo t; the masks come off only with the self-mask seed and the pairwise mask
 * secrets, which are Shamir-shared t of n among the participants, and an honest node never
 * reveals both shares of one peer. So seeing one institution's figures takes the key holder
 * with k of its custodians (the BFV key is sealed under them; the single ciphertext is in the
 * bundle the coordinator hands it, so the coordinator is not needed) and at least t other
 * participants giving up their shares; or, when the coordinator joins them and tells different
 * nodes different survivor sets, at least 2t - m other participants (m = the institution's
 * shareholders; two survivor stories each signed by t nodes share 2t - m signers, who must all be
 * dishonest: shared/secagg/README.md, "Threat model"). Unmasked round: the key holder with k
 * custodians. Sparse graph (Bell et al., CCS 2020): those participants must be among the
 * institution's neighbours, and the statement adds the computed bound (shared/secagg/sparse-bound.ts)
 * on the chance that 5 % colluding participants are enough of some institution's neighbours, with
 * its assumption (the round id, which fixes the ring, was not chosen knowing who colludes), and
 * that the round fails when more than m - t of one institution's neighbours drop out.
 */
export function protectionStatement(manifest: RoundManifest): ProtectionStatement {
  const n = manifest.participants.length;
  const s = manifest.secagg;
  const roundId = manifest.round_id;
  if (!s) return unmaskedStatement(roundId);
  const shareholders =
    s.graph.kind === 'complete'
      ? `alle ${n} deelnemers`
      : `${s.graph.degree + 1} deelnemers (de instelling en haar ${s.graph.degree} buren in de maskergraaf)`;
  const shareholdersEn =
    s.graph.kind === 'complete'
      ? `all ${n} participants`
      : `${s.graph.degree + 1} participants (the institution and its ${s.graph.degree} neighbours in the mask graph)`;
  const m = s.graph.kind === 'complete' ? n : s.graph.degree + 1;
  const others = m - 1;
  const t = s.threshold;
  const withCoordinator = Math.max(0, 2 * t - m);
  const countNl = (k: number) =>
    k > others
      ? `${k} andere deelnemers (meer dan de ${others} die er zijn: zo kan het niet)`
      : `minstens ${k} andere deelnemers`;
  const countEn = (k: number) =>
    k > others
      ? `${k} other participants (more than the ${others} there are: impossible this way)`
      : `at least ${k} other participants`;
  const coordNl =
    withCoordinator === 0
      ? 'de sleutelhouder met k bewaarders en de coördinator samen, zonder andere deelnemers'
      : `de sleutelhouder met k bewaarders, de coördinator én ${countNl(withCoordinator)}`;
  const coordEn =
    withCoordinator === 0
      ? 'the key holder with k custodians and the coordinator together, without other participants'
      : `the key holder with k custodians, the coordinator and ${countEn(withCoordinator)}`;
  const sparse = sparseText(n, s.graph, t);
  return {
    masked: true,
    nl:
      `Ronde ${roundId} is gemaskeerd (secure aggregation, drempel t = ${t}). De bijdrage is vóór ` +
      'de versleuteling opgeteld bij een zelfmasker en paarsgewijze maskers (uniform modulo de BFV-klaartekstmodulus),' +
      ' die in de optelsom wegvallen. De coördinator heeft de versleutelde bijdrage maar niet de ' +
      'sleutel; de sleutelhouder heeft de sleutel en ontsleutelt alleen de gemaskeerde optelsom — ' +
      'één bijdrage ontsleuteld is ruis. Om de cijfers van deze ene instelling te zien moeten samenwerken: ' +
      'de sleutelhouder met k van zijn bewaarders (die de sleutel ontgrendelen; de losse versleutelde ' +
      `bijdrage krijgt de sleutelhouder in de bundel van de coördinator) én ${countNl(t)} die hun ` +
      `Shamir-delen van de maskergeheimen van deze instelling afgeven (de geheimen zijn ${t}-uit-${shareholders} ` +
      'gedeeld); of, als de coördinator meedoet door deelnemers verschillende lijsten van overgebleven ' +
      `instellingen te sturen, ${coordNl}. Een eerlijke node geeft van één instelling nooit beide ` +
      'delen af, ook niet na een herstart. ' +
      (sparse
        ? sparse.nl
        : `Vallen er na het delen van de sleutels meer dan ${n - t} instellingen uit, dan mislukt de ronde en wordt niets ontsleuteld.`),
    en:
      `Round ${roundId} is masked (secure aggregation, threshold t = ${t}). Before encryption the ` +
      'contribution has a self mask and pairwise masks added (uniform modulo the BFV plain modulus),' +
      ' which cancel in the sum. The coordinator holds the encrypted contribution but not the key;' +
      ' the key holder holds the key and decrypts only the masked sum — one contribution decrypted ' +
      "is noise. Seeing this one institution's figures takes the key holder with k of its custodians " +
      "(who unseal the key; the key holder receives the single encrypted contribution in the coordinator's " +
      `bundle) and ${countEn(t)} handing over their Shamir shares of this institution's mask secrets ` +
      `(shared ${t} of ${shareholdersEn}) working together; or, if the coordinator joins by telling ` +
      `participants different sets of surviving institutions, ${coordEn}. An honest node never reveals ` +
      'both shares of one institution, not even after a restart. ' +
      (sparse
        ? sparse.en
        : `If more than ${n - t} institutions drop out after sharing keys, the round fails and nothing is decrypted.`),
  };
}

/** An unmasked round: the key holder with k custodians can decrypt one institution's contribution. */
function unmaskedStatement(roundId: string): ProtectionStatement {
  return {
    masked: false,
    nl:
      `Let op: ronde ${roundId} is NIET gemaskeerd. De coördinator kan de bijdrage niet lezen, maar ` +
      'de sleutelhouder krijgt bij het afsluiten elke versleutelde bijdrage afzonderlijk en kan, ' +
      'samen met k van zijn bewaarders (die de sleutel ontgrendelen), de cijfers van één instelling ' +
      'ontsleutelen; de belofte "alleen de optelsom" berust dan op de sleutelhouder en zijn bewaarders.',
    en:
      `Note: round ${roundId} is NOT masked. The coordinator cannot read the contribution, but at ` +
      'closing the key holder receives every encrypted contribution separately and, together with ' +
      "k of its custodians (who unseal the key), could decrypt one institution's figures; the promise " +
      '"only the sum" then rests on the key holder and its custodians.',
  };
}

/**
 * The sparse graph's part of the statement: who the shareholders are, the computed bound at 5 %
 * colluding participants, its assumption, and the dropout limit; null for the complete graph.
 */
function sparseText(
  n: number,
  graph: NonNullable<RoundManifest['secagg']>['graph'],
  t: number,
): { nl: string; en: string } | null {
  if (graph.kind === 'complete') return null;
  const k = graph.degree;
  const c = Math.ceil(0.05 * n);
  const p = sparseBounds(n, k, c, c, t).protection;
  const bound = p === Number.NEGATIVE_INFINITY ? null : `2^${Math.ceil(p)}`;
  const nlBound = bound
    ? `is de kans dat zij bij enige instelling genoeg buren zijn hoogstens ${bound} (berekend)`
    : 'kunnen zij bij geen enkele instelling genoeg buren zijn';
  const enBound = bound
    ? `the chance that they are enough of some institution's neighbours is at most ${bound} (computed)`
    : 'they cannot be enough of any institution’s neighbours';
  return {
    nl: [
      'De maskergraaf is schaars (Bell et al.):',
      `deze instelling deelt haar geheimen alleen met haar ${k} buren,`,
      'en de genoemde andere deelnemers moeten onder die buren zijn.',
      'Wie iemands buren zijn, ligt vast door de ronde-id (een pseudo-willekeurige volgorde op een',
      `ring). Spannen ${c} deelnemers (5 %) samen, dan ${nlBound};`,
      'die kans geldt alleen als de ronde-id niet gekozen is met kennis van wie samenspant',
      '(de coördinator kiest hem bij het openen van de ronde).',
      'Vallen er na het delen van de sleutels van de buren van één instelling meer',
      `dan ${k + 1 - t} uit, dan mislukt de ronde en wordt niets ontsleuteld.`,
    ].join(' '),
    en: [
      'The mask graph is sparse (Bell et al.):',
      `this institution shares its secrets only with its ${k} neighbours,`,
      'and the other participants named above must be among those neighbours.',
      'Who neighbours whom is fixed by the round id (a pseudo-random order on a ring).',
      `If ${c} participants (5 %) collude, ${enBound};`,
      'that chance holds only if the round id was not chosen knowing who colludes',
      '(the coordinator chooses it when it opens the round).',
      `If more than ${k + 1 - t} of one institution's neighbours drop out after sharing keys,`,
      'the round fails and nothing is decrypted.',
    ].join(' '),
  };
}

/**
 * The protection of a late or corrected contribution to a released round (issue 16, item 2;
 * docs/DECISIONS.md "Versioned re-release"), in Dutch and English. Every kind is sent unmasked
 * (the round's pairwise masks were agreed among the survivors and are gone), so the key holder
 * with k custodians could decrypt what is sent:
 * - `late`: the whole contribution; the difference between the decrypted sums of the new version
 *   and the one before is exactly it (with several late institutions, their sum);
 * - `correction` (an unmasked contribution replaced): the old and the new contribution, so also
 *   their difference;
 * - `difference` (a masked round's contribution corrected by sending new − old): exactly that
 *   difference; the masked input stays in the sum and stays masked, and the difference of the two
 *   versions' sums is this difference plus the contributions and differences of the other late or
 *   correcting institutions in the same version.
 * What the publication shows is checked by the disclosure audit against every earlier version
 * (published figures and differences derivable from figures published in both; DECISIONS 82);
 * a correcting institution counts as one of the institutions behind every changed figure, since
 * the key holder cannot see which correction touched which figure.
 */
export function lateProtectionStatement(manifest: RoundManifest, kind: LateKind): ProtectionStatement {
  const roundId = manifest.round_id;
  const min = manifest.thresholds.min_institutions;
  const what =
    kind === 'late'
      ? lateText(roundId, Boolean(manifest.secagg))
      : kind === 'correction'
        ? correctionText(roundId)
        : differenceText(roundId);
  return {
    masked: false,
    nl: [
      `${what.nl} Wat gepubliceerd wordt, controleert de openbaarmakingscontrole tegen elke eerdere`,
      'versie: een nieuwe versie waarin een cijfer dat ook eerder gepubliceerd is, of een cijfer',
      'waarvan de verandering volgt uit cijfers die in beide versies gepubliceerd zijn, verandert door de',
      `bijdrage van minder dan ${min} instellingen, wordt geweigerd en niet ondertekend;`,
      'een onderdrukt cijfer dat via een eerdere versie af te leiden zou worden, wordt ook onderdrukt',
      'of de versie wordt geweigerd;',
      'elke corrigerende instelling telt daarbij mee als instelling achter elke wijziging,',
      'omdat de sleutelhouder niet kan zien welke correctie welk cijfer raakte.',
    ].join(' '),
    en: [
      `${what.en} The disclosure audit checks what is published against every earlier version:`,
      'a new version in which a figure that was published before, or a figure whose change follows from',
      'figures published in both versions, changes by the contribution of fewer',
      `than ${min} institutions is refused and not signed;`,
      'a suppressed figure that an earlier version would make derivable is protected by further',
      'suppression or the version is refused;',
      'every correcting institution counts as one of the institutions behind every change,',
      'since the key holder cannot see which correction touched which figure.',
    ].join(' '),
  };
}

/** What a late contribution reveals, and to whom (`late`); `secagg`: the round itself was masked. */
function lateText(roundId: string, secagg: boolean): { nl: string; en: string } {
  const masked = secagg ? ' Ook al is de ronde gemaskeerd: ' : ' ';
  const maskedEn = secagg ? ' Although the round is masked: ' : ' ';
  return {
    nl: [
      `Let op: dit is een LATE bijdrage aan ronde ${roundId}, die al gepubliceerd is;`,
      `ze leidt tot een nieuwe versie van de publicatie.${masked}een late bijdrage wordt NIET`,
      'gemaskeerd (de maskers van de ronde zijn tussen de overgebleven instellingen afgesproken en',
      'bestaan niet meer). De coördinator kan de bijdrage niet lezen,',
      'maar de sleutelhouder krijgt haar afzonderlijk in de bundel en kan,',
      'samen met k van zijn bewaarders (die de sleutel ontgrendelen),',
      'de cijfers van deze instelling ontsleutelen.',
      'Bovendien is het verschil tussen de ontsleutelde optelsom van de nieuwe versie en die van de',
      'vorige precies deze bijdrage (met meer late instellingen: hun som);',
      'dat verschil ziet de sleutelhouder met k bewaarders bij elke versie.',
    ].join(' '),
    en: [
      `Note: this is a LATE contribution to round ${roundId}, which has been released;`,
      `it leads to a new version of the release.${maskedEn}a late contribution is NOT masked`,
      `(the round's masks were agreed among the surviving institutions and no longer exist).`,
      'The coordinator cannot read it, but the key holder receives it separately in the bundle and,',
      'together with k of its custodians (who unseal the key),',
      `could decrypt this institution's figures.`,
      'Moreover, the difference between the decrypted sum of the new version and that of the previous',
      'one is exactly this contribution (with more late institutions: their sum);',
      'the key holder with k custodians sees that difference at every version.',
    ].join(' '),
  };
}

/** What the correction of an unmasked contribution reveals, and to whom (`correction`). */
function correctionText(roundId: string): { nl: string; en: string } {
  return {
    nl: [
      `Let op: dit is een CORRECTIE van de bijdrage aan ronde ${roundId}, die al gepubliceerd is;`,
      'ze vervangt de eerdere bijdrage en leidt tot een nieuwe versie.',
      'De eerdere bijdrage van deze instelling was niet gemaskeerd en de correctie is dat ook niet:',
      'de sleutelhouder kan met k van zijn bewaarders de oude en de nieuwe bijdrage ontsleutelen,',
      'en het verschil tussen de optelsommen van de twee versies is precies de wijziging',
      '(met meer late of corrigerende instellingen: samen met de hunne).',
    ].join(' '),
    en: [
      `Note: this is a CORRECTION of the contribution to round ${roundId}, which has been released;`,
      'it replaces the earlier contribution and leads to a new version.',
      `This institution's earlier contribution was not masked and neither is the correction:`,
      'the key holder with k of its custodians could decrypt the old and the new contribution,',
      `and the difference between the two versions' sums is exactly the change`,
      '(with more late or correcting institutions: together with theirs).',
    ].join(' '),
  };
}

/** What the difference correcting a masked contribution reveals, and to whom (`difference`). */
function differenceText(roundId: string): { nl: string; en: string } {
  return {
    nl: [
      `Let op: dit is een CORRECTIE van de gemaskeerde bijdrage aan ronde ${roundId},`,
      'die al gepubliceerd is; ze leidt tot een nieuwe versie.',
      'De gemaskeerde bijdrage zit in de optelsom en kan er niet uit',
      '(daarvoor zijn beide soorten Shamir-delen van deze instelling nodig,',
      'die geen eerlijke node afgeeft); die blijft gemaskeerd.',
      'Daarom gaat alleen het VERSCHIL (gecorrigeerde cijfers min de eerder verstuurde,',
      'zoals hieronder getoond) erheen, versleuteld maar NIET gemaskeerd.',
      'De coördinator kan het niet lezen; de sleutelhouder krijgt het afzonderlijk in de bundel en kan,',
      'samen met k van zijn bewaarders, dit verschil precies ontsleutelen',
      '(niet de oude of de nieuwe cijfers zelf).',
      'Het verschil tussen de ontsleutelde optelsommen van de nieuwe versie en de vorige is dit',
      'verschil, opgeteld bij de bijdragen en verschillen van de andere late of corrigerende',
      'instellingen in dezelfde versie. Een andere corrigerende instelling die weet dat haar eigen',
      'correctie een gepubliceerd cijfer niet raakte, kan uit de twee versies afleiden hoe de late en',
      'corrigerende instellingen samen dat cijfer veranderden (met maar één andere:',
      'uw wijziging precies).',
    ].join(' '),
    en: [
      `Note: this is a CORRECTION of the masked contribution to round ${roundId},`,
      'which has been released; it leads to a new version.',
      'The masked contribution is in the sum and cannot be taken out',
      '(that would need both kinds of Shamir share of this institution, which no honest node reveals);',
      'it stays masked. So only the DIFFERENCE (corrected figures minus those sent before,',
      'as shown below) is sent, encrypted but NOT masked. The coordinator cannot read it;',
      'the key holder receives it separately in the bundle and, with k of its custodians,',
      'could decrypt this difference exactly (not the old or the new figures themselves).',
      'The difference between the decrypted sums of the new version and the previous one is this',
      'difference plus the contributions and differences of the other late or correcting institutions',
      'in the same version. Another correcting institution that knows its own correction did not touch',
      'a published figure can derive from the two versions how the late and correcting institutions',
      'together changed that figure (with only one other: your change exactly).',
    ].join(' '),
  };
}
