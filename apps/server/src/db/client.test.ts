import { EventEmitter } from 'node:events';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { releaseOnFailedBegin } from './client.ts';

/** A PostgreSQL connection whose socket died right after the pool handed it out: every query fails. */
class DeadConnection extends EventEmitter {
  _queryable = true;
  _ending = false;
  connect(cb: (err: Error | null) => void) {
    setImmediate(() => cb(null));
  }
  query(...args: unknown[]): Promise<never> | undefined {
    this._queryable = false;
    const err = new Error('Connection terminated unexpectedly');
    const cb = args.at(-1);
    if (typeof cb === 'function') {
      setImmediate(() => cb(err));
      return undefined;
    }
    return Promise.reject(err);
  }
  end(cb?: () => void) {
    this._ending = true;
    setImmediate(() => cb?.());
    return Promise.resolve();
  }
}

describe('the PostgreSQL pool', () => {
  it('gets back a connection whose BEGIN failed, so that closing the pool ends', async () => {
    const pool = releaseOnFailedBegin(
      new pg.Pool({ Client: DeadConnection as unknown as typeof pg.Client, max: 2 }),
    );
    const db = drizzle(pool);
    await expect(db.transaction(async (tx) => tx.execute(sql`select 1`))).rejects.toThrow(/begin/);
    expect(pool.totalCount).toBe(0); // given back broken, so dropped
    const ended = await Promise.race([
      pool.end().then(() => 'ended'),
      new Promise((r) => setTimeout(() => r('still waiting'), 2_000)),
    ]);
    expect(ended).toBe('ended');
  });

  it('leaves plain queries and callback checkouts as they were', async () => {
    const pool = releaseOnFailedBegin(
      new pg.Pool({ Client: DeadConnection as unknown as typeof pg.Client, max: 1 }),
    );
    await expect(pool.query('select 1')).rejects.toThrow('terminated');
    const client = await new Promise<pg.PoolClient>((resolve, reject) =>
      pool.connect((err, c) => (err ? reject(err) : resolve(c!))),
    );
    client.release(true);
    await pool.end();
  });
});
