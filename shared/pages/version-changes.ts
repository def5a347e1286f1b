import type { Release } from '../../schemas/release.js';
import { escapeHtml as esc } from './html.js';
import { nlInt } from './format-nl.js';

/** What changed between two versions of a round's release, counted per published figure (slot of a row). */
export interface VersionChanges {
  version: number;
  previousVersion: number;
  /** Figures published in both versions with another value now. */
  changed: number;
  /** Figures suppressed in the previous version and published now. */
  newlyPublished: number;
  /** Figures published in the previous version and suppressed now. */
  nowSuppressed: number;
  /** Contributing institutions in each version. */
  institutions: { before: number; now: number };
}

/**
 * Compare a release with the version it replaces (issue 16, item 2), figure by figure: every
 * slot of every cell and rollup row (block A and B sums; distributions are not counted). A row
 * that only one version has counts its slots as newly published or now suppressed.
 */
export function versionChanges(previous: Release, current: Release): VersionChanges {
  let changed = 0;
  let newlyPublished = 0;
  let nowSuppressed = 0;
  for (const kind of ['cells', 'rollups'] as const) {
    const keys = new Set([...Object.keys(previous[kind]), ...Object.keys(current[kind])]);
    for (const key of keys) {
      const before = previous[kind][key]?.slots ?? {};
      const now = current[kind][key]?.slots ?? {};
      for (const slot of new Set([...Object.keys(before), ...Object.keys(now)])) {
        const a = before[slot] ?? null;
        const b = now[slot] ?? null;
        if (a !== null && b !== null && a !== b) changed++;
        else if (a === null && b !== null) newlyPublished++;
        else if (a !== null && b === null) nowSuppressed++;
      }
    }
  }
  return {
    version: current.release_version,
    previousVersion: previous.release_version,
    changed,
    newlyPublished,
    nowSuppressed,
    institutions: { before: previous.institutions, now: current.institutions },
  };
}

const count = (n: number, one: string, many: string) => `${nlInt(n)} ${n === 1 ? one : many}`;

/** One Dutch sentence: "Versie 2 van deze benchmark (vervangt versie 1): 14 cijfers gewijzigd, 3 nieuw gepubliceerd, 2 nu onderdrukt; …". */
export function versionChangesNl(c: VersionChanges): string {
  const inst =
    c.institutions.now === c.institutions.before
      ? `nog steeds ${count(c.institutions.now, 'instelling', 'instellingen')}`
      : `${nlInt(c.institutions.now)} in plaats van ${count(c.institutions.before, 'instelling', 'instellingen')}`;
  return (
    `Versie ${nlInt(c.version)} van deze benchmark (vervangt versie ${nlInt(c.previousVersion)}): ` +
    `${count(c.changed, 'cijfer', 'cijfers')} gewijzigd, ${nlInt(c.newlyPublished)} nieuw gepubliceerd,` +
    ` ${nlInt(c.nowSuppressed)} nu onderdrukt; ${inst} in de optelsom.`
  );
}

/** The paragraph of a node's comparison page that says what this version changed. */
export function versionChangesHtml(c: VersionChanges): string {
  return (
    `<p class="version-changes"><strong>${esc(versionChangesNl(c))}</strong> Een nieuwe versie ` +
    'volgt op een late of gecorrigeerde bijdrage; de sleutelhouder heeft vóór ondertekening nagegaan ' +
    'dat geen cijfer door vergelijking met eerdere versies de bijdrage van te weinig instellingen ' +
    `prijsgeeft. Gewijzigde cijfers gelden vanaf nu; vergelijkingen met versie ${nlInt(c.previousVersion)} ` +
    'zijn vervangen.</p>'
  );
}
