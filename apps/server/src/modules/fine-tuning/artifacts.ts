import type { Readable } from 'node:stream';
import type { ArtifactQuery } from '@maas/contracts/agent';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import { newCheckpointId } from './job-log.ts';
import { fineTuningCheckpoints, fineTuningJobs } from './schema.ts';

/** What storing a node's file needs of the file store (services.files satisfies it). */
export interface ArtifactFiles {
  create(input: {
    orgId: string;
    projectId: string;
    purpose: string;
    filename: string;
    body: Readable;
    sizeHint?: number | undefined;
  }): Promise<{ id: string; bytes: number }>;
}

/**
 * A checkpoint or the adapter of a run, sent by the node it is placed on, becomes a file of the
 * job's project (purpose `fine-tune-results`, stored owner-only like every file): serving and a
 * resume on another node read it from here, not from the node's disk. Only the node running the
 * current attempt may send one.
 */
export async function storeArtifact(
  deps: { db: Db; files: ArtifactFiles },
  nodeId: string,
  runId: string,
  q: ArtifactQuery,
  body: Readable,
  sizeHint: number | undefined,
): Promise<{ file_id: string; bytes: number }> {
  const { db } = deps;
  const [job] = await db
    .select()
    .from(fineTuningJobs)
    .where(
      and(
        eq(fineTuningJobs.id, runId),
        eq(fineTuningJobs.nodeId, nodeId),
        eq(fineTuningJobs.status, 'running'),
      ),
    );
  if (!job || job.attempt !== q.attempt) {
    body.resume();
    throw new AppError('not_found', 'no such run on this node');
  }
  const filename = q.kind === 'adapter' ? `${job.id}-adapter.gguf` : `${job.id}-step-${q.step}.pt`;
  const file = await deps.files.create({
    orgId: job.orgId,
    projectId: job.projectId,
    purpose: 'fine-tune-results',
    filename,
    body,
    sizeHint,
  });
  if (q.kind === 'adapter')
    await db.update(fineTuningJobs).set({ resultFileId: file.id }).where(eq(fineTuningJobs.id, job.id));
  else
    await db
      .insert(fineTuningCheckpoints)
      .values({
        id: newCheckpointId(),
        jobId: job.id,
        step: q.step,
        metrics: { step: q.step },
        fileId: file.id,
      })
      .onConflictDoUpdate({
        target: [fineTuningCheckpoints.jobId, fineTuningCheckpoints.step],
        set: { fileId: file.id },
      });
  return { file_id: file.id, bytes: file.bytes };
}
