import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the platform: admin API, OpenAI-compatible gateway and console')
    .option('--host <host>', 'address to bind (MAAS_HOST)')
    .option('--port <port>', 'port to listen on (MAAS_PORT)')
    .option('--data-dir <dir>', 'embedded data directory (MAAS_DATA_DIR)')
    .addHelpText(
      'after',
      '\nExamples:\n  maas serve                      # embedded PGlite under ./.maas on 127.0.0.1:8080\n  DATABASE_URL=postgres://… REDIS_URL=redis://… maas serve --port 9000',
    )
    .action(async (opts: { host?: string; port?: string; dataDir?: string }) => {
      // Everything the platform writes (database, secret key, spool, replica work dirs) is owner-only.
      process.umask(0o077);
      const env = { ...process.env };
      if (opts.host) env.MAAS_HOST = opts.host;
      if (opts.port) env.MAAS_PORT = opts.port;
      if (opts.dataDir) env.MAAS_DATA_DIR = opts.dataDir;
      // loaded here, not at start-up: the client commands should not pay for the whole server
      const early = await import('@maas/server/early');
      /** what an operator fixes (configuration, a locked or newer data directory): one line, no stack */
      function refuse(err: unknown): never {
        if (err instanceof early.ConfigError) {
          process.stderr.write(`maas: ${err.message}\n`);
          process.exit(2);
        }
        if (
          err instanceof early.DataDirLockedError ||
          err instanceof early.NewerSchemaError ||
          err instanceof early.SchemaWaitTimeoutError
        ) {
          process.stderr.write(`maas: ${err.message}\n`);
          process.exit(1);
        }
        throw err;
      }
      let config: ReturnType<typeof early.loadConfig>;
      try {
        config = early.loadConfig(env);
      } catch (err) {
        refuse(err);
      }
      // The embedded database opens (its lock first) while the server's code loads: both take
      // about as long, and they run on different threads. Its failure is startServer's to report.
      const embeddedDatabase = config.databaseUrl ? undefined : early.openEmbedded(config.dataDir);
      embeddedDatabase?.catch(() => {});
      const [{ startServer }, { embeddedAgent }] = await Promise.all([
        import('@maas/server'),
        // the node agent the server runs as its own node (MAAS_LOCAL_AGENT): composed here, the server never imports it
        import('@maas/agent/embedded'),
      ]);
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer(config, {
          embeddedAgent,
          ...(embeddedDatabase ? { embeddedDatabase } : {}),
        });
      } catch (err) {
        refuse(err);
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        server.app.log.info({ signal }, 'shutting down: draining in-flight requests');
        const deadline = setTimeout(() => process.exit(1), server.services.config.shutdownTimeoutMs + 5_000);
        deadline.unref();
        server.close().then(
          () => process.exit(0),
          (err: unknown) => {
            server.app.log.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
