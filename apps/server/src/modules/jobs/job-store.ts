import { and, eq, inArray, isNull, lte, ne, notInArray, or, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { newId } from '../../ids.ts';
import { jobs } from './schema.ts';
import type { JobRow, JobSpec } from './types.ts';

/**
 * Every statement the engine runs on the `jobs` table. Times come from the database's clock
 * (`now()`), so replicas with skewed clocks agree on leases and run times.
 */
const LEASED = ['running', 'cancelling'];

const asRow = (row: typeof jobs.$inferSelect): JobRow => row as JobRow;
/** a JSON value, `null` included (drizzle would write SQL NULL for it) */
const jsonValue = (value: unknown) => sql`${JSON.stringify(value ?? null)}::jsonb`;
const msFromNow = (ms: number) => sql`now() + ${Math.max(0, Math.round(ms))} * interval '1 millisecond'`;

export async function insertJob(db: DbOrTx, spec: JobSpec, defaultMaxAttempts: number): Promise<JobRow> {
  const values = {
    id: newId('job'),
    queue: spec.queue,
    orgId: spec.orgId ?? null,
    priority: spec.priority ?? 0,
    payload: jsonValue(spec.payload),
    maxAttempts: Math.max(1, spec.maxAttempts ?? defaultMaxAttempts),
    dedupeKey: spec.dedupeKey ?? null,
    ...(spec.runAt ? { runAt: spec.runAt } : {}),
  };
  if (!spec.dedupeKey) {
    const [row] = await db.insert(jobs).values(values).returning();
    return asRow(row!);
  }
  const [row] = await db.insert(jobs).values(values).onConflictDoNothing().returning();
  if (row) return asRow(row);
  const [existing] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.queue, spec.queue), eq(jobs.dedupeKey, spec.dedupeKey)));
  return asRow(existing!);
}

export async function findJob(db: DbOrTx, id: string): Promise<JobRow | null> {
  const [row] = await db.select().from(jobs).where(eq(jobs.id, id));
  return row ? asRow(row) : null;
}

export interface ClaimOptions {
  queue: string;
  worker: string;
  limit: number;
  leaseMs: number;
  perOrgConcurrency?: number | undefined;
}

/** Takes up to `limit` ready jobs of a queue, best first, skipping rows another worker is claiming. */
export async function claimJobs(db: Db, opts: ClaimOptions): Promise<JobRow[]> {
  if (opts.limit <= 0) return [];
  if (opts.perOrgConcurrency === undefined) return claim(db, opts, opts.limit);
  // Per-org limits count leased rows, which two replicas claiming at once would both miss: claims
  // of such a queue take turns (a transaction-scoped advisory lock) and take one job at a time.
  const claimed: JobRow[] = [];
  for (let i = 0; i < opts.limit; i++) {
    const rows = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`maas.jobs:${opts.queue}`}))`);
      return claim(tx, opts, 1);
    });
    if (rows.length === 0) break;
    claimed.push(...rows);
  }
  return claimed;
}

async function claim(db: DbOrTx, opts: ClaimOptions, limit: number): Promise<JobRow[]> {
  const orgFree =
    opts.perOrgConcurrency === undefined
      ? undefined
      : or(
          isNull(jobs.orgId),
          sql`(select count(*) from jobs r where r.queue = ${opts.queue} and r.org_id = ${jobs.orgId}
                 and r.status in ('running', 'cancelling')) < ${opts.perOrgConcurrency}`,
        );
  const ready = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.queue, opts.queue), eq(jobs.status, 'queued'), lte(jobs.runAt, sql`now()`), orgFree))
    .orderBy(sql`${jobs.priority} desc`, jobs.runAt, jobs.id)
    .limit(limit)
    .for('update', { skipLocked: true });
  const rows = await db
    .update(jobs)
    .set({
      status: 'running',
      attempts: sql`${jobs.attempts} + 1`,
      leaseUntil: msFromNow(opts.leaseMs),
      lockedBy: opts.worker,
      updatedAt: sql`now()`,
    })
    .where(inArray(jobs.id, ready))
    .returning();
  return rows.map(asRow).sort((a, b) => b.priority - a.priority || a.runAt.getTime() - b.runAt.getTime());
}

/** Extends the leases this worker holds; returns each still-held job's status (absent: lease lost). */
export async function extendLeases(
  db: Db,
  worker: string,
  ids: string[],
  leaseMs: number,
  progress?: { id: string; value: unknown },
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .update(jobs)
    .set({
      leaseUntil: msFromNow(leaseMs),
      updatedAt: sql`now()`,
      ...(progress
        ? {
            progress: sql`case when ${jobs.id} = ${progress.id} then ${JSON.stringify(progress.value ?? null)}::jsonb else ${jobs.progress} end`,
          }
        : {}),
    })
    .where(and(inArray(jobs.id, ids), eq(jobs.lockedBy, worker), inArray(jobs.status, LEASED)))
    .returning({ id: jobs.id, status: jobs.status });
  return new Map(rows.map((r) => [r.id, r.status]));
}

const heldBy = (id: string, worker: string) =>
  and(eq(jobs.id, id), eq(jobs.lockedBy, worker), inArray(jobs.status, LEASED));

/** Records a handler's result; a job cancelled meanwhile ends cancelled (its result kept). */
export async function completeJob(
  db: Db,
  id: string,
  worker: string,
  result: unknown,
): Promise<JobRow | null> {
  const [row] = await db
    .update(jobs)
    .set({
      status: sql`case when ${jobs.status} = 'cancelling' then 'cancelled' else 'succeeded' end`,
      result: jsonValue(result),
      error: null,
      leaseUntil: null,
      lockedBy: null,
      updatedAt: sql`now()`,
      finishedAt: sql`now()`,
    })
    .where(heldBy(id, worker))
    .returning();
  return row ? asRow(row) : null;
}

/**
 * Records a failed attempt: back to the queue after `retryInMs`, or failed for good when `retryInMs`
 * is null. A job cancelled meanwhile ends cancelled.
 */
export async function failJob(
  db: Db,
  id: string,
  worker: string,
  error: string,
  retryInMs: number | null,
): Promise<JobRow | null> {
  const retry = retryInMs !== null;
  const [row] = await db
    .update(jobs)
    .set({
      status: retry
        ? sql`case when ${jobs.status} = 'cancelling' then 'cancelled' else 'queued' end`
        : sql`case when ${jobs.status} = 'cancelling' then 'cancelled' else 'failed' end`,
      error,
      runAt: retry ? msFromNow(retryInMs) : sql`${jobs.runAt}`,
      leaseUntil: null,
      lockedBy: null,
      updatedAt: sql`now()`,
      finishedAt: retry ? sql`case when ${jobs.status} = 'cancelling' then now() else null end` : sql`now()`,
    })
    .where(heldBy(id, worker))
    .returning();
  return row ? asRow(row) : null;
}

/** Gives leases back at shutdown: the attempt does not count, and any worker may take the job now. */
export async function releaseJobs(db: Db, worker: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(jobs)
    .set({
      status: sql`case when ${jobs.status} = 'cancelling' then 'cancelled' else 'queued' end`,
      attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
      runAt: sql`now()`,
      leaseUntil: null,
      lockedBy: null,
      updatedAt: sql`now()`,
      finishedAt: sql`case when ${jobs.status} = 'cancelling' then now() else null end`,
    })
    .where(and(inArray(jobs.id, ids), eq(jobs.lockedBy, worker), inArray(jobs.status, LEASED)));
}

/**
 * Jobs whose lease ran out (their worker died or hung): back to the queue, failed when that was the
 * last attempt, cancelled when a cancel was pending. `alive` are the jobs the calling process is
 * running itself: a lease of its own that ran out while its event loop stalled is renewed by its next
 * heartbeat, not taken back (which would run the job a second time next to the first).
 */
export async function reapExpired(
  db: Db,
  all = false,
  alive: { worker: string; ids: string[] } = { worker: '', ids: [] },
): Promise<JobRow[]> {
  const notAlive =
    alive.ids.length === 0
      ? undefined
      : or(isNull(jobs.lockedBy), ne(jobs.lockedBy, alive.worker), notInArray(jobs.id, alive.ids));
  const rows = await db
    .update(jobs)
    .set({
      status: sql`case when ${jobs.status} = 'cancelling' then 'cancelled'
                       when ${jobs.attempts} >= ${jobs.maxAttempts} then 'failed' else 'queued' end`,
      error: sql`case when ${jobs.status} = 'cancelling' then ${jobs.error}
                      else 'lease expired: the worker ' || coalesce(${jobs.lockedBy}, '?') || ' stopped heartbeating (attempt ' || ${jobs.attempts} || ')' end`,
      runAt: sql`now()`,
      leaseUntil: null,
      lockedBy: null,
      updatedAt: sql`now()`,
      finishedAt: sql`case when ${jobs.status} = 'cancelling' or ${jobs.attempts} >= ${jobs.maxAttempts} then now() else null end`,
    })
    .where(and(inArray(jobs.status, LEASED), all ? undefined : lte(jobs.leaseUntil, sql`now()`), notAlive))
    .returning();
  return rows.map(asRow);
}

/** queued → cancelled; running → cancelling (its worker aborts the handler and records cancelled). */
export async function markCancelled(db: Db, id: string): Promise<JobRow | null> {
  const [row] = await db
    .update(jobs)
    .set({
      status: sql`case when ${jobs.status} = 'queued' then 'cancelled' else 'cancelling' end`,
      updatedAt: sql`now()`,
      finishedAt: sql`case when ${jobs.status} = 'queued' then now() else null end`,
    })
    .where(and(eq(jobs.id, id), inArray(jobs.status, ['queued', 'running'])))
    .returning();
  if (row) return asRow(row);
  return findJob(db, id);
}

/** Deletes up to `limit` jobs that finished more than `olderThanMs` ago; returns how many. */
export async function deleteFinished(db: Db, olderThanMs: number, limit = 1_000): Promise<number> {
  const old = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        inArray(jobs.status, ['succeeded', 'failed', 'cancelled']),
        lte(jobs.finishedAt, sql`now() - ${Math.round(olderThanMs)} * interval '1 millisecond'`),
      ),
    )
    .limit(limit);
  const rows = await db.delete(jobs).where(inArray(jobs.id, old)).returning({ id: jobs.id });
  return rows.length;
}

export interface QueueStats {
  queue: string;
  queued: number;
  ready: number;
  oldestReadyAgeSeconds: number;
  running: number;
}

/** Depth, age of the oldest ready job and running count per queue (one grouped query). */
export async function queueStats(db: Db): Promise<QueueStats[]> {
  const rows = await db
    .select({
      queue: jobs.queue,
      queued: sql<number>`count(*) filter (where ${jobs.status} = 'queued')`.mapWith(Number),
      ready:
        sql<number>`count(*) filter (where ${jobs.status} = 'queued' and ${jobs.runAt} <= now())`.mapWith(
          Number,
        ),
      oldest:
        sql<number>`coalesce(extract(epoch from now() - min(${jobs.runAt}) filter (where ${jobs.status} = 'queued' and ${jobs.runAt} <= now())), 0)`.mapWith(
          Number,
        ),
      running: sql<number>`count(*) filter (where ${jobs.status} in ('running', 'cancelling'))`.mapWith(
        Number,
      ),
    })
    .from(jobs)
    .where(inArray(jobs.status, ['queued', ...LEASED]))
    .groupBy(jobs.queue);
  return rows.map((r) => ({
    queue: r.queue,
    queued: r.queued,
    ready: r.ready,
    oldestReadyAgeSeconds: r.oldest,
    running: r.running,
  }));
}
