import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { createBatchSteps } from './batch-steps.ts';
import type { BatchFiles, EmitEvent } from './files-port.ts';
import {
  type ClaimedLine,
  claimLines,
  commitResults,
  extendClaims,
  type LineResult,
  releaseClaims,
  runningBatches,
} from './line-store.ts';
import { runLine } from './run-line.ts';
import { batches } from './schema.ts';

export interface BatchRunnerDeps {
  db: Db;
  gw: GatewayContext;
  files: BatchFiles;
  log: Logger;
  emit?: EmitEvent | undefined;
  /** lines running at once in this process (batch traffic's own budget) */
  concurrency: number;
  /** lines of one org running at once in this process */
  perOrgConcurrency: number;
  /** how often an idle runner looks for work */
  pollMs?: number;
  /** how long a claim holds without being renewed */
  leaseMs?: number;
}

/**
 * Runs batches in this process, beside any other replica on the same database. Batch-level steps
 * (validate, finalize, expire, cancel) are held by a lease on the batch row; lines are claimed a
 * few at a time with leases of their own, so replicas share one batch's lines and a crashed
 * replica's lines are claimed again once their lease runs out. Answers are committed in groups.
 */
/** Answers are stored this often (and at once when this many wait): one transaction for many lines. */
const COMMIT_MS = 100;
const COMMIT_LINES = 128;
/** lines claimed at a time (at least; four times the concurrency when that is more) */
const CLAIM_AHEAD = 32;

export function createBatchRunner(deps: BatchRunnerDeps) {
  const { db, gw, files, log } = deps;
  const pollMs = deps.pollMs ?? 500;
  const leaseMs = deps.leaseMs ?? 30_000;
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const keys = new Map<string, { key: KeyPrincipal; endpoint: string }>();
  const perOrg = new Map<string, number>();
  let inflight = 0;
  /** lines claimed by this process and not started yet */
  const queued: ClaimedLine[] = [];
  let buffer: LineResult[] = [];
  let committing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let renew: NodeJS.Timeout | undefined;
  let flusher: NodeJS.Timeout | undefined;
  let stopped = false;
  let started = false;
  let ticking: Promise<void> | null = null;
  let again = false;
  let againFull = false;
  const inFlight = new Set<Promise<void>>();
  const batchSteps = createBatchSteps({
    db,
    gw,
    files,
    log,
    emit: deps.emit,
    owner,
    leaseMs,
    finished: (id) => keys.delete(id),
  });
  /** running batches to claim lines from, refreshed by the batch-level steps */
  let running: { id: string; orgId: string }[] = [];

  async function commit(): Promise<void> {
    while (committing) await committing;
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    committing = commitResults(db, batch)
      .then(() => undefined)
      .catch((err) => {
        // not stored: the claims run out and the lines run again; nothing was billed
        log.warn({ err, lines: batch.length }, 'batch answers not stored; lines will run again');
      })
      .finally(() => {
        committing = null;
      });
    await committing;
  }

  async function batchOf(batchId: string) {
    const known = keys.get(batchId);
    if (known) return known;
    const [row] = await db
      .select({ principal: batches.principal, endpoint: batches.endpoint })
      .from(batches)
      .where(eq(batches.id, batchId));
    const entry = { key: row!.principal as KeyPrincipal, endpoint: row!.endpoint };
    keys.set(batchId, entry);
    return entry;
  }

  function start(line: ClaimedLine) {
    inflight++;
    perOrg.set(line.orgId, (perOrg.get(line.orgId) ?? 0) + 1);
    const p = (async () => {
      try {
        const { key, endpoint } = await batchOf(line.batchId);
        const result = await runLine(gw, key, endpoint, line);
        buffer.push(result); // after the await: commit() swaps the array
        if (buffer.length >= COMMIT_LINES) void commit();
      } catch (err) {
        log.error({ err, batch: line.batchId, line: line.line }, 'batch line failed inside maas');
      } finally {
        inflight--;
        perOrg.set(line.orgId, (perOrg.get(line.orgId) ?? 1) - 1);
        pump();
        if (queued.length < deps.concurrency || inflight === 0) kick(false);
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  /**
   * Starts claimed lines while the budget allows; claims the next `concurrency` lines ahead while
   * fewer wait here, so a claim query serves many lines.
   */
  /** Starts claimed lines while the budget allows (no I/O: called as each line ends). */
  function pump(): void {
    while (!stopped && inflight < deps.concurrency && queued.length > 0) {
      const k = queued.findIndex((l) => (perOrg.get(l.orgId) ?? 0) < deps.perOrgConcurrency);
      if (k < 0) return;
      start(queued.splice(k, 1)[0]!);
    }
  }

  async function fill(): Promise<void> {
    while (!stopped) {
      pump();
      if (queued.length >= deps.concurrency) return;
      const ahead = Math.max(CLAIM_AHEAD, deps.concurrency * 4);
      // the oldest running batch whose org has room in this process
      const batch = running.find((b) => (perOrg.get(b.orgId) ?? 0) < deps.perOrgConcurrency);
      if (!batch) return;
      const lines = await claimLines(db, owner, batch, ahead, leaseMs);
      if (lines.length === 0)
        running.splice(running.indexOf(batch), 1); // until the next refresh
      else queued.push(...lines);
    }
  }

  async function steps(): Promise<void> {
    running = await runningBatches(db);
    // claimed here but their batch stopped running (cancelled, expired): never started, given back
    const live = new Set(running.map((b) => b.id));
    const stale = queued.filter((l) => !live.has(l.batchId));
    if (stale.length > 0) {
      for (const l of stale) queued.splice(queued.indexOf(l), 1);
      await releaseClaims(db, owner, stale);
    }
    await batchSteps.run(() => stopped);
  }

  /** Stores answers and starts lines; `full`: the batch-level steps too (on the timer, or when idle). */
  async function tick(full: boolean): Promise<void> {
    do {
      again = false;
      try {
        await fill();
        if (full || inflight === 0) {
          full = false;
          await commit();
          await steps();
          await fill();
        }
      } catch (err) {
        log.warn({ err }, 'batch runner tick failed');
      }
      if (againFull) {
        full = true;
        againFull = false;
      }
    } while ((again || full) && !stopped);
  }

  function kick(full = true): void {
    if (stopped || !started) return;
    if (ticking) {
      again = true;
      if (full) againFull = true;
      return;
    }
    ticking = tick(full).finally(() => {
      ticking = null;
    });
  }

  return {
    owner,
    kick,
    start() {
      started = true;
      timer = setInterval(kick, pollMs);
      timer.unref();
      flusher = setInterval(() => void commit(), COMMIT_MS);
      flusher.unref();
      renew = setInterval(() => {
        if (inflight > 0 || queued.length > 0)
          extendClaims(db, owner, leaseMs).catch((err) => log.warn({ err }, 'claim renewal failed'));
      }, leaseMs / 3);
      renew.unref();
      kick();
    },
    /** Lets lines in flight end and stores their answers; claims not started run out elsewhere. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      clearInterval(renew);
      clearInterval(flusher);
      while (ticking) await ticking;
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      await commit();
      // claimed but never started: another replica (or the next start) takes them at once
      const left = queued.splice(0);
      if (left.length > 0)
        await releaseClaims(db, owner, left).catch((err) => log.warn({ err }, 'claims not released'));
    },
  };
}

export type BatchRunner = ReturnType<typeof createBatchRunner>;
