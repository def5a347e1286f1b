import type { RoundManifest } from '../../schemas/manifest.js';

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
 * participants giving up their shares. Unmasked round: the key holder with k custodians.
 */
export function protectionStatement(m: RoundManifest): ProtectionStatement {
  const n = m.participants.length;
  const s = m.secagg;
  if (!s) {
    return {
      masked: false,
      nl: `Let op: ronde ${m.round_id} is NIET gemaskeerd. De coördinator kan de bijdrage niet lezen, maar de sleutelhouder krijgt bij het afsluiten elke versleutelde bijdrage afzonderlijk en kan, samen met k van zijn bewaarders (die de sleutel ontgrendelen), de cijfers van één instelling ontsleutelen; de belofte "alleen de optelsom" berust dan op de sleutelhouder en zijn bewaarders.`,
      en: `Note: round ${m.round_id} is NOT masked. The coordinator cannot read the contribution, but at closing the key holder receives every encrypted contribution separately and, together with k of its custodians (who unseal the key), could decrypt one institution's figures; the promise "only the sum" then rests on the key holder and its custodians.`,
    };
  }
  const shareholders =
    s.graph.kind === 'complete'
      ? `alle ${n} deelnemers`
      : `${s.graph.degree + 1} deelnemers (de instelling en haar ${s.graph.degree} buren in de maskergraaf)`;
  const shareholdersEn =
    s.graph.kind === 'complete'
      ? `all ${n} participants`
      : `${s.graph.degree + 1} participants (the institution and its ${s.graph.degree} neighbours in the mask graph)`;
  return {
    masked: true,
    nl: `Ronde ${m.round_id} is gemaskeerd (secure aggregation, drempel t = ${s.threshold}). De bijdrage is vóór de versleuteling opgeteld bij een zelfmasker en paarsgewijze maskers (uniform modulo de BFV-klaartekstmodulus), die in de optelsom wegvallen. De coördinator heeft de versleutelde bijdrage maar niet de sleutel; de sleutelhouder heeft de sleutel en ontsleutelt alleen de gemaskeerde optelsom — één bijdrage ontsleuteld is ruis. Om de cijfers van deze ene instelling te zien moeten samenwerken: de sleutelhouder met k van zijn bewaarders (die de sleutel ontgrendelen; de losse versleutelde bijdrage krijgt de sleutelhouder in de bundel van de coördinator) én minstens ${s.threshold} andere deelnemers die hun Shamir-delen van de maskergeheimen van deze instelling afgeven (de geheimen zijn ${s.threshold}-uit-${shareholders} gedeeld). Een eerlijke node geeft van één instelling nooit beide delen af, ook niet na een herstart. Vallen er na het delen van de sleutels meer dan ${n - s.threshold} instellingen uit, dan mislukt de ronde en wordt niets ontsleuteld.`,
    en: `Round ${m.round_id} is masked (secure aggregation, threshold t = ${s.threshold}). Before encryption the contribution has a self mask and pairwise masks added (uniform modulo the BFV plain modulus), which cancel in the sum. The coordinator holds the encrypted contribution but not the key; the key holder holds the key and decrypts only the masked sum — one contribution decrypted is noise. Seeing this one institution's figures takes the key holder with k of its custodians (who unseal the key; the key holder receives the single encrypted contribution in the coordinator's bundle) and at least ${s.threshold} other participants handing over their Shamir shares of this institution's mask secrets (shared ${s.threshold} of ${shareholdersEn}) working together. An honest node never reveals both shares of one institution, not even after a restart. If more than ${n - s.threshold} institutions drop out after sharing keys, the round fails and nothing is decrypted.`,
  };
}
