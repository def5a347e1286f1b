import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { RoundId } from '../schemas/common.js';
import { SbError } from '../shared/errors/sb-error.js';
import { generateRevealKeyPair } from '../shared/secagg/index.js';

const RevealKeyFileSchema = z
  .object({
    type: z.literal('sectorbench.reveal-key'),
    round_id: RoundId,
    public_key: z.string(),
    secret_key: z.string(),
  })
  .strict();

function path(dataDir: string, roundId: string): string {
  return join(dataDir, 'reveal-keys', `${roundId}.json`);
}

/**
 * The key holder's X25519 (nacl.box) key pair that a masked round's reveals are encrypted to:
 * made fresh for the round at endorsement (issue 10), kept in `<data>/reveal-keys/<round>.json`
 * (mode 0600); endorsing the same round again returns the same key. Returns the public key.
 * Key pair from the secure-aggregation core (`generateRevealKeyPair`, tweetnacl).
 */
export function createRevealKey(dataDir: string, roundId: string): Uint8Array {
  const file = path(dataDir, roundId);
  if (existsSync(file)) return readRevealKey(dataDir, roundId).publicKey;
  const kp = generateRevealKeyPair();
  mkdirSync(join(dataDir, 'reveal-keys'), { recursive: true, mode: 0o700 });
  writeFileSync(
    file,
    `${JSON.stringify({
      type: 'sectorbench.reveal-key',
      round_id: roundId,
      public_key: Buffer.from(kp.publicKey).toString('base64'),
      secret_key: Buffer.from(kp.secretKey).toString('base64'),
    })}\n`,
    { mode: 0o600, flag: 'wx' },
  );
  return kp.publicKey;
}

/**
 * Read a round's reveal key pair.
 * @throws SbError `SB_ERR_REVEAL_KEY` when the file is missing or damaged (the round's reveals
 *   cannot be opened; the round cannot be unmasked from this home)
 */
export function readRevealKey(dataDir: string, roundId: string): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const file = path(dataDir, roundId);
  let parsed: z.infer<typeof RevealKeyFileSchema>;
  try {
    parsed = RevealKeyFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    throw new SbError(
      'SB_ERR_REVEAL_KEY',
      `the reveal key of round ${roundId} (${file}) is missing or damaged, so the reveals of the ` +
        "round cannot be opened; restore it from the key holder's backup.",
      { round_id: roundId },
      { cause: e },
    );
  }
  const publicKey = new Uint8Array(Buffer.from(parsed.public_key, 'base64'));
  const secretKey = new Uint8Array(Buffer.from(parsed.secret_key, 'base64'));
  if (parsed.round_id !== roundId || publicKey.length !== 32 || secretKey.length !== 32)
    throw new SbError('SB_ERR_REVEAL_KEY', `the reveal key file ${file} is not the key of round ${roundId}.`);
  return { publicKey, secretKey };
}
