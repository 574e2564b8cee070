import { appendFile, mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { UsageRecord } from './record-usage.ts';

/**
 * An append-only spool of usage events on local disk for when the database is unreachable:
 * events are appended as JSON lines and replayed (idempotently) once the database is back.
 */
export function createUsageSpool(dir: string) {
  const active = () => join(dir, 'usage-spool.jsonl');
  let ready: Promise<unknown> | undefined;
  let adopted = 0;

  return {
    dir,
    async append(rows: UsageRecord[]): Promise<void> {
      ready ??= mkdir(dir, { recursive: true, mode: 0o700 });
      await ready;
      await appendFile(active(), rows.map((r) => JSON.stringify(r)).join('\n') + '\n', { mode: 0o600 });
    },

    /** Spool files waiting to be replayed, oldest first; the active file is sealed first. */
    async seal(): Promise<string[]> {
      try {
        await rename(active(), join(dir, `usage-spool-${Date.now()}-${process.pid}.jsonl`));
      } catch {
        // nothing spooled since the last seal
      }
      try {
        return (await readdir(dir))
          .filter((f) => /^usage-spool-\d+-\d+\.jsonl$/.test(f))
          .sort()
          .map((f) => join(dir, f));
      } catch {
        return [];
      }
    },

    async read(file: string): Promise<UsageRecord[]> {
      const text = await readFile(file, 'utf8');
      return text
        .split('\n')
        .filter((line) => line.trim())
        .flatMap((line) => {
          try {
            const row = JSON.parse(line) as UsageRecord & { createdAt: string };
            return [{ ...row, createdAt: new Date(row.createdAt) }];
          } catch {
            return []; // a torn last line from a crash mid-write
          }
        });
    },

    remove: (file: string) => unlink(file),

    /** Takes a file of usage events (a dead process's journal) into the spool, to be replayed. */
    async adopt(file: string): Promise<void> {
      ready ??= mkdir(dir, { recursive: true, mode: 0o700 });
      await ready;
      await rename(
        file,
        join(dir, `usage-spool-${Date.now()}${String(++adopted).padStart(4, '0')}-${process.pid}.jsonl`),
      );
    },
  };
}

export type UsageSpool = ReturnType<typeof createUsageSpool>;
