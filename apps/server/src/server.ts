import type { EmbeddedAgent } from '@maas/contracts/agent';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { openDatabase } from './db/client.ts';
import { waitForSchema } from './db/migrate.ts';
import type { EmbeddedDatabase } from './db/open-embedded.ts';
import { type Bus, createMemoryBus, createRedisBus } from './events/bus.ts';
import { createLogger } from './logger.ts';
import { listenForMetrics } from './modules/observability/index.ts';
import { createServices, type Services } from './services.ts';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  url: string;
  /** the separate /metrics listener's URL, when MAAS_METRICS_PORT is set */
  metricsUrl: string | undefined;
  /** Stops accepting, drains in-flight requests, flushes buffers, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** the node agent to run inside the server when MAAS_LOCAL_AGENT is on (`maas serve` passes @maas/agent's) */
  embeddedAgent?: EmbeddedAgent;
  /** print the generated admin password here on first start (default: stdout) */
  announce?: (line: string) => void;
  /**
   * the embedded database of `config.dataDir`, already being opened: `maas serve` starts it before
   * it imports the server, so that both run at once (see early.ts); ignored with DATABASE_URL
   */
  embeddedDatabase?: Promise<EmbeddedDatabase>;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const started = performance.now();
  const log = opts.logger ?? createLogger(config.logLevel);
  // where the start's time went, in the "maas is serving" line
  const phases: Record<string, number> = {};
  let mark = started;
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round(now - mark);
    mark = now;
  };
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    opening: config.databaseUrl ? undefined : opts.embeddedDatabase,
    onRestart: (cause) =>
      log.error({ err: cause }, 'the embedded database thread died; opening the data directory again'),
  });
  let bus: Bus | undefined;
  let services: Services | undefined;
  let metricsServer: Awaited<ReturnType<typeof listenForMetrics>> | undefined;
  phase('database_ms');
  try {
    let migrated = false;
    if (config.migrate.mode === 'wait') {
      // nothing else can open an embedded database meanwhile: there it is checked once
      const timeoutMs = database.driver === 'pglite' ? 0 : config.migrate.timeoutMs;
      await waitForSchema(() => database.schemaLevel(), { timeoutMs, log });
    } else {
      const result = await database.migrate();
      if (result.applied.length > 0) log.info({ applied: result.applied, level: result.level }, 'migrated');
    }
    migrated = true;
    phase('migrate_ms');
    bus = config.redisUrl ? await createRedisBus(config.redisUrl, log) : createMemoryBus(log);
    services = await createServices({ config, database, bus, log, embeddedAgent: opts.embeddedAgent });
    phase('services_ms');
    await services.identity.bootstrap(opts.announce ?? ((line: string) => process.stdout.write(`${line}\n`)));
    phase('bootstrap_ms');
    const app = await buildApp({ services, logger: log, isMigrated: () => migrated });
    phase('app_ms');
    await app.listen({ host: config.host, port: config.port });
    phase('listen_ms');
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host}:${port}`;
    services.outbound.addSelf(config.host, port); // never a destination, whatever the allow-list says
    services.startLocalNode();
    if (config.metricsListen) {
      metricsServer = await listenForMetrics(services.metrics, config.metricsListen, config.metricsToken);
      const metrics = new URL(metricsServer.url);
      services.outbound.addSelf(metrics.hostname.replace(/^\[|\]$/g, ''), Number(metrics.port));
    }
    log.info(
      {
        url,
        metrics_url: metricsServer?.url,
        driver: database.driver,
        redis: Boolean(config.redisUrl),
        startup_ms: Math.round(performance.now() - started),
        ...phases,
        // since the process started: node's own start and the imports come before startup_ms
        process_ms: Math.round(process.uptime() * 1000),
      },
      'maas is serving',
    );
    const svc = services;
    const busRef = bus;
    const metricsRef = metricsServer;
    let closing: Promise<void> | undefined;
    return {
      app,
      services: svc,
      url,
      metricsUrl: metricsRef?.url,
      close() {
        closing ??= (async () => {
          // In-flight requests get the shutdown timeout to finish; then every connection is cut,
          // including keep-alive sockets a client opened but never used (Node counts them busy).
          const deadline = setTimeout(() => app.server.closeAllConnections(), config.shutdownTimeoutMs);
          deadline.unref();
          await app.close();
          clearTimeout(deadline);
          await new Promise((resolve) => (metricsRef ? metricsRef.server.close(resolve) : resolve(null)));
          await svc.stop();
          await busRef.close();
          await database.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    metricsServer?.server.close();
    await services?.stop().catch(() => {});
    await bus?.close().catch(() => {});
    await database.close().catch(() => {});
    throw err;
  }
}
