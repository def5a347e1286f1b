import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { z } from 'zod';
import {
  AirgapRequestFileSchema,
  AirgapResponseFileSchema,
  type AirgapRequestFile,
  type AirgapResponseFile,
} from '../../schemas/airgap.js';
import { SbError } from '../errors/sb-error.js';
import { formatZodIssues } from '../errors/zod-issues.js';
import { signObject, verifyObject } from './signed-object.js';

/**
 * Files carried by hand between an air-gapped node and the coordinator (issue 16, item 3;
 * docs/DECISIONS.md "Air-gapped nodes"). An export file holds the node's signed requests exactly
 * as they would go over HTTP and is signed as a whole by the node (purpose
 * {@link AIRGAP_PURPOSE}.requests); the response file holds the coordinator's answers and is signed
 * by the coordinator's identity key, pinned by the node at enrolment ({@link AIRGAP_PURPOSE}.responses).
 */
export const AIRGAP_PURPOSE = { requests: 'airgap-requests', responses: 'airgap-responses' } as const;

/** Largest file either side reads (a masked contribution is a few MB; base64 adds a third). */
export const AIRGAP_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** A fresh file id (16 random bytes, hex). */
export function newAirgapFileId(): string {
  return randomBytes(16).toString('hex');
}

/** Sign an export file with the node's Ed25519 secret key. */
export function signRequestFile(
  f: Omit<AirgapRequestFile, 'node_signature'>,
  secretKey: Uint8Array,
): AirgapRequestFile {
  return signObject(AIRGAP_PURPOSE.requests, f, 'node_signature', secretKey);
}

/** Sign a response file with the coordinator's Ed25519 secret key. */
export function signResponseFile(
  f: Omit<AirgapResponseFile, 'coordinator_signature'>,
  secretKey: Uint8Array,
): AirgapResponseFile {
  return signObject(AIRGAP_PURPOSE.responses, f, 'coordinator_signature', secretKey);
}

/** Serialised file bytes (JSON, one trailing newline) and their SHA-256 (hex). */
export function airgapFileBytes(doc: object): { bytes: Buffer; sha256: string } {
  const bytes = Buffer.from(`${JSON.stringify(doc)}\n`);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Write a carried file atomically (temp file + rename), readable by the operator only. */
export function writeAirgapFile(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Read and parse a carried file of the given kind; does not check its signature.
 * @throws SbError `SB_ERR_AIRGAP_FILE` naming the file (missing, too large, not JSON, not this
 *   kind of file, or malformed) with the next step.
 */
export function readAirgapFile<K extends 'requests' | 'responses'>(
  path: string,
  kind: K,
): { doc: K extends 'requests' ? AirgapRequestFile : AirgapResponseFile; sha256: string } {
  const name = basename(path);
  const expected =
    kind === 'requests'
      ? "an export file of a node ('sectorbench node export' or 'node round --offline')"
      : "a response file of the coordinator ('sectorbench coordinator import')";
  const bad = (why: string) =>
    new SbError(
      'SB_ERR_AIRGAP_FILE',
      `${path}: ${why}; this is not ${expected}. Carry the right file and run this again.`,
      {
        file: name,
      },
    );
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) throw bad('no such file');
  if (st.size > AIRGAP_MAX_FILE_BYTES) throw bad(`the file is ${st.size} bytes, more than ${AIRGAP_MAX_FILE_BYTES}`);
  const bytes = readFileSync(path);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad('not JSON (damaged or cut off while copying?)');
  }
  const schema: z.ZodType = kind === 'requests' ? AirgapRequestFileSchema : AirgapResponseFileSchema;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw bad(`malformed: ${formatZodIssues(parsed.error.issues, { limit: 3 })}`);
  return {
    doc: parsed.data as K extends 'requests' ? AirgapRequestFile : AirgapResponseFile,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Whether an export file's signature verifies with the institution's registered key. */
export function verifyRequestFile(f: AirgapRequestFile, publicKey: Uint8Array): boolean {
  return verifyObject(AIRGAP_PURPOSE.requests, f, 'node_signature', publicKey);
}

/** Whether a response file's signature verifies with the pinned coordinator key. */
export function verifyResponseFile(f: AirgapResponseFile, publicKey: Uint8Array): boolean {
  return verifyObject(AIRGAP_PURPOSE.responses, f, 'coordinator_signature', publicKey);
}
