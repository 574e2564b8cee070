import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type RunningServer, startServer } from '@maas/server';
import { createScratchDatabase, startTcpProxy, type TcpProxy, testDatabaseUrl } from '@maas/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The database goes away for 10 s under a steady stream of usage events: nothing is lost. The
 * outage is a TCP proxy in front of PostgreSQL that the test cuts, so other suites are unaffected.
 */
const base = testDatabaseUrl();

describe.skipIf(!base)('usage metering through a database outage', () => {
  let proxy: TcpProxy;
  let server: RunningServer;
  let drop: () => Promise<void>;
  let orgId: string;

  beforeAll(async () => {
    const scratch = await createScratchDatabase(base!);
    drop = scratch.drop;
    const target = new URL(scratch.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    target.port = String(proxy.port);
    server = await startServer(
      loadConfig({
        NODE_ENV: 'test',
        MAAS_PORT: '0',
        MAAS_DATA_DIR: 'memory://',
        MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
        MAAS_ADMIN_PASSWORD: 'outage-password',
        MAAS_LOG_LEVEL: 'silent',
        MAAS_USAGE_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'maas-spool-')),
        DATABASE_URL: target.toString(),
      }),
      { announce: () => {} },
    );
    const rows = await server.services.database.db.execute(sql`select id from orgs limit 1`);
    orgId = (rows as unknown as { rows: { id: string }[] }).rows[0]!.id;
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await drop?.();
  });

  it('keeps every event written while PostgreSQL is unreachable for 10 s', async () => {
    const writer = server.services.metering.writer;
    let written = 0;
    const produce = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (let i = 0; i < 50; i++) {
          written += 1;
          writer.write({
            requestId: `req_outage_${written}`,
            orgId,
            projectId: 'prj_outage',
            keyId: 'key_outage',
            modelName: 'm',
            endpoint: 'chat.completions',
            outcome: 'success',
            httpStatus: 200,
            promptTokens: 1,
            completionTokens: 1,
            latencyMs: 5,
            createdAt: new Date(),
          });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await produce(1000);
    proxy.cut();
    await produce(10_000);
    proxy.restore();
    await produce(1000);
    for (let i = 0; i < 100 && writer.pending > 0; i++) {
      await writer.flush();
      await new Promise((r) => setTimeout(r, 100));
    }
    const count = await server.services.database.db.execute(sql`select count(*)::int as n from usage_events`);
    expect((count as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(written);
    const rollup = await server.services.database.db.execute(
      sql`select sum(requests)::int as n from usage_rollups where granularity = 'day'`,
    );
    expect((rollup as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(written);
    expect(written).toBeGreaterThan(10_000);
  }, 60_000);
});
