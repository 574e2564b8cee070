import type { Command } from 'commander';
import { CliError, EXIT } from '../lib/errors.ts';

interface MigrateOpts {
  dataDir?: string;
  check?: boolean;
  timeout?: string;
}

/** The server's environment with the command's `--data-dir`, as `maas serve` builds it. */
export function serverEnv(opts: { dataDir?: string }): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (opts.dataDir) env.MAAS_DATA_DIR = opts.dataDir;
  return env;
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("bring the database to this build's schema (under a PostgreSQL advisory lock), then exit")
    .option('--data-dir <dir>', 'embedded data directory (MAAS_DATA_DIR); DATABASE_URL selects PostgreSQL')
    .option('--check', 'change nothing: exit 0 when the schema is current, 1 when migrations are pending')
    .option('--timeout <seconds>', 'wait this long for the database to be reachable (MAAS_MIGRATE_TIMEOUT_S)')
    .addHelpText(
      'after',
      '\nRefuses (exit 1, nothing changed) a database migrated by a newer maas.\n\nExamples:\n  DATABASE_URL=postgres://… maas migrate          # the Helm pre-upgrade hook Job\n  maas migrate --check --data-dir ./.maas',
    )
    .action(async (opts: MigrateOpts) => {
      process.umask(0o077);
      const server = await import('@maas/server');
      const env = serverEnv(opts);
      if (opts.timeout) env.MAAS_MIGRATE_TIMEOUT_S = opts.timeout;
      let config: ReturnType<typeof server.loadConfig>;
      try {
        config = server.loadConfig(env);
      } catch (err) {
        if (err instanceof server.ConfigError) throw new CliError(err.message, EXIT.usage, 'config');
        throw err;
      }
      const deadline = Date.now() + config.migrate.timeoutMs;
      for (;;) {
        try {
          const line = await migrateOnce(server, config, Boolean(opts.check));
          process.stdout.write(`${line}\n`);
          return;
        } catch (err) {
          if (err instanceof CliError) throw err;
          if (err instanceof server.NewerSchemaError || err instanceof server.DataDirLockedError)
            throw new CliError(err.message, EXIT.general, 'refused');
          if (!server.isUnreachable(err) || Date.now() > deadline) throw err;
          process.stderr.write(
            `maas migrate: the database is not reachable yet (${(err as Error).message}); retrying\n`,
          );
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
    });
}

async function migrateOnce(
  server: typeof import('@maas/server'),
  config: ReturnType<typeof server.loadConfig>,
  check: boolean,
): Promise<string> {
  const database = await server.openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 2,
  });
  try {
    if (check) {
      const level = await database.schemaLevel();
      if (level.unknown.length > 0) throw new server.NewerSchemaError(level.unknown);
      if (level.pending.length > 0)
        throw new CliError(
          `${level.pending.length} migration(s) pending (${level.pending.map((m) => m.tag).join(', ')}); schema at ${level.level ?? '(empty)'}`,
          EXIT.general,
          'pending',
        );
      return `schema is current at ${level.level}`;
    }
    const result = await database.migrate();
    return result.applied.length > 0
      ? `applied ${result.applied.length} migration(s): ${result.applied.join(', ')}; schema at ${result.level}`
      : `schema is current at ${result.level}`;
  } finally {
    await database.close();
  }
}
