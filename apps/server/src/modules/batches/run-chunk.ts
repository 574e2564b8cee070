import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { GatewayContext } from '../gateway/index.ts';
import { JobAbortedError, type JobContext } from '../jobs/index.ts';
import {
  type ClaimedLine,
  claimLines,
  commitResults,
  extendClaims,
  type LineRange,
  type LineResult,
  nextPendingAt,
  releaseClaims,
} from './line-store.ts';
import { revokedLine, runLine } from './run-line.ts';
import { batches } from './schema.ts';

/** Answers are stored this often, and at once when this many wait: one transaction for many lines. */
const COMMIT_MS = 100;
const COMMIT_LINES = 64;

export interface ChunkDeps {
  db: Db;
  gw: GatewayContext;
  log: Logger;
  /** lines of one chunk running at once */
  concurrency: number;
  /** how long a line claim holds without renewal */
  leaseMs: number;
  /** the batch's key as it is now: null once revoked or expired */
  currentKey: (keyId: string) => KeyPrincipal | null;
}

/** What a chunk run left behind: lines to try again later (a backoff, a claim elsewhere), or none. */
export type ChunkOutcome = { retryAt: Date | null; stopped: boolean };

/**
 * Runs the pending lines of one range through the gateway path as the batch's key, a few claimed
 * at a time, `concurrency` at once; answers are committed in groups with their usage rows, only
 * while each line is still pending, so a line is answered and billed once however often the chunk
 * runs. Stops claiming when the batch stops running (cancel, expiry) or the job is aborted.
 */
export async function runChunk(deps: ChunkDeps, ctx: JobContext, range: LineRange): Promise<ChunkOutcome> {
  const { db, gw, log } = deps;
  const owner = ctx.job.id;
  const [batch] = await db
    .select({ principal: batches.principal, endpoint: batches.endpoint, status: batches.status })
    .from(batches)
    .where(eq(batches.id, range.batchId));
  if (batch?.status !== 'in_progress') return { retryAt: null, stopped: true };
  const keyId = (batch.principal as KeyPrincipal).keyId;

  let buffer: LineResult[] = [];
  let committing: Promise<void> = Promise.resolve();
  const commit = () => {
    committing = committing.then(async () => {
      if (buffer.length === 0) return;
      const group = buffer;
      buffer = [];
      try {
        await commitResults(db, group);
      } catch (err) {
        // not stored: the claims run out and the lines run again; nothing was billed
        log.warn(
          { err, batch: range.batchId, lines: group.length },
          'batch answers not stored; lines will run again',
        );
      }
    });
    return committing;
  };
  const flusher = setInterval(() => void commit(), COMMIT_MS);
  const renew = setInterval(
    () =>
      void extendClaims(db, owner, deps.leaseMs).catch((err) => log.warn({ err }, 'claim renewal failed')),
    deps.leaseMs / 3,
  );
  // lines claimed and not started: refilled while workers run, so no worker waits for a group's last line
  const waiting: ClaimedLine[] = [];
  let exhausted = false;
  let first = true;
  let refilling: Promise<void> | null = null;
  /** a claim that failed (the database): the workers stop, the job fails and is retried */
  let claimFailed: unknown = null;
  const refill = () => {
    refilling ??= (async () => {
      try {
        const lines = await claimLines(db, owner, range, deps.concurrency * 2, deps.leaseMs, first);
        first = false;
        if (lines.length === 0) exhausted = true;
        waiting.push(...lines);
      } catch (err) {
        claimFailed = err;
        exhausted = true;
      } finally {
        refilling = null;
      }
    })();
    return refilling;
  };
  const worker = async () => {
    while (!ctx.signal.aborted) {
      if (waiting.length <= deps.concurrency && !exhausted) {
        const more = refill();
        if (waiting.length === 0) await more;
      }
      const line = waiting.shift();
      if (!line) {
        if (exhausted) return;
        continue; // another worker took what the refill brought: claim again
      }
      try {
        // lines run as the key is now: a revoked key stops spending, changed models or scopes apply
        const key = deps.currentKey(keyId);
        const result = key ? await runLine(gw, key, batch.endpoint, line) : revokedLine(line);
        buffer.push(result); // after the await: commit() swaps the array
        if (buffer.length >= COMMIT_LINES) void commit();
      } catch (err) {
        log.error({ err, batch: line.batchId, line: line.line }, 'batch line failed inside maas');
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: deps.concurrency }, worker));
    while (refilling) await refilling;
  } finally {
    clearInterval(flusher);
    clearInterval(renew);
    await commit();
    // aborted half way: the lines never started are given back for the next run at once
    if (waiting.length > 0) await releaseClaims(db, owner, waiting.splice(0));
  }
  if (ctx.signal.aborted) throw ctx.signal.reason ?? new JobAbortedError('shutdown');
  if (claimFailed) throw claimFailed;
  return { retryAt: await nextPendingAt(db, range), stopped: false };
}
