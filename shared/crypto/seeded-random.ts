import nodeCrypto, { createCipheriv, createHmac } from 'node:crypto';

/**
 * A deterministic byte stream: AES-256-CTR keystream under key HMAC-SHA256(seed, label), IV 0.
 */
export class SeededStream {
  #cipher: nodeCrypto.Cipher;
  constructor(seed: Uint8Array, label: string) {
    if (!(seed instanceof Uint8Array) || seed.byteLength !== 32) throw new RangeError('seed must be 32 bytes');
    const key = createHmac('sha256', seed).update(label).digest();
    this.#cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }
  /** Fill `view` with the next bytes of the stream. */
  fill(view: ArrayBufferView): void {
    const out = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    out.set(this.#cipher.update(Buffer.alloc(out.byteLength)));
  }
}

type RandomFillSync = typeof nodeCrypto.randomFillSync;

/**
 * Run `fn` (synchronously) with node-seal's randomness source replaced by a seeded stream.
 *
 * node-seal 6.0.3 draws encryption randomness through `require('crypto').randomFillSync` on
 * every call; this swaps that property of the shared `node:crypto` module object for the
 * duration of one synchronous call and restores it in `finally`. Nothing else can run in
 * between (single-threaded, no await). Used for the audit log's reproducible encryptions.
 */
export function withSeededRandom<T>(seed: Uint8Array, label: string, fn: () => T): T {
  const stream = new SeededStream(seed, label);
  const original = nodeCrypto.randomFillSync;
  const seeded = ((buf: ArrayBufferView, offset?: number, size?: number) => {
    const start = offset ?? 0;
    const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    stream.fill(u8.subarray(start, size === undefined ? undefined : start + size));
    return buf;
  }) as RandomFillSync;
  nodeCrypto.randomFillSync = seeded;
  try {
    const r = fn();
    if (r instanceof Promise) throw new Error('withSeededRandom needs a synchronous function');
    return r;
  } finally {
    nodeCrypto.randomFillSync = original;
  }
}
