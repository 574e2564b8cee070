import { eq } from 'drizzle-orm';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { createJobEngine } from './engine.ts';
import { JobAbortedError, type JobContext, PermanentJobError } from './index.ts';
import { claimJobs, deleteFinished } from './job-store.ts';
import { jobs } from './schema.ts';
import { openTestDatabase } from './test-database.ts';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}

let database: Database;
let drop: () => Promise<void>;
const engines: ReturnType<typeof createJobEngine>[] = [];
function engine(opts: Partial<Parameters<typeof createJobEngine>[0]> = {}) {
  const e = createJobEngine({ db: database.db, log, reapMs: 50, stopGraceMs: 500, ...opts });
  engines.push(e);
  return e;
}
const finished = (e: ReturnType<typeof engine>, id: string) =>
  until(async () => {
    const row = await e.get(id);
    return row && ['succeeded', 'failed', 'cancelled'].includes(row.status) ? row : null;
  });

beforeAll(async () => {
  ({ database, drop } = await openTestDatabase());
});
afterAll(() => drop());
beforeEach(async () => {
  await database.db.delete(jobs);
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

describe('job engine', () => {
  it('runs a job and stores its result; a dedupe key returns the existing job', async () => {
    const e = engine();
    e.register('echo', { concurrency: 2, pollMs: 50 }, async ({ job }) => ({ echoed: job.payload }));
    const job = await e.enqueue({ queue: 'echo', payload: { n: 1 }, orgId: 'org_a', dedupeKey: 'once' });
    expect(job.id).toMatch(/^job_[0-9a-z]{26}$/);
    expect(job.status).toBe('queued');
    const again = await e.enqueue({ queue: 'echo', payload: { n: 2 }, dedupeKey: 'once' });
    expect(again.id).toBe(job.id);
    e.start();
    const done = await finished(e, job.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      result: { echoed: { n: 1 } },
      attempts: 1,
      error: null,
      lockedBy: null,
    });
    expect(done.finishedAt).toBeInstanceOf(Date);
  });

  it('enqueues inside the caller transaction (rolled back: no job)', async () => {
    const e = engine();
    await expect(
      database.db.transaction(async (tx) => {
        await e.enqueue({ queue: 'q', payload: 1 }, tx);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await database.db.select().from(jobs)).toHaveLength(0);
  });

  it('retries with backoff and then succeeds', async () => {
    const e = engine();
    const delays: number[] = [];
    let calls = 0;
    e.register(
      'flaky',
      {
        concurrency: 1,
        pollMs: 20,
        backoffMs: (attempt) => {
          delays.push(attempt);
          return 100 * attempt;
        },
      },
      async () => {
        calls++;
        if (calls < 3) throw new Error(`upstream said no (${calls})`);
        return 'ok';
      },
    );
    e.start();
    const started = Date.now();
    const job = await e.enqueue({ queue: 'flaky', payload: null });
    const done = await finished(e, job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 3, result: 'ok', error: null });
    expect(delays).toEqual([1, 2]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('fails for good with the real error text: after maxAttempts, or at once on PermanentJobError', async () => {
    const e = engine();
    e.register('bad', { concurrency: 2, pollMs: 20, backoffMs: () => 0 }, async ({ job }) => {
      if ((job.payload as { permanent: boolean }).permanent)
        throw new PermanentJobError('the file is not JSONL');
      throw new TypeError('cannot read properties of undefined');
    });
    e.start();
    const retried = await e.enqueue({ queue: 'bad', payload: { permanent: false }, maxAttempts: 3 });
    const permanent = await e.enqueue({ queue: 'bad', payload: { permanent: true }, maxAttempts: 3 });
    expect(await finished(e, retried.id)).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: 'cannot read properties of undefined',
    });
    expect(await finished(e, permanent.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: 'the file is not JSONL',
    });
  });

  it('cancels a queued job at once and a running one through its signal', async () => {
    const e = engine();
    let seen: unknown;
    e.register('slow', { concurrency: 1, pollMs: 20 }, async ({ signal }) => {
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const later = await e.enqueue({ queue: 'slow', payload: 0, runAt: new Date(Date.now() + 60_000) });
    expect(await e.cancel(later.id)).toMatchObject({ status: 'cancelled' });
    e.register('slow2', { concurrency: 1, pollMs: 20 }, async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      seen = signal.reason;
      throw signal.reason;
    });
    e.start();
    const running = await e.enqueue({ queue: 'slow2', payload: 0 });
    await until(async () => (await e.get(running.id))?.status === 'running');
    expect(await e.cancel(running.id)).toMatchObject({ status: 'cancelling' });
    expect(await finished(e, running.id)).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(seen).toBeInstanceOf(JobAbortedError);
    expect((seen as JobAbortedError).reason).toBe('cancelled');
    expect(await e.cancel(running.id)).toMatchObject({ status: 'cancelled' }); // no-op on a finished job
    expect(await e.cancel('job_missing')).toBeNull();
  });

  it('a cancel made by another replica reaches the running handler through the heartbeat', async () => {
    const a = engine();
    const b = engine();
    a.register('long', { concurrency: 1, pollMs: 20, leaseMs: 300 }, async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
    });
    a.start();
    const job = await a.enqueue({ queue: 'long', payload: 0 });
    await until(async () => (await a.get(job.id))?.status === 'running');
    await b.cancel(job.id); // b does not run the queue and has no bus: a learns it at its next heartbeat
    expect(await finished(a, job.id)).toMatchObject({ status: 'cancelled' });
  });

  it('runs higher priority first', async () => {
    const e = engine();
    const order: number[] = [];
    e.register('p', { concurrency: 1, pollMs: 20 }, async ({ job }) => {
      order.push(job.priority);
    });
    for (const priority of [0, 5, -1, 10, 5]) await e.enqueue({ queue: 'p', payload: null, priority });
    e.start();
    await until(async () => order.length === 5);
    expect(order).toEqual([10, 5, 5, 0, -1]);
  });

  it('keeps to the per-org concurrency while other orgs run', async () => {
    const e = engine();
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    e.register('org', { concurrency: 6, perOrgConcurrency: 2, pollMs: 20 }, async ({ job }) => {
      const org = job.orgId ?? '-';
      running.set(org, (running.get(org) ?? 0) + 1);
      peak.set(org, Math.max(peak.get(org) ?? 0, running.get(org)!));
      await sleep(60);
      running.set(org, running.get(org)! - 1);
    });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await e.enqueue({ queue: 'org', payload: i, orgId: 'org_a' })).id);
    ids.push((await e.enqueue({ queue: 'org', payload: 'b', orgId: 'org_b' })).id);
    e.start();
    for (const id of ids) await finished(e, id);
    expect(peak.get('org_a')).toBe(2);
    expect(peak.get('org_b')).toBe(1);
  });

  it('takes over a job whose worker died (lease expired) and stores heartbeat progress', async () => {
    const e = engine();
    const job = await e.enqueue({ queue: 'resume', payload: null, maxAttempts: 3 });
    // a worker that claims the job and dies without a word
    const [ghost] = await claimJobs(database.db, {
      queue: 'resume',
      worker: 'ghost',
      limit: 1,
      leaseMs: 200,
    });
    expect(ghost).toMatchObject({ id: job.id, status: 'running', lockedBy: 'ghost', attempts: 1 });
    const seen: unknown[] = [];
    e.register('resume', { concurrency: 1, pollMs: 20 }, async (ctx: JobContext) => {
      seen.push(ctx.job.progress);
      await ctx.heartbeat({ step: 2 });
      return ctx.job.attempts;
    });
    e.start();
    const done = await finished(e, job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, result: 2, progress: { step: 2 } });
    expect(seen).toEqual([null]);
  });

  it('a lease that expires on the last attempt fails the job with the reason', async () => {
    const e = engine();
    const job = await e.enqueue({ queue: 'last', payload: null, maxAttempts: 1 });
    await claimJobs(database.db, { queue: 'last', worker: 'ghost', limit: 1, leaseMs: 50 });
    e.start();
    const done = await finished(e, job.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/lease expired: the worker ghost stopped heartbeating \(attempt 1\)/);
  });

  it('never takes back a job this process still runs when its lease ran out in a stall', async () => {
    // a long heartbeat interval stands in for an event loop that stalled past the lease
    const e = engine({ reapMs: 20 });
    let calls = 0;
    let release: () => void = () => {};
    e.register('stalled', { concurrency: 2, pollMs: 20, leaseMs: 60_000 }, async () => {
      calls++;
      await new Promise<void>((resolve) => (release = resolve));
      return 'once';
    });
    const job = await e.enqueue({ queue: 'stalled', payload: null });
    e.start();
    await until(async () => (await e.get(job.id))?.status === 'running');
    await database.db
      .update(jobs)
      .set({ leaseUntil: new Date(Date.now() - 10_000) })
      .where(eq(jobs.id, job.id));
    await sleep(200); // ten reaper rounds
    expect((await e.get(job.id))?.status).toBe('running');
    release();
    expect(await finished(e, job.id)).toMatchObject({ status: 'succeeded', attempts: 1, result: 'once' });
    expect(calls).toBe(1);
  });

  it('reclaimOnStart takes back every lease at start (embedded: a lease left there is a dead process)', async () => {
    const job = await engine().enqueue({ queue: 'embedded', payload: null });
    await claimJobs(database.db, { queue: 'embedded', worker: 'killed', limit: 1, leaseMs: 3_600_000 });
    const e = engine({ reclaimOnStart: true, reapMs: 60_000 });
    e.register('embedded', { concurrency: 1, pollMs: 20 }, async () => 'again');
    e.start();
    expect(await finished(e, job.id)).toMatchObject({ status: 'succeeded', attempts: 2, result: 'again' });
  });

  it('deletes finished jobs past their retention, never queued or running ones', async () => {
    const e = engine();
    e.register('short', { concurrency: 2, pollMs: 20 }, async () => 'done');
    e.start();
    const done = await e.enqueue({ queue: 'short', payload: null });
    await finished(e, done.id);
    const waiting = await e.enqueue({ queue: 'later', payload: null });
    await sleep(50);
    expect(await deleteFinished(database.db, 60_000)).toBe(0);
    expect(await deleteFinished(database.db, 10)).toBe(1);
    expect(await e.get(done.id)).toBeNull();
    expect(await e.get(waiting.id)).toMatchObject({ status: 'queued' });
  });

  it('stop aborts running handlers and gives the lease back, without counting the attempt', async () => {
    const a = engine();
    let reason: unknown;
    a.register('drain', { concurrency: 1, pollMs: 20 }, async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      reason = (signal.reason as JobAbortedError).reason;
      throw signal.reason;
    });
    a.start();
    const job = await a.enqueue({ queue: 'drain', payload: null });
    await until(async () => (await a.get(job.id))?.status === 'running');
    await a.stop();
    expect(reason).toBe('shutdown');
    expect(await a.get(job.id)).toMatchObject({
      status: 'queued',
      attempts: 0,
      lockedBy: null,
      leaseUntil: null,
    });
    const b = engine();
    b.register('drain', { concurrency: 1, pollMs: 20 }, async () => 'b did it');
    b.start();
    expect(await finished(b, job.id)).toMatchObject({ status: 'succeeded', attempts: 1, result: 'b did it' });
  });

  it('two engines on one database share a queue and run no job twice', async () => {
    const runs = new Map<string, string[]>();
    const names = ['a', 'b'];
    const pair = names.map((name) => {
      const e = engine({ workerId: name });
      e.register('shared', { concurrency: 3, pollMs: 10 }, async ({ job }) => {
        runs.set(job.id, [...(runs.get(job.id) ?? []), name]);
        await sleep(5);
      });
      return e;
    });
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await pair[0]!.enqueue({ queue: 'shared', payload: i })).id);
    for (const e of pair) e.start();
    await until(async () => {
      const rows = await database.db.select().from(jobs).where(eq(jobs.status, 'succeeded'));
      return rows.length === ids.length;
    }, 20_000);
    expect([...runs.values()].every((r) => r.length === 1)).toBe(true);
    expect(runs.size).toBe(ids.length);
    const byEngine = names.map((n) => [...runs.values()].filter((r) => r[0] === n).length);
    expect(byEngine.every((n) => n > 0)).toBe(true);
  });

  it('reports per-queue depth, oldest age, running and failed to Prometheus', async () => {
    const registry = new Registry();
    const e = engine({ registry });
    e.register('m', { concurrency: 1, pollMs: 20, maxAttempts: 1 }, async () => {
      throw new Error('no');
    });
    await e.enqueue({ queue: 'waiting', payload: null });
    await e.enqueue({ queue: 'waiting', payload: null });
    const failing = await e.enqueue({ queue: 'm', payload: null });
    e.start();
    await finished(e, failing.id);
    const text = await registry.metrics();
    expect(text).toContain('maas_jobs_queued{queue="waiting"} 2');
    expect(text).toMatch(/maas_jobs_oldest_queued_age_seconds\{queue="waiting"\} \d/);
    expect(text).toContain('maas_jobs_running');
    expect(text).toContain('maas_jobs_failed_total{queue="m"} 1');
  });
});
