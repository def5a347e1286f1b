/**
 * Plain Dutch explanations of the METRICS.md slots, for the preview a privacy officer reads
 * (issue 6). Names are the METRICS.md slot names; the text says what is counted.
 *
 * @see ../../../shared/spec/METRICS.md "The contribution vector of one institution"
 */
const HIST_A = [
  '0 tot 2%',
  '2 tot 5%',
  '5 tot 10%',
  '10 tot 15%',
  '15 tot 20%',
  '20 tot 30%',
  '30 tot 50%',
  '50 tot en met 100%',
];
const EARLY = ['0 tot 70%', '70 tot 80%', '80 tot 90%', '90 tot 95%', '95 tot en met 100%'];
const ABS_BIN = [
  '0 tot 5%',
  '5 tot 7,5%',
  '7,5 tot 10%',
  '10 tot 12,5%',
  '12,5 tot 15%',
  '15 tot 17,5%',
  '17,5 tot 20%',
  '20 tot 25%',
  '25 tot 30%',
  '30 tot en met 100%',
];
const DROP_BIN = [
  '0 tot 5%',
  '5 tot 10%',
  '10 tot 15%',
  '15 tot 20%',
  '20 tot 25%',
  '25 tot 30%',
  '30 tot 35%',
  '35 tot 40%',
  '40 tot 50%',
  '50 tot en met 100%',
];

const TEXT: Record<string, string> = {
  a_enrolments: 'aantal inschrijvingen met minstens één telbare registratie in het studiejaar',
  a_rated: 'daarvan: inschrijvingen met geregistreerde minuten (aanwezig of afwezig)',
  a_min_planned: 'som van geplande lesminuten (geregistreerd + niet geregistreerd)',
  a_min_registered: 'som van geregistreerde lesminuten',
  a_min_present: 'som van aanwezige minuten (incl. te laat)',
  a_min_abs_auth: 'som van geoorloofd afwezige minuten',
  a_min_abs_unauth: 'som van ongeoorloofd afwezige minuten',
  a_obs_registered: 'aantal geregistreerde lessen (aanwezig, te laat of afwezig)',
  a_late: 'aantal lessen te laat',
  a_signal16: 'inschrijvingen met ≥ 16 uur ongeoorloofd verzuim binnen 4 opeenvolgende lesweken',
  a_age_known: 'inschrijvingen waarvan de leeftijd op 1 oktober bekend is',
  a_enrolments_u18: 'inschrijvingen van studenten jonger dan 18 op 1 oktober',
  a_signal16_u18: 'daarvan: met het 16-uurssignaal',
  b_starters: 'aantal starters (nieuw in de instelling, hoofdinschrijving op 1 oktober)',
  b_retained: 'starters die een jaar later nog ingeschreven zijn',
  b_left_diploma: 'starters die binnen het jaar met diploma vertrokken',
  b_switched: 'gebleven starters die naar een andere opleiding (zelfde of lager niveau) overstapten',
  b_progressed: 'gebleven starters die naar een hoger niveau doorstroomden',
  b_early_n: 'starters met een bekende aanwezigheid in de eerste 6 lesweken',
  b_sum_x: 'som van de vroege aanwezigheid (in promille) van die starters',
  b_sum_x2: 'som van de kwadraten daarvan (voor de correlatie)',
  b_sum_xy: 'som van de vroege aanwezigheid van de uitvallers',
  c_contrib_a: '1 als deze instelling aan blok A bijdraagt, anders 0 (telt instellingen)',
  c_contrib_b: '1 als deze instelling starters heeft, anders 0 (telt instellingen)',
  c_sq_a: [
    'aantal inschrijvingen in het kwadraat (alleen voor de dominantietoets van de sleutelhouder;',
    'wordt nooit gepubliceerd)',
  ].join(' '),
  c_sq_b: 'aantal starters in het kwadraat (alleen voor de dominantietoets; wordt nooit gepubliceerd)',
};
HIST_A.forEach((b, i) => {
  TEXT[`a_hist_${i}`] = `beoordeelde inschrijvingen met verzuim van ${b} van de geregistreerde tijd`;
});
EARLY.forEach((b, i) => {
  TEXT[`b_early_total_${i}`] = `starters met vroege aanwezigheid ${b}`;
  TEXT[`b_early_dropout_${i}`] = `daarvan uitgevallen, vroege aanwezigheid ${b}`;
});
ABS_BIN.forEach((b, i) => {
  TEXT[`c_abs_bin_${i}`] = `1 als het verzuim van deze instelling ${b} is (alleen bij ≥ 10 beoordeelde inschrijvingen)`;
});
DROP_BIN.forEach((b, i) => {
  TEXT[`c_drop_bin_${i}`] = `1 als de uitval van deze instelling ${b} is (alleen bij ≥ 10 starters)`;
});

/** The Dutch explanation of a slot name, or the name itself when unknown. */
export function slotText(slot: string): string {
  return TEXT[slot] ?? slot;
}

/**
 * The parts of a cell key `crebo|niveau|leerweg` (shared/metrics/codebook.ts `cellKey`), as text.
 *
 * @throws RangeError when `key` has fewer than three parts (a programming error: keys come from the codebook).
 */
export function cellKeyParts(key: string): { crebo: string; niveau: string; leerweg: string } {
  const [crebo, niveau, leerweg] = key.split('|');
  if (crebo === undefined || niveau === undefined || leerweg === undefined)
    throw new RangeError(`not a cell key: ${key}`);
  return { crebo, niveau, leerweg };
}

/** Dutch label of a rollup group key (`total`, `niveau|2`, `sectorkamer|X`, …). */
export function groupText(key: string): string {
  const [kind, a, b] = key.split('|');
  if (kind === 'total') return 'hele instelling';
  if (kind === 'niveau') return `niveau ${a}`;
  if (kind === 'leerweg') return `leerweg ${a}`;
  if (kind === 'sectorkamer') return `sectorkamer ${a}`;
  if (kind === 'sectorkamer_niveau') return `sectorkamer ${a}, niveau ${b}`;
  return key;
}
