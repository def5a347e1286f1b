/**
 * Readable Dutch names for cells and rollup groups: programme names and sectorkamer names
 * from the codebook, never the internal keys (`sectorkamer_niveau|HAN|1`, `total`).
 */
export interface ProgrammeInfo {
  crebo: string;
  name: string;
  niveau: number;
  sectorkamerCode: string;
  sectorkamerName: string;
}

/** Lookups built once per codebook. */
export interface Names {
  programme: ReadonlyMap<string, ProgrammeInfo>;
  sectorkamer: ReadonlyMap<string, string>;
}

export function namesOf(entries: readonly ProgrammeInfo[]): Names {
  return {
    programme: new Map(entries.map((e) => [e.crebo, e])),
    sectorkamer: new Map(entries.map((e) => [e.sectorkamerCode, e.sectorkamerName || e.sectorkamerCode])),
  };
}

/** `Autotechniek (crebo 25000), niveau 2, BOL`. */
export function cellLabel(key: string, names: Names): string {
  const [crebo = '', niveau = '', leerweg = ''] = key.split('|');
  const p = names.programme.get(crebo);
  return `${p?.name || `Opleiding ${crebo}`} (crebo ${crebo}), niveau ${niveau}, ${leerweg}`;
}

/** Short programme name of a cell without its crebo: `Autotechniek, niveau 2, BOL`. */
export function cellShortLabel(key: string, names: Names): string {
  const [crebo = '', niveau = '', leerweg = ''] = key.split('|');
  return `${names.programme.get(crebo)?.name || `Opleiding ${crebo}`}, niveau ${niveau}, ${leerweg}`;
}

/** Name of a rollup group; `whole` names the `total` group (e.g. the institution or the sector). */
export function groupLabel(key: string, names: Names, whole = 'Alle opleidingen'): string {
  const p = key.split('|');
  const sk = (c: string) => `Sectorkamer ${names.sectorkamer.get(c) ?? c}`;
  switch (p[0]) {
    case 'total':
      return whole;
    case 'niveau':
      return `Niveau ${p[1]}`;
    case 'leerweg':
      return p[1] === 'BBL' ? 'BBL (beroepsbegeleidend)' : 'BOL (beroepsopleidend)';
    case 'sectorkamer':
      return sk(p[1] ?? '');
    case 'sectorkamer_niveau':
      return `${sk(p[1] ?? '')}, niveau ${p[2]}`;
    default:
      return key;
  }
}

/** Order of rollup groups on a page: whole, niveau, leerweg, sectorkamer, sectorkamer × niveau. */
export function groupRank(key: string): number {
  return ['total', 'niveau', 'leerweg', 'sectorkamer', 'sectorkamer_niveau'].indexOf(key.split('|')[0] ?? '');
}
