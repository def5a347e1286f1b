import type { Rng } from './prng.js';
import { itemAt } from '../shared/arrays/checked-index.js';
import type { CodebookEntry } from '../shared/metrics/codebook.js';

/** The eight sectorkamers of SBB (code, name). */
export const SECTORKAMERS: readonly (readonly [string, string])[] = [
  ['HAN', 'Handel'],
  ['ICI', 'ICT en creatieve industrie'],
  ['MTLM', 'Mobiliteit, transport, logistiek en maritiem'],
  ['SV', 'Specialistisch vakmanschap'],
  ['TGO', 'Techniek en gebouwde omgeving'],
  ['VGG', 'Voedsel, groen en gastvrijheid'],
  ['ZDV', 'Zakelijke dienstverlening en veiligheid'],
  ['ZWS', 'Zorg, welzijn en sport'],
];

/** Base programmes per sectorkamer with the niveaus they exist at. */
const PROGRAMMES: Record<string, readonly (readonly [string, readonly number[]])[]> = {
  HAN: [
    ['Verkoper', [2]],
    ['Verkoopspecialist', [3]],
    ['Ondernemer retail', [4]],
    ['Medewerker e-commerce', [2, 3]],
    ['Manager retail', [4]],
    ['Entree, assistent verkoop/retail', [1]],
  ],
  ICI: [
    ['Medewerker ICT', [2]],
    ['Allround medewerker IT systems and devices', [3]],
    ['Expert IT systems and devices', [4]],
    ['Software developer', [4]],
    ['Mediavormgever', [4]],
    ['Audiovisueel specialist', [4]],
    ['Signmaker', [2, 3]],
  ],
  MTLM: [
    ['Logistiek medewerker', [2]],
    ['Logistiek teamleider', [3]],
    ['Autotechniek', [2, 3, 4]],
    ['Chauffeur wegvervoer', [2]],
    ['Vliegtuigonderhoud', [2, 3, 4]],
    ['Schipper binnenvaart', [3]],
    ['Entree, assistent logistiek', [1]],
  ],
  SV: [
    ['Meubelmaker', [2, 3]],
    ['Goud- en zilversmid', [2, 3, 4]],
    ['Haarverzorging', [2, 3]],
    ['Uurwerktechnicus', [3, 4]],
    ['Orthopedisch schoentechnicus', [3]],
  ],
  TGO: [
    ['Bouwkunde', [4]],
    ['Timmerman', [2, 3]],
    ['Installatietechniek', [2, 3, 4]],
    ['Elektrotechniek', [2, 3, 4]],
    ['Metaal en techniek', [2, 3]],
    ['Schilder', [2, 3]],
    ['Mechatronica', [3, 4]],
    ['Entree, assistent bouwen en wonen', [1]],
  ],
  VGG: [
    ['Kok', [2, 3]],
    ['Gastheer/gastvrouw', [2, 3]],
    ['Bloem en styling', [2, 3, 4]],
    ['Dierverzorging', [2, 3, 4]],
    ['Hovenier', [2, 3]],
    ['Manager horeca', [4]],
    ['Entree, assistent horeca en voeding', [1]],
  ],
  ZDV: [
    ['Management assistant', [4]],
    ['Beveiliger', [2]],
    ['Zelfstandig medewerker toerisme', [3]],
    ['Juridisch medewerker', [4]],
    ['Financieel administratief medewerker', [3, 4]],
    ['Medewerker evenementen', [3]],
  ],
  ZWS: [
    ['Helpende zorg en welzijn', [2]],
    ['Verzorgende IG', [3]],
    ['Verpleegkundige', [4]],
    ['Pedagogisch medewerker', [3, 4]],
    ['Sport en bewegen', [2, 3, 4]],
    ['Tandartsassistent', [4]],
    ['Apothekersassistent', [4]],
    ['Maatschappelijke zorg', [3, 4]],
    ['Entree, assistent dienstverlening en zorg', [1]],
  ],
};

const ROMAN = ['', ' II', ' III', ' IV', ' V', ' VI', ' VII', ' VIII', ' IX', ' X'];

/**
 * A realistic-ish codebook of `size` programmes (default ~120): crebo codes starting with 9,
 * names ending "(synthetisch)", niveau 1-4 and the 8 sectorkamers. Larger sizes repeat the base
 * programmes as numbered variants.
 * @see ../../shared/spec/INPUT.md "Codebook"
 */
export function generateCodebook(rng: Rng, size = 120): CodebookEntry[] {
  const base: { name: string; niveau: 1 | 2 | 3 | 4; sk: string }[] = [];
  for (const [sk] of SECTORKAMERS)
    for (const [name, niveaus] of PROGRAMMES[sk] ?? [])
      for (const n of niveaus) base.push({ name, niveau: n as 1 | 2 | 3 | 4, sk });
  const used = new Set<string>();
  const out: CodebookEntry[] = [];
  for (let round = 0; out.length < size; round++) {
    for (const b of base) {
      if (out.length >= size) break;
      let crebo: string;
      do crebo = String(90000 + rng.int(0, 9999)).padStart(5, '0');
      while (used.has(crebo));
      used.add(crebo);
      const sk = SECTORKAMERS.find(([c]) => c === b.sk) as readonly [string, string];
      const suffix = round < ROMAN.length ? itemAt(ROMAN, round) : ` ${round + 1}`;
      out.push({
        crebo,
        name: `${b.name}${suffix} (synthetisch)`,
        niveau: b.niveau,
        sectorkamerCode: sk[0],
        sectorkamerName: sk[1],
      });
    }
  }
  // Order as SBB lists them: by sectorkamer, then name, niveau.
  return out;
}

/** Crebo codes (5 digits, starting with 9) that are not in the codebook, for enrolments outside it. */
export function unknownCrebos(rng: Rng, codebook: readonly CodebookEntry[], n: number): string[] {
  const used = new Set(codebook.map((e) => e.crebo));
  const out: string[] = [];
  while (out.length < n) {
    const c = String(90000 + rng.int(0, 9999));
    if (!used.has(c)) {
      used.add(c);
      out.push(c);
    }
  }
  return out;
}
