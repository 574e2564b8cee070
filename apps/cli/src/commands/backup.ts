import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT, usageError } from '../lib/errors.ts';
import { serverEnv } from './migrate.ts';

export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('write a consistent backup (database, stored files, secret key) to one tar.gz')
    .requiredOption('--out <file>', 'the archive to write (created 0600: it holds the secret key)')
    .option('--data-dir <dir>', 'embedded data directory (MAAS_DATA_DIR); DATABASE_URL selects PostgreSQL')
    .addHelpText(
      'after',
      '\nPostgreSQL is dumped live (pg_dump, one snapshot). The embedded database must be stopped: the backup\ntakes its lock, and a running `maas serve` is refused. Files in an S3 bucket are not copied.\n\nExamples:\n  maas backup --out maas-$(date +%F).tar.gz --data-dir ./.maas\n  DATABASE_URL=postgres://… maas backup --out /backups/maas.tar.gz',
    )
    .action(async (opts: { out: string; dataDir?: string }) => {
      process.umask(0o077);
      const server = await import('@maas/server');
      let target: ReturnType<typeof server.backupTargetFromEnv>;
      try {
        target = server.backupTargetFromEnv(serverEnv(opts));
      } catch (err) {
        throw usageError((err as Error).message);
      }
      try {
        const { manifest } = await server.createBackup(target, resolve(opts.out));
        const rows = Object.values(manifest.rowCounts).reduce((a, b) => a + b, 0);
        process.stdout.write(
          `backup written to ${resolve(opts.out)}: ${manifest.driver} database at ${manifest.migrations.level} (${rows} rows in ${Object.keys(manifest.rowCounts).length} tables), ${manifest.files.count} files, secret key\n`,
        );
        if (manifest.files.note) process.stdout.write(`note: ${manifest.files.note}\n`);
      } catch (err) {
        if (err instanceof server.DataDirLockedError)
          throw new CliError(
            `${err.message}: stop maas serve first (an embedded database has one process at a time)`,
            EXIT.general,
            'locked',
          );
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw usageError(`${opts.out} exists already`);
        throw new CliError((err as Error).message, EXIT.general, 'backup_failed');
      }
    });
}
