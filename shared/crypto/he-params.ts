/**
 * The one BFV parameter set of sectorbench (node-seal 6.0.3, SEAL 4.1.2).
 *
 * Every value below is *derived* by SEAL from the three choices (N, coefficient modulus, plain
 * modulus); `he-context.ts` recomputes them at start-up and refuses to run when node-seal
 * derives anything else, so an upgraded or patched node-seal cannot silently change the wire
 * format or the modulus that sums wrap at.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Layers of protection" (homomorphic encryption)
 * @see ../../../shared/spec/METRICS.md "Largest values"
 */
export const HE_PARAMS = Object.freeze({
  /** Identifier carried in envelopes and manifests. */
  id: 'bfv-n4096-t40-tc128-v1',
  scheme: 'bfv',
  nodeSeal: '6.0.3',
  seal: '4.1.2',
  polyModulusDegree: 4096,
  /** `CoeffModulus.BFVDefault(4096, SecurityLevel.tc128)` */
  coeffModulus: 'BFVDefault(4096,tc128)',
  /** `PlainModulus.Batching(4096, 40)` */
  plainModulusBits: 40,
  securityLevel: 'tc128',
} as const);

/** Plain modulus t: every slot is an integer modulo t, sums wrap modulo t. */
export const PLAIN_MODULUS = 1099511480321n;

/** Slots per BFV plaintext (batching): N. */
export const SLOTS_PER_CIPHERTEXT = 4096;

/** Moduli q_j of the data level (the level fresh ciphertexts and their sums live at). */
export const DATA_COEFF_MODULI: readonly bigint[] = Object.freeze([68719403009n, 68719230977n]);

/** Moduli of the key level (data level plus the special prime). */
export const KEY_COEFF_MODULI: readonly bigint[] = Object.freeze([68719403009n, 68719230977n, 137438822401n]);

/** SEAL's parms_id of the data level (SHA-3 of the parameters), hex of 4 little-endian u64. */
export const DATA_PARMS_ID_HEX = 'a3fc8c45ad976a7ce685db7c20583c8c0305a5b0dda020f91dbc29f60a66207c';

/** SEAL's parms_id of the key level (public and secret keys). */
export const KEY_PARMS_ID_HEX = '1e5ddb5c2d0561081534885ae95fbdf7cf0958fee10b9de9ad3f750bfa20d19b';

/** Exact byte length of an uncompressed public key (2 polynomials, 3 moduli, NTT form). */
export const PUBLIC_KEY_BYTES = 196721;

/** Exact byte length of an uncompressed secret key. */
export const SECRET_KEY_BYTES = 98392;

/** Exact byte length of one uncompressed ciphertext (2 polynomials, 2 moduli, N coefficients). */
export const CIPHERTEXT_BYTES = 131185;

/** Offset of the first coefficient in a serialized ciphertext. */
export const CIPHERTEXT_DATA_OFFSET = 113;

/** Number of u64 coefficients in a ciphertext: 2 polynomials x 2 moduli x N. */
export const CIPHERTEXT_COEFFS = 2 * 2 * 4096;
