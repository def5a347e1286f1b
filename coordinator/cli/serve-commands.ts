import type { Command } from 'commander';
import { SbError } from '../../shared/errors/sb-error.js';
import { out, port, withHome } from './options.js';

/**
 * `sectorbench coordinator import | serve`: the API, for air-gapped nodes through carried files
 * and for every other node over HTTP(S).
 */
export function registerServeCommands(c: Command): void {
  registerImport(c);
  registerServe(c);
}

function registerImport(c: Command): void {
  c.command('import')
    .description(
      "air-gapped node: run the signed requests of a node's export file through the API and write the signed response file to carry back",
    )
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .argument('<file>', "the node's export file (….request.json)")
    .option('--out <file>', 'the response file (default: next to the export file, ….response.json)')
    .option('--max-age-days <days>', 'oldest carried request accepted, in days', '7')
    .action(async (file: string, o: { home: string; out?: string; maxAgeDays: string }) => {
      const days = Number(o.maxAgeDays);
      if (!Number.isFinite(days) || days <= 0 || days > 60)
        throw new SbError(
          'SB_ERR_USAGE',
          `--max-age-days must be a number of days from 1 to 60, not '${o.maxAgeDays}'.`,
        );
      const { importRequestFile } = await import('../airgap/import-file.js');
      const { loggerOptions } = await import('../server.js');
      const { pino } = await import('pino');
      const r = await withHome(o.home, (h) =>
        importRequestFile({
          h,
          file,
          ...(o.out ? { out: o.out } : {}),
          maxAgeSeconds: Math.round(days * 86400),
          logger: pino(loggerOptions(h.config.log_level)) as unknown as import('fastify').FastifyBaseLogger,
        }),
      );
      out(
        `Imported ${file} of institution ${r.institutionId}: ${r.ran} request(s) run, ${r.repeated} answered before.\n` +
          r.outcomes.map((l) => `  ${l}`).join('\n') +
          `\nAntwoordbestand om terug te brengen / response file to carry back: ${r.responseFile}`,
      );
    });
}

function registerServe(c: Command): void {
  c.command('serve')
    .description('run the coordinator HTTP server (graceful shutdown on SIGINT/SIGTERM)')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .option('--host <host>', 'listen address (default from coordinator.json)')
    .option('--port <port>', 'listen port (default from coordinator.json)')
    .action(async (o: { home: string; host?: string; port?: string }) => {
      const { startServer } = await import('../server.js');
      const { default: closeWithGrace } = await import('close-with-grace');
      const s = await startServer({
        home: o.home,
        host: o.host,
        port: o.port === undefined ? undefined : port(o.port),
      });
      out(`Coordinator listening on ${s.url} (OpenAPI at ${s.url}/docs).`);
      closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
        if (err) s.app.log.error({ err }, 'shutting down after an error');
        else s.app.log.info({ signal }, 'shutting down');
        await s.close();
      });
      await new Promise<void>((resolve) => s.app.server.once('close', () => resolve()));
    });
}
