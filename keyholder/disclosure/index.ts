/**
 * Disclosure control of the key holder (ARCHITECTURE.md "Layers of protection"): a context
 * built from the decrypted sector sum, passes that refine per-block decisions (only ever
 * suppressing more), and the rendering into release rows.
 */
export { BLOCKS, BLOCK_COUNTS, BLOCK_SLOTS, disclosureContext } from './context.js';
export { allPublished, runDisclosure, type PassSummary } from './pipeline.js';
export { PRIMARY_PASS_NAME, primaryBlockDecision, primaryDisclosure, primaryPass } from './primary.js';
export { renderReleaseRows } from './render.js';
export type * from './types.js';

import { primaryPass } from './primary.js';
import type { DisclosurePass } from './types.js';

/** The passes a release runs, in order. Dominance, distributions and secondary suppression come next. */
export const DEFAULT_PASSES: readonly DisclosurePass[] = Object.freeze([primaryPass]);
