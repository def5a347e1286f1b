import type { Command } from 'commander';
import { readPublicIdentityFile } from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { out, port, withHome } from './options.js';

/** `sectorbench coordinator init | pin-keyholder`: the coordinator's home and its trust in the key holder. */
export function registerSetupCommands(c: Command): void {
  registerInit(c);
  registerPinKeyHolder(c);
}

function registerInit(c: Command): void {
  c.command('init')
    .description('create a coordinator home: Ed25519 identity, coordinator.json, an empty database and optionally TLS')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .option('--public-url <url>', 'public base URL nodes use (default http(s)://HOST:PORT)')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port', '8443')
    .option(
      '--tls-ca [name]',
      "create a private coalition CA (nodes pin it) and a server certificate for the public URL's host",
    )
    .option('--tls-cert <file>', 'serve this TLS certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .action(
      async (o: {
        home: string;
        publicUrl?: string;
        host: string;
        port: string;
        tlsCa?: string | boolean;
        tlsCert?: string;
        tlsKey?: string;
      }) => {
        const { initCoordinator } = await import('../home.js');
        if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
          throw new SbError('SB_ERR_USAGE', '--tls-cert and --tls-key go together; give both, or --tls-ca.');
        if (o.tlsCert && o.tlsCa !== undefined)
          throw new SbError('SB_ERR_USAGE', 'give either --tls-ca or --tls-cert/--tls-key, not both.');
        const tls =
          o.tlsCa !== undefined
            ? { ca: { name: typeof o.tlsCa === 'string' ? o.tlsCa : undefined } }
            : o.tlsCert && o.tlsKey
              ? { certFile: o.tlsCert, keyFile: o.tlsKey }
              : undefined;
        const r = await initCoordinator({
          home: o.home,
          publicUrl: o.publicUrl,
          host: o.host,
          port: port(o.port),
          tls,
        });
        out(
          `Coordinator created in ${r.home}.\nIdentity: ${r.identityPath} (public key ${r.identityPath}.pub)\n` +
            `Fingerprint: ${r.fingerprint}\n` +
            `Read this fingerprint to every institution and to the key holder when they pin the coordinator.`,
        );
        if (r.tls)
          out(
            r.tls.caFile
              ? `TLS: a private coalition CA (${r.home}/${r.tls.caFile}) and a server certificate for ${r.tls.names.join(', ')}.\n` +
                  `Give ${r.tls.caFile} to every institution with 'node init --coordinator-ca'; ` +
                  `its SHA-256 fingerprint, to read out: ${r.tls.fingerprint}\n` +
                  `The CA key ${r.tls.caFile.replace(/\.pem$/, '-key.pem')} (0600) ` +
                  `is only needed to renew the server certificate; keep it off-line if you can.`
              : `TLS: serving ${r.tls.certFile} (valid for ${r.tls.names.join(', ') || 'the names in it'}).\n` +
                  `Nodes pin its SHA-256 fingerprint with 'node init --coordinator-cert-sha256': ${r.tls.fingerprint}\n` +
                  `(or the CA that issued it, with --coordinator-ca).`,
          );
      },
    );
}

function registerPinKeyHolder(c: Command): void {
  c.command('pin-keyholder')
    .description("pin the key holder's Ed25519 key (compare the fingerprint with the key holder over the phone)")
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--key <file.pub>', "the key holder's public identity file")
    .option('--replace', 'replace a previously pinned key')
    .action(async (o: { home: string; key: string; replace?: boolean }) => {
      const { pinKeyHolder } = await import('../store/pins.js');
      const pk = await readPublicIdentityFile(o.key);
      const r = await withHome(o.home, (h) =>
        pinKeyHolder(h.db, { publicKey: pk, now: new Date(), replace: o.replace }),
      );
      out(
        `Pinned the key holder key.\n` +
          `Fingerprint: ${r.fingerprint}\n` +
          `Compare it with the fingerprint the key holder reads out; if they differ, pin again with the right file.`,
      );
    });
}
