import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT, usageError } from '../lib/errors.ts';
import { serverEnv } from './migrate.ts';

interface RestoreOpts {
  dataDir?: string;
  verify?: boolean;
  force?: boolean;
}

export function registerRestoreCommand(program: Command): void {
  program
    .command('restore')
    .description('restore a `maas backup` archive (checksums checked, row counts compared)')
    .argument('<file>', 'the archive written by maas backup')
    .option('--data-dir <dir>', 'embedded data directory (MAAS_DATA_DIR); DATABASE_URL selects PostgreSQL')
    .option('--verify', 'restore into a scratch location, compare row counts, change nothing')
    .option('--force', 'replace the database, files and key already there (stop every maas first)')
    .addHelpText(
      'after',
      "\nRefuses (exit 1, nothing changed) a damaged archive, a backup from a newer maas, a running embedded\nserver, a MAAS_SECRET_KEY other than the backup's, and existing data without --force.\n\nExamples:\n  maas restore maas-2026-12-06.tar.gz --verify\n  maas restore maas-2026-12-06.tar.gz --data-dir ./.maas",
    )
    .action(async (file: string, opts: RestoreOpts) => {
      process.umask(0o077);
      const server = await import('@maas/server');
      let target: ReturnType<typeof server.backupTargetFromEnv>;
      try {
        target = server.backupTargetFromEnv(serverEnv(opts));
      } catch (err) {
        throw usageError((err as Error).message);
      }
      try {
        const result = await server.restoreBackup(target, resolve(file), {
          verify: opts.verify,
          force: opts.force,
        });
        const m = result.manifest;
        const what = `${m.driver} database at ${m.migrations.level} from ${m.createdAt}: ${result.tables} tables' row counts match, ${result.files} files`;
        process.stdout.write(
          opts.verify
            ? `verified ${file} (scratch restore): ${what}\n`
            : `restored ${file}: ${what}; start maas serve (it migrates forward if this build is newer)\n`,
        );
        for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
      } catch (err) {
        if (err instanceof server.BackupRefusedError || err instanceof server.DataDirLockedError)
          throw new CliError(err.message, EXIT.general, 'refused');
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !(err as Error).message.includes('pg_'))
          throw usageError(`${file}: no such file`);
        throw new CliError((err as Error).message, EXIT.general, 'restore_failed');
      }
    });
}
