import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../db/client.ts';
import type { UsageRecord } from './record-usage.ts';
import { createUsageSpool } from './usage-spool.ts';
import { createUsageWriter } from './usage-writer.ts';

let database: Database;
let spoolDir: string;
let seq = 0;

const event = (): UsageRecord => ({
  requestId: `req_writer_${++seq}`,
  orgId: 'org_writer',
  projectId: 'prj_writer',
  keyId: 'key_writer',
  modelName: 'writer-model',
  endpoint: 'chat.completions',
  outcome: 'success',
  httpStatus: 200,
  latencyMs: 5,
  createdAt: new Date(),
});

const stored = async () =>
  Number(
    (
      (await database.db.execute(
        sql`select count(*)::int as n from usage_events where org_id = 'org_writer'`,
      )) as unknown as { rows: { n: number }[] }
    ).rows[0]!.n,
  );

beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory://' });
  await database.migrate();
  spoolDir = mkdtempSync(join(tmpdir(), 'maas-writer-test-'));
});
afterAll(async () => {
  await database?.close();
  rmSync(spoolDir, { recursive: true, force: true });
});

describe('usage writer batching', () => {
  it('writes full batches from the hot path and leaves what arrives meanwhile for the next one', async () => {
    const writer = createUsageWriter({
      db: database.db,
      log: pino({ level: 'silent' }),
      spool: createUsageSpool(spoolDir),
      batchSize: 50,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 50; i++) writer.write(event()); // the 50th starts a flush
    for (let i = 0; i < 30; i++) writer.write(event()); // arrive while it runs
    await writer.flush(); // explicit: everything, once the running flush is done
    expect(await stored()).toBe(80);
    expect(writer.pending).toBe(0);

    for (let i = 0; i < 49; i++) writer.write(event());
    await new Promise((r) => setTimeout(r, 50));
    expect(writer.pending).toBe(49); // not a full batch yet: it waits for more or the timer
    writer.write(event());
    for (let i = 0; i < 10; i++) writer.write(event());
    await new Promise((r) => setTimeout(r, 200));
    // the full batch went in; the 10 behind it were not chased in a small batch of their own
    expect(await stored()).toBe(130);
    expect(writer.pending).toBe(10);
    await writer.stop();
    expect(await stored()).toBe(140);
  });
});
