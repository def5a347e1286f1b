import { readFileSync } from 'node:fs';
import { SbError } from '../../shared/errors/sb-error.js';
import { readCustodianPublicKey } from './custodian-key.js';
import type { CeremonyResult } from './ceremony.js';
import type { CustodianSpec } from './seal.js';

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Read a passphrase from the terminal without echoing it (raw mode). */
export function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY)
    throw new SbError(
      'SB_ERR_USAGE',
      `a passphrase is needed (${question.trim()}) but there is no terminal to type it in; give it as NAME=FILE.`,
    );
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let s = '';
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(s);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new SbError('SB_ERR_USAGE', 'interrupted; nothing was changed.'));
        if (ch === '\u007f' || ch === '\b') s = s.slice(0, -1);
        else s += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * A passphrase option `NAME=FILE` (first line of FILE) or `NAME` (typed at the terminal; twice
 * when `confirm`). Returns [name, passphrase].
 */
export async function passphraseOption(spec: string, confirm: boolean): Promise<[string, string]> {
  const eq = spec.indexOf('=');
  if (eq > 0) {
    const name = spec.slice(0, eq);
    const file = spec.slice(eq + 1);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new SbError(
        'SB_ERR_USAGE',
        `the passphrase file ${file} for ${name} cannot be read (${e instanceof Error ? e.message : String(e)}).`,
      );
    }
    return [name, text.split(/\r?\n/)[0] ?? ''];
  }
  const first = await askHidden(`passphrase of custodian ${spec}: `);
  if (confirm) {
    const again = await askHidden(`passphrase of custodian ${spec} again: `);
    if (again !== first)
      throw new SbError('SB_ERR_USAGE', `the two passphrases of ${spec} differ; nothing was changed.`);
  }
  return [spec, first];
}

/** Custodians from `--custodian-key FILE.pub` and `--custodian-passphrase NAME[=FILE]` options, in that order. */
export async function custodianSpecs(
  keyFiles: readonly string[],
  passphrases: readonly string[],
): Promise<CustodianSpec[]> {
  const out: CustodianSpec[] = [];
  for (const f of keyFiles) {
    const k = await readCustodianPublicKey(f);
    out.push({ name: k.name, x25519PublicKey: k.publicKey });
  }
  for (const p of passphrases) {
    const [name, passphrase] = await passphraseOption(p, true);
    out.push({ name, passphrase });
  }
  return out;
}

/** What the ceremony prints: what each custodian keeps and how to check it. */
export function ceremonyText(r: CeremonyResult): string {
  const L = [
    `Key ceremony: the BFV secret key (public key digest ${r.hePublicKeyDigest}) is sealed in ${r.sealedFile}`,
    `under a random key split ${r.k} of ${r.n} (seal ${r.sealId}). Any ${r.k} custodians together ` +
      "can unseal it for one release; fewer cannot, and the key holder's home alone cannot.",
    '',
    'What each custodian keeps (the key holder keeps none of it; hand each file over and delete the copy here):',
  ];
  for (const c of r.custodians) {
    L.push(`- ${c.name}: share file ${c.shareFile}`);
    L.push(`    share fingerprint ${c.shareFingerprint} (read it out now; the custodian writes it down)`);
    L.push(
      c.protection === 'x25519'
        ? `    opens only with ${c.name}'s own X25519 secret key (public key fingerprint ${c.keyFingerprint}); keep the key file apart from the share file`
        : `    opens only with ${c.name}'s passphrase; it is not stored anywhere, do not lose it`,
    );
  }
  L.push('');
  L.push(
    'Check a share at any time (nothing is unsealed): sectorbench keyholder check-share --share ' +
      'FILE (--custodian-key KEYFILE | --passphrase NAME) [--home DIR]',
  );
  L.push(
    `A release needs ${r.k} of them: sectorbench keyholder release … --share FILE --custodian-key KEYFILE (once per custodian)`,
  );
  return `${L.join('\n')}\n`;
}
