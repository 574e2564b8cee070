import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import type { AuditService } from '../audit/index.ts';
import { createBillService } from './bills.ts';
import { createUsagePartitions } from './partitions.ts';
import { createPriceBook } from './price-book.ts';
import { createUsageJournal } from './usage-journal.ts';
import { createUsageSpool } from './usage-spool.ts';
import { createUsageWriter } from './usage-writer.ts';

export interface MeteringDeps {
  db: Db;
  bus: Bus;
  audit: AuditService;
  config: Config;
  log: Logger;
}

/** Where usage events wait on disk while the database is unreachable. */
function spoolDir(config: Config): string {
  if (config.usageSpoolDir) return config.usageSpoolDir;
  return config.dataDir.startsWith('memory://')
    ? join(tmpdir(), `maas-spool-${randomUUID()}`)
    : join(config.dataDir, 'spool');
}

export function createMeteringService({ db, bus, audit, config, log }: MeteringDeps) {
  const priceBook = createPriceBook({ db, bus, audit, log });
  const dir = spoolDir(config);
  const writer = createUsageWriter({
    db,
    log,
    spool: createUsageSpool(dir),
    // an in-memory database dies with the process: nothing to replay into
    journal:
      config.dataDir.startsWith('memory://') && !config.databaseUrl ? undefined : createUsageJournal(dir),
  });
  const bills = createBillService({ db, audit });
  const partitions = createUsagePartitions({ db, log, retentionDays: config.usageRetentionDays });
  let maintenance: NodeJS.Timeout | undefined;
  const maintain = () =>
    partitions
      .ensure()
      .then(() => partitions.dropExpired())
      .catch((err) => log.warn({ err }, 'usage partition maintenance failed'));
  return {
    priceBook,
    writer,
    bills,
    partitions,
    async start() {
      await maintain();
      await priceBook.start();
      await writer.start();
      maintenance = setInterval(maintain, 6 * 3_600_000);
      maintenance.unref();
    },
    stop: async () => {
      clearInterval(maintenance);
      await priceBook.stop();
      await writer.stop();
    },
  };
}

export type MeteringService = ReturnType<typeof createMeteringService>;
