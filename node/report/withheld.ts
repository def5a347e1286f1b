/**
 * Which sector figures of a release row are withheld, and by which rule: moved to
 * shared/metrics/withheld.ts so the coordinator's publication site withholds exactly the figures
 * the comparison does. Re-exported here so the comparison's imports keep working.
 */
export {
  type Block,
  BLOCK_POPULATION,
  blockRules,
  earlyBandId,
  earlyBandInputs,
  FIGURE_INPUTS,
  figureInputs,
  PEARSON_ID,
  PEARSON_INPUTS,
  singlyWithheld,
  withheldRule,
} from '../../shared/metrics/withheld.js';
