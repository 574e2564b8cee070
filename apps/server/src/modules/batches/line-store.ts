import { sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { recordUsage, type UsageEvent } from '../metering/index.ts';

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows;

export interface ClaimedLine {
  batchId: string;
  orgId: string;
  line: number;
  customId: string;
  body: Record<string, unknown>;
  attempts: number;
}

/** A line's end: its file line, and its usage event when an upstream answered. */
export interface LineResult {
  batchId: string;
  line: number;
  state: 'completed' | 'failed' | 'retry';
  result: unknown;
  usage: UsageEvent | null;
  /** retry: not before this many ms */
  retryInMs?: number;
}

/** A range of a batch's lines, `from` to `to` inclusive: what one engine job runs. */
export interface LineRange {
  batchId: string;
  orgId: string;
  from: number;
  to: number;
}

/**
 * Claims up to `limit` pending lines of a range for `owner` (the chunk job's id) for `leaseMs`, in
 * file order (the partial index on pending lines). A claim whose owner died runs out and the line
 * is claimed again; the same job run again (after a crash or restart) takes its own claims back at
 * once. SKIP LOCKED keeps two runs of one range from taking the same line. Nothing once the batch
 * stopped running (cancelled, expired).
 */
export async function claimLines(
  db: Db,
  owner: string,
  range: LineRange,
  limit: number,
  leaseMs: number,
  /** the first claim of a run: lines this job claimed in an earlier run (it died) count as free */
  reclaimOwn = false,
): Promise<ClaimedLine[]> {
  const own = reclaimOwn ? sql`or claimed_by = ${owner}` : sql``;
  const result = await db.execute(sql`
    update batch_lines l set claimed_by = ${owner}, claim_until = now() + ${leaseMs} * interval '1 millisecond'
    from (
      select line from batch_lines
      where batch_id = ${range.batchId} and state = 'pending' and line between ${range.from} and ${range.to}
        and (claim_until is null or claim_until < now() ${own})
        and exists (select 1 from batches where id = ${range.batchId} and status = 'in_progress' and expires_at > now())
      order by line
      limit ${limit}
      for update skip locked
    ) c
    where l.batch_id = ${range.batchId} and l.line = c.line
    returning l.line, l.custom_id, l.body, l.attempts`);
  return rowsOf<Record<string, unknown>>(result).map((r) => ({
    batchId: range.batchId,
    orgId: range.orgId,
    line: Number(r.line),
    customId: r.custom_id as string,
    body: r.body as Record<string, unknown>,
    attempts: Number(r.attempts),
  }));
}

/**
 * The range's lines still unanswered, and when the first of them can be claimed again (a transient
 * refusal waits out its backoff; another run's claim its lease): null when none is left.
 */
export async function nextPendingAt(db: Db, range: LineRange): Promise<Date | null> {
  const r = rowsOf<{ n: number; at: Date | string | null }>(
    await db.execute(sql`
      select count(*)::int as n, min(coalesce(claim_until, now())) as at from batch_lines
      where batch_id = ${range.batchId} and state = 'pending' and line between ${range.from} and ${range.to}`),
  );
  if (!r[0] || Number(r[0].n) === 0) return null;
  return r[0].at ? new Date(r[0].at) : new Date();
}

/** Keeps this owner's claims alive while its lines run. */
export async function extendClaims(db: Db, owner: string, leaseMs: number): Promise<void> {
  await db.execute(sql`
    update batch_lines set claim_until = now() + ${leaseMs} * interval '1 millisecond'
    where claimed_by = ${owner} and state = 'pending' and claim_until > now()`);
}

/** Gives back this owner's claims on lines it never started (a clean stop, a batch that stopped running). */
export async function releaseClaims(db: Db, owner: string, lines: ClaimedLine[]): Promise<void> {
  const payload = JSON.stringify(lines.map((l) => ({ batch_id: l.batchId, line: l.line })));
  await db.execute(sql`
    update batch_lines l set claimed_by = null, claim_until = null
    from jsonb_to_recordset(${payload}::jsonb) as v(batch_id text, line int)
    where l.batch_id = v.batch_id and l.line = v.line and l.claimed_by = ${owner} and l.state = 'pending'`);
}

/**
 * Writes answers in one transaction: each line only while it is still pending (a line answered
 * elsewhere meanwhile keeps that answer), the usage rows of the lines written here, and the
 * batch's live counts. A line is billed if and only if its answer is stored.
 */
export async function commitResults(db: Db, results: LineResult[]): Promise<number> {
  if (results.length === 0) return 0;
  return db.transaction(async (tx) => {
    const retries = results.filter((r) => r.state === 'retry');
    for (const r of retries)
      await tx.execute(sql`
        update batch_lines set attempts = attempts + 1, claimed_by = null,
          claim_until = now() + ${r.retryInMs ?? 1000} * interval '1 millisecond'
        where batch_id = ${r.batchId} and line = ${r.line} and state = 'pending'`);
    const done = results.filter((r) => r.state !== 'retry');
    if (done.length === 0) return 0;
    const payload = JSON.stringify(
      done.map((r) => ({ batch_id: r.batchId, line: r.line, state: r.state, result: r.result })),
    );
    const updated = rowsOf<{ batch_id: string; line: number }>(
      await tx.execute(sql`
        update batch_lines l set state = v.state, result = v.result, claimed_by = null, claim_until = null
        from jsonb_to_recordset(${payload}::jsonb) as v(batch_id text, line int, state text, result jsonb)
        where l.batch_id = v.batch_id and l.line = v.line and l.state = 'pending'
        returning l.batch_id, l.line`),
    );
    const written = new Set(updated.map((u) => `${u.batch_id}:${Number(u.line)}`));
    const kept = done.filter((r) => written.has(`${r.batchId}:${r.line}`));
    await recordUsage(
      tx,
      kept.flatMap((r) => (r.usage ? [r.usage] : [])),
    );
    await addCounts(tx, kept);
    return kept.length;
  });
}

async function addCounts(tx: DbOrTx, kept: LineResult[]): Promise<void> {
  const byBatch = new Map<string, { c: number; f: number; i: number; o: number; ca: number; re: number }>();
  for (const r of kept) {
    const t = byBatch.get(r.batchId) ?? { c: 0, f: 0, i: 0, o: 0, ca: 0, re: 0 };
    if (r.state === 'completed') t.c++;
    else t.f++;
    if (r.usage) {
      t.i += r.usage.promptTokens ?? 0;
      t.o += r.usage.completionTokens ?? 0;
      t.ca += r.usage.cachedTokens ?? 0;
      t.re += r.usage.reasoningTokens ?? 0;
    }
    byBatch.set(r.batchId, t);
  }
  for (const [id, t] of byBatch)
    await tx.execute(sql`
      update batches set completed = completed + ${t.c}, failed = failed + ${t.f},
        input_tokens = input_tokens + ${t.i}, output_tokens = output_tokens + ${t.o},
        cached_tokens = cached_tokens + ${t.ca}, reasoning_tokens = reasoning_tokens + ${t.re}
      where id = ${id}`);
}

/** Lines still pending with a live claim (in flight somewhere). */
export async function liveClaims(db: DbOrTx, batchId: string): Promise<number> {
  const r = rowsOf<{ n: number }>(
    await db.execute(sql`
      select count(*)::int as n from batch_lines
      where batch_id = ${batchId} and state = 'pending' and claimed_by is not null and claim_until > now()`),
  );
  return Number(r[0]?.n ?? 0);
}

/** Whether any line of the batch is still unanswered (the partial index: no count of 50,000 rows). */
export async function hasPendingLines(db: DbOrTx, batchId: string): Promise<boolean> {
  const r = rowsOf<{ any: boolean }>(
    await db.execute(
      sql`select exists (select 1 from batch_lines where batch_id = ${batchId} and state = 'pending') as any`,
    ),
  );
  return r[0]?.any === true;
}

/** A batch's lines in file order, a page at a time (keyset on the line number). */
export async function* readLines(
  db: Db,
  batchId: string,
  page = 1000,
): AsyncGenerator<{ line: number; customId: string; state: string; result: unknown }> {
  let after = 0;
  for (;;) {
    const rows = rowsOf<Record<string, unknown>>(
      await db.execute(sql`
        select line, custom_id, state, result from batch_lines
        where batch_id = ${batchId} and line > ${after} order by line limit ${page}`),
    );
    for (const r of rows)
      yield {
        line: Number(r.line),
        customId: r.custom_id as string,
        state: r.state as string,
        result: r.result,
      };
    if (rows.length < page) return;
    after = Number(rows.at(-1)!.line);
  }
}
