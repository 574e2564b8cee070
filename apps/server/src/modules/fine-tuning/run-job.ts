import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { nodes } from '../../db/schema.ts';
import type { JobEngine } from '../jobs/index.ts';
import { addEvent } from './job-log.ts';
import { type FineTuningJobRow, fineTuningJobs, trainingNodes } from './schema.ts';

/** One engine job per placement round of a fine-tuning job: places it, then watches it to its end. */
export const RUN_QUEUE = 'fine_tuning.run';

const payload = z.object({ fine_tuning_job_id: z.string() });

export interface RunJobDeps {
  db: Db;
  jobs: JobEngine;
  log: Logger;
  notify: (nodeId: string | null) => void;
  /** a training node that has not asked for work for this long is gone (its runs are placed again) */
  nodeLostMs: number;
  pollMs: number;
  /** serves a trained adapter and checks it answers; ends the job */
  publish: (row: FineTuningJobRow, signal: AbortSignal) => Promise<void>;
  /** fine-tuning runs at once in this process (each only watches its trainer) */
  concurrency: number;
}

/**
 * A node for the run: a ready, schedulable fleet node whose agent offers the trainer and has a free
 * slot; the node that ran it before comes first (its checkpoints are there).
 */
async function chooseNode(db: Db, row: FineTuningJobRow, lostMs: number): Promise<string | null> {
  const since = new Date(Date.now() - lostMs);
  const busy = sql<number>`(select count(*)::int from fine_tuning_jobs j where j.node_id = ${nodes.id} and j.status = 'running' and j.id <> ${row.id})`;
  const rows = await db
    .select({ id: nodes.id, busy, slots: trainingNodes.slots })
    .from(nodes)
    .innerJoin(trainingNodes, eq(trainingNodes.nodeId, nodes.id))
    .where(
      and(
        eq(nodes.status, 'ready'),
        eq(nodes.schedulable, true),
        eq(nodes.draining, false),
        sql`${trainingNodes.seenAt} > ${since.toISOString()}`,
      ),
    );
  const free = rows.filter((r) => Number(r.busy) < r.slots);
  free.sort(
    (a, b) => Number(b.id === row.nodeId) - Number(a.id === row.nodeId) || Number(a.busy) - Number(b.busy),
  );
  return free[0]?.id ?? null;
}

async function nodeAlive(db: Db, nodeId: string, lostMs: number): Promise<boolean> {
  const [t] = await db.select().from(trainingNodes).where(eq(trainingNodes.nodeId, nodeId));
  return Boolean(t && Date.now() - t.seenAt.getTime() < lostMs);
}

export function registerRunJob(deps: RunJobDeps): void {
  const { db, log } = deps;
  deps.jobs.register(RUN_QUEUE, { concurrency: deps.concurrency, pollMs: 500 }, async (ctx) => {
    const { fine_tuning_job_id: id } = payload.parse(ctx.job.payload);
    let waitingSaid = false;
    while (!ctx.signal.aborted) {
      const [row] = await db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, id));
      if (!row || !['queued', 'running'].includes(row.status)) return { status: row?.status ?? 'gone' };
      if (row.status === 'running' && row.progress?.publishing) {
        await deps.publish(row, ctx.signal);
        continue;
      }
      const placed = row.status === 'running' && row.nodeId;
      if (placed && !(await nodeAlive(db, row.nodeId!, deps.nodeLostMs))) {
        await db
          .update(fineTuningJobs)
          .set({ status: 'queued' })
          .where(and(eq(fineTuningJobs.id, id), eq(fineTuningJobs.status, 'running')));
        await addEvent(
          db,
          id,
          `Node ${row.nodeId} stopped reporting; placing the run again (it resumes from its last checkpoint where that node comes back)`,
          { level: 'warn' },
        );
        continue;
      }
      if (!placed) {
        const nodeId = await chooseNode(db, row, deps.nodeLostMs);
        if (!nodeId) {
          if (!waitingSaid)
            await addEvent(db, id, 'Waiting for a training node with a free slot', {
              dedupeKey: `waiting:${row.attempt}`,
            });
          waitingSaid = true;
        } else {
          const [moved] = await db
            .update(fineTuningJobs)
            .set({
              status: 'running',
              nodeId,
              attempt: row.attempt + 1,
              startedAt: row.startedAt ?? new Date(),
            })
            .where(and(eq(fineTuningJobs.id, id), inArray(fineTuningJobs.status, ['queued', 'running'])))
            .returning();
          if (moved) {
            await addEvent(db, id, `Training started on node ${nodeId} (attempt ${moved.attempt})`);
            log.info({ job: id, node: nodeId, attempt: moved.attempt }, 'fine-tuning run placed');
            deps.notify(nodeId);
          }
          continue;
        }
      }
      await sleep(deps.pollMs, undefined, { signal: ctx.signal }).catch(() => {});
    }
    return { status: 'stopped' };
  });
}
