import { createRequire } from 'node:module';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import type { Context } from 'node-seal/implementation/context.js';
import type { BatchEncoder } from 'node-seal/implementation/batch-encoder.js';
import type { Evaluator } from 'node-seal/implementation/evaluator.js';
import { SbError } from '../errors/sb-error.js';
import {
  DATA_COEFF_MODULI,
  DATA_PARMS_ID_HEX,
  HE_PARAMS,
  KEY_COEFF_MODULI,
  KEY_PARMS_ID_HEX,
  PLAIN_MODULUS,
  SLOTS_PER_CIPHERTEXT,
} from './he-params.js';

const require = createRequire(import.meta.url);

/** The process-wide (or worker-wide) SEAL objects for {@link HE_PARAMS}. Never deleted. */
export interface HeContext {
  seal: SEALLibrary;
  context: Context;
  encoder: BatchEncoder;
  evaluator: Evaluator;
}

let pending: Promise<HeContext> | undefined;

/** Hex of a SEAL parms_id as it appears in serialized objects (4 little-endian u64). */
export function parmsIdHex(values: BigUint64Array): string {
  const b = Buffer.alloc(32);
  values.forEach((v, i) => {
    b.writeBigUInt64LE(v, i * 8);
  });
  return b.toString('hex');
}

function same(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function create(): Promise<HeContext> {
  const init = require('node-seal') as () => Promise<SEALLibrary>;
  const seal = await init();
  const { SchemeType, SecurityLevel, CoeffModulus, PlainModulus } = seal;
  const parms = seal.EncryptionParameters(SchemeType.bfv);
  try {
    parms.setPolyModulusDegree(HE_PARAMS.polyModulusDegree);
    parms.setCoeffModulus(CoeffModulus.BFVDefault(HE_PARAMS.polyModulusDegree, SecurityLevel.tc128));
    parms.setPlainModulus(PlainModulus.Batching(HE_PARAMS.polyModulusDegree, HE_PARAMS.plainModulusBits));
    const context = seal.Context(parms, true, SecurityLevel.tc128);
    if (!context.parametersSet()) {
      throw new SbError(
        'SB_ERR_HE_PARAMS',
        'SEAL refused the BFV parameters; reinstall node-seal 6.0.3 exactly (npm ci).',
      );
    }
    const first = context.firstContextData;
    const key = context.keyContextData;
    const derived = {
      t: first.parms.plainModulus.value,
      data: [...first.parms.coeffModulus],
      key: [...key.parms.coeffModulus],
      parms: parmsIdHex(first.parmsId.values),
    };
    if (
      derived.t !== PLAIN_MODULUS ||
      !same(derived.data, DATA_COEFF_MODULI) ||
      !same(derived.key, KEY_COEFF_MODULI) ||
      derived.parms !== DATA_PARMS_ID_HEX ||
      parmsIdHex(key.parmsId.values) !== KEY_PARMS_ID_HEX
    ) {
      throw new SbError(
        'SB_ERR_HE_PARAMS',
        `node-seal ${seal.Version} derived other BFV parameters than sectorbench ${HE_PARAMS.id} expects;` +
          ` install node-seal ${HE_PARAMS.nodeSeal} exactly (npm ci).`,
        { derived: { ...derived, t: String(derived.t), data: derived.data.map(String), key: derived.key.map(String) } },
      );
    }
    const encoder = seal.BatchEncoder(context);
    if (encoder.slotCount !== SLOTS_PER_CIPHERTEXT)
      throw new SbError('SB_ERR_HE_PARAMS', 'unexpected slot count; install node-seal 6.0.3 exactly.');
    const evaluator = seal.Evaluator(context);
    return { seal, context, encoder, evaluator };
  } finally {
    parms.delete();
  }
}

/**
 * The HE context of this process or worker thread, created once on first use.
 * @see ../../../shared/spec/ARCHITECTURE.md "Layers of protection"
 */
export function getHe(): Promise<HeContext> {
  pending ??= create().catch((e: unknown) => {
    pending = undefined;
    throw e;
  });
  return pending;
}
