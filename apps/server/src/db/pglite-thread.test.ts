import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PgliteThread } from './pglite-thread.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Ends the database thread the way a crash would (the test reaches into the class for it). */
const crash = (thread: PgliteThread) =>
  (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();

describe('the embedded database thread', () => {
  it('opens the directory again when its thread dies, with the data written before', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maas-pglite-'));
    dirs.push(dir);
    const restarts: Error[] = [];
    const thread = new PgliteThread(dir, (cause) => restarts.push(cause));
    await thread.waitReady;
    await thread.query('create table t (n int)');
    await thread.query('insert into t values (1), (2)');
    await crash(thread);
    // sent while the thread is gone: waits for the new one
    const rows = await thread.query('select sum(n)::int as total from t');
    expect(rows.rows).toEqual([{ total: 3 }]);
    expect(restarts).toHaveLength(1);
    await thread.query('insert into t values (3)');
    expect((await thread.query('select count(*)::int as n from t')).rows).toEqual([{ n: 3 }]);
    await thread.close();
  }, 60_000);

  it('creates a new directory in a process of its own and serves it with small shared buffers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maas-pglite-'));
    dirs.push(dir);
    const thread = new PgliteThread(join(dir, 'pgdata'));
    await thread.waitReady;
    expect((await thread.query('show shared_buffers')).rows).toEqual([{ shared_buffers: '16MB' }]);
    await thread.close();
    // the directory initdb made is the one opened again
    const again = new PgliteThread(join(dir, 'pgdata'));
    await again.query('create table t (n int)');
    expect((await again.query('select count(*)::int as n from t')).rows).toEqual([{ n: 0 }]);
    await again.close();
  }, 60_000);

  it('fails from then on when an in-memory database loses its thread', async () => {
    const thread = new PgliteThread(undefined);
    await thread.waitReady;
    await crash(thread);
    await expect(thread.query('select 1')).rejects.toThrow(/exited/);
    await thread.close();
  }, 60_000);
});
