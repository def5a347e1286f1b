/** Helpers shared by the crypto/protocol tests: the conformance sample and a fixture key pair. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { vectorFromJson, type ContributionVector, type VectorJson } from '../../shared/metrics/vector.js';

/** Repository root (…/work/main). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The conformance sample next to the repository. */
export const SAMPLE_DIR = fileURLToPath(new URL('../../../shared/sample/', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/crypto/', import.meta.url));

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export async function sampleCodebook(): Promise<Codebook> {
  return readCodebookFile(`${SAMPLE_DIR}codebook.csv`);
}

export function sampleVector(cb: Codebook, name: 'inst-1' | 'inst-2' | 'inst-3' | 'sector'): { vector: ContributionVector; json: VectorJson } {
  const json = readJson<VectorJson>(`${SAMPLE_DIR}expected/${name}.json`);
  return { vector: vectorFromJson(cb, json), json };
}

export interface KatFixture {
  description: string;
  he_params: string;
  public_key: string;
  secret_key: string;
  encrypt: { seed: string; values: string; expected_sha256: string[] };
  sample_sum: { seeds: string[]; expected_sha256: string[] };
}

export function katFixture(): { kat: KatFixture; publicKey: Uint8Array; secretKey: Uint8Array } {
  const kat = readJson<KatFixture>(`${FIXTURES}bfv-kat.json`);
  return {
    kat,
    publicKey: new Uint8Array(Buffer.from(kat.public_key, 'base64')),
    secretKey: new Uint8Array(Buffer.from(kat.secret_key, 'base64')),
  };
}

/** The KAT plaintext: slot i = (i * 1000003 + 7) mod 2^39, for i < 4096 + 100 (two ciphertexts). */
export function katValues(): BigUint64Array {
  return BigUint64Array.from({ length: 4196 }, (_, i) => (BigInt(i) * 1000003n + 7n) % (1n << 39n));
}
