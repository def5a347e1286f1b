/**
 * Why a sector figure was not published, in plain Dutch with the round's thresholds, and what
 * the reader can do instead. Rule codes never reach the page.
 * @see ../../../shared/spec/ARCHITECTURE.md "Disclosure control"
 */
export interface RuleThresholds {
  min_institutions: number;
  min_population: number;
  dominance_share: number;
  min_institutions_distribution: number;
}

const pct = new Intl.NumberFormat('nl-NL', { style: 'percent', maximumFractionDigits: 1 });

/** The reason, completing "Niet gepubliceerd: …". */
export function ruleSentence(rule: string, t: RuleThresholds): string {
  switch (rule) {
    case 'min_institutions':
      return `minder dan ${t.min_institutions} instellingen bieden dit aan, dus één instelling zou herkenbaar zijn`;
    case 'min_population':
      return `minder dan ${t.min_population} studenten, dus te klein om iets over studenten te zeggen zonder ze herkenbaar te maken`;
    case 'dominance':
      return (
        `één instelling kan meer dan ${pct.format(t.dominance_share).replace(/\u00a0/g, '')} van de ` +
        'studenten hebben, dus het cijfer zou vooral over die instelling gaan'
      );
    case 'secondary':
      return 'weggelaten zodat een ander weggelaten cijfer niet uit totalen terug te rekenen is';
    case 'min_institutions_distribution':
      return `minder dan ${t.min_institutions_distribution} instellingen in de verdeling`;
    case 'keyholder_only':
      return 'alleen voor de sleutelhouder, voor de controle';
    case 'not_released':
      return 'niet in deze publicatie';
    default:
      return 'om instellingen en studenten te beschermen';
  }
}

/** What the reader can do when a figure is withheld. */
export const WIDEN_NL =
  'Kijk bij de sectorkamer of het niveau waar deze opleiding onder valt: die cijfers tellen meer instellingen en studenten en zijn vaak wel gepubliceerd.';
