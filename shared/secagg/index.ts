/**
 * Secure aggregation core (Bonawitz et al., CCS 2017; sparse graph of Bell et al., CCS 2020):
 * pure functions, no I/O. See README.md in this folder for the protocol step by step.
 */
export * from './bytes.js';
export * from './graph.js';
export * from './keys.js';
export * from './mask.js';
export * from './mask-pool.js';
export * from './mask-tasks.js';
export * from './prg.js';
export * from './reveal.js';
export * from './shares.js';
export * from './sparse-bound.js';
export * from './survivors.js';
export * from './threshold.js';
export type {
  AdvertisedKeys,
  EncryptedReveal,
  EncryptedShares,
  RevealRecord,
  SurvivorSetSignature,
} from '../../schemas/secagg-messages.js';
