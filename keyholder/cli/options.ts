import { readFileSync } from 'node:fs';
import { SbError } from '../../shared/errors/sb-error.js';

/**
 * Parse a positive whole-number option (`--k`, `--max-participants`, thresholds); undefined when
 * the option was left out.
 *
 * @throws SbError `SB_ERR_USAGE` naming the option and quoting the value
 */
export function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new SbError('SB_ERR_USAGE', `${name} must be a positive whole number, not '${value}'.`);
  return n;
}

/**
 * {@link intOption} of an option that commander requires (or defaults), so it is always given.
 * @throws SbError `SB_ERR_USAGE` when it is missing or not a positive whole number
 */
export function requiredInt(name: string, value: string | undefined): number {
  const n = intOption(name, value);
  if (n === undefined) throw new SbError('SB_ERR_USAGE', `${name} is required.`);
  return n;
}

/**
 * Parse a share option (`--dominance-share`): a number in (0, 1]; undefined when left out.
 *
 * @throws SbError `SB_ERR_USAGE` naming the option and quoting the value
 */
export function shareOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0 && n <= 1))
    throw new SbError('SB_ERR_USAGE', `${name} must be a number above 0 and at most 1, not '${value}'.`);
  return n;
}

/**
 * Read a JSON file named on the command line; `what` names what it should hold in the error.
 *
 * @throws SbError `SB_ERR_USAGE` when the file is unreadable or not JSON
 */
export function readJsonFile(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SbError(
      'SB_ERR_USAGE',
      `${path} could not be read as JSON ${what} (${e instanceof Error ? e.message : String(e)}).`,
    );
  }
}

/**
 * Shares from the command line: share files, custodians' X25519 key files and passphrases.
 * Modules are imported on use so that commands without custody start fast.
 *
 * @throws SbError `SB_ERR_CUSTODY_QUORUM` when no share file is given
 */
export async function presented(shareFiles: string[], keyFiles: string[], passphrases: string[]) {
  const { presentShareFiles } = await import('../custody/present.js');
  const { passphraseOption } = await import('../custody/cli-input.js');
  const map = new Map<string, string>();
  for (const p of passphrases) {
    const [name, value] = await passphraseOption(p, false);
    map.set(name, value);
  }
  if (shareFiles.length === 0)
    throw new SbError(
      'SB_ERR_CUSTODY_QUORUM',
      "no custodian share given; the BFV secret key is sealed and needs k custodians' shares " +
        '(--share FILE with --custodian-key KEYFILE or --passphrase NAME).',
    );
  return presentShareFiles({ shareFiles, keyFiles, passphrases: map });
}

/** Stop the node-seal worker a command started, so the process can exit. */
export async function closeSeal(): Promise<void> {
  const { sealWorker } = await import('../../shared/crypto/seal-worker-host.js');
  await sealWorker().close();
}
