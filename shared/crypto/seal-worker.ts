/**
 * Worker thread that loads ciphertexts into SEAL (key holder: decryption and noise budgets;
 * tests: SEAL's own sum). Every input is validated again here before `loadArray`; every SEAL
 * object is freed in `finally`. The host replaces this worker after any SEAL error.
 */
import { parentPort } from 'node:worker_threads';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { Decryptor } from 'node-seal/implementation/decryptor.js';
import type { PlainText } from 'node-seal/implementation/plain-text.js';
import type { SecretKey } from 'node-seal/implementation/secret-key.js';
import { isSbError } from '../errors/sb-error.js';
import { validateCiphertext } from './ciphertext-validate.js';
import { getHe, type HeContext } from './he-context.js';
import { SLOTS_PER_CIPHERTEXT } from './he-params.js';
import { validateSecretKey } from './secret-key-validate.js';
import type { WorkerRequest, WorkerResponse } from './seal-worker-protocol.js';

function loadCt(he: HeContext, bytes: Uint8Array, validate: boolean): CipherText {
  if (validate) validateCiphertext(bytes);
  const ct = he.seal.CipherText();
  try {
    ct.loadArray(he.context, bytes);
    return ct;
  } catch (e) {
    ct.delete();
    throw e;
  }
}

function withDecryptor<T>(he: HeContext, secretKey: Uint8Array, fn: (d: Decryptor) => T): T {
  validateSecretKey(secretKey);
  let sk: SecretKey | undefined;
  let dec: Decryptor | undefined;
  try {
    sk = he.seal.SecretKey();
    sk.loadArray(he.context, secretKey);
    dec = he.seal.Decryptor(he.context, sk);
    return fn(dec);
  } finally {
    dec?.delete();
    sk?.delete();
  }
}

async function handle(req: WorkerRequest): Promise<unknown> {
  const he = await getHe();
  switch (req.op) {
    case 'budgets':
      return withDecryptor(he, req.secretKey, (dec) =>
        req.ciphertexts.map((b) => {
          const ct = loadCt(he, b, true);
          try {
            return dec.invariantNoiseBudget(ct);
          } finally {
            ct.delete();
          }
        }),
      );
    case 'decrypt':
      return withDecryptor(he, req.secretKey, (dec) => {
        const budgets: number[] = [];
        const slots = new BigUint64Array(req.ciphertexts.length * SLOTS_PER_CIPHERTEXT);
        req.ciphertexts.forEach((b, c) => {
          const ct = loadCt(he, b, true);
          let pt: PlainText | undefined;
          try {
            const budget = dec.invariantNoiseBudget(ct);
            budgets.push(budget);
            if (budget > 0) {
              pt = dec.decrypt(ct) as PlainText;
              slots.set(he.encoder.decodeBigInt(pt, false) as BigUint64Array, c * SLOTS_PER_CIPHERTEXT);
            }
          } finally {
            pt?.delete();
            ct.delete();
          }
        });
        return budgets.every((x) => x > 0) ? { budgets, slots } : { budgets, slots: null };
      });
    case 'seal-sum': {
      const first = req.contributions[0];
      if (!first) throw new Error('no contributions');
      return first.map((_, c) => {
        const acc = loadCt(he, first[c] as Uint8Array, true);
        try {
          for (const contrib of req.contributions.slice(1)) {
            const ct = loadCt(he, contrib[c] as Uint8Array, true);
            try {
              he.evaluator.add(acc, ct, acc);
            } finally {
              ct.delete();
            }
          }
          return acc.saveArray(he.seal.ComprModeType.none);
        } finally {
          acc.delete();
        }
      });
    }
    case 'raw-load': {
      // Test hook: load bytes WITHOUT validation, to prove a hostile load cannot hurt the host.
      const ct = loadCt(he, req.bytes, false);
      ct.delete();
      return true;
    }
    case 'ping':
      return true;
  }
}

const port = parentPort;
if (!port) throw new Error('seal-worker.ts must run in a worker thread');
port.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (result) => port.postMessage({ id: req.id, ok: true, result } satisfies WorkerResponse),
    (e: unknown) => {
      const sb = isSbError(e);
      const err = e as { code?: string; message?: string; details?: Record<string, unknown> };
      port.postMessage({
        id: req.id,
        ok: false,
        sealError: !sb,
        error: {
          code: sb ? (err.code as string) : 'SB_ERR_SEAL',
          message: String(err?.message ?? e),
          details: sb ? (err.details ?? {}) : {},
        },
      } satisfies WorkerResponse);
    },
  );
});
