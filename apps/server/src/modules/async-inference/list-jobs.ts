import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { type JobRow, jobs } from '../jobs/index.ts';
import { ASYNC_QUEUE, type AsyncJobDto, asyncJobSchema, toAsyncJobDto } from './job-dto.ts';

export interface ListJobsQuery {
  /** the id of the last job of the previous page */
  after?: string | undefined;
  limit: number;
  status?: JobRow['status'] | undefined;
}

export interface AsyncJobList {
  object: 'list';
  data: AsyncJobDto[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export const asyncJobListSchema = z.object({
  object: z.literal('list'),
  data: z.array(asyncJobSchema),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

/** the key's project, as stored in the job's payload (matches the index jobs_org_project_idx) */
const projectOf = sql`(payload #>> '{principal,projectId}')`;

/** A key's project's async jobs, newest first (ids are ULIDs), by cursor. */
export async function listAsyncJobs(db: Db, key: KeyPrincipal, q: ListJobsQuery): Promise<AsyncJobList> {
  const where = [
    eq(jobs.orgId, key.orgId),
    eq(jobs.queue, ASYNC_QUEUE),
    sql`${projectOf} = ${key.projectId}`,
  ];
  if (q.after) where.push(lt(jobs.id, q.after));
  if (q.status) where.push(eq(jobs.status, q.status));
  const rows = await db
    .select()
    .from(jobs)
    .where(and(...where))
    .orderBy(desc(jobs.id))
    .limit(q.limit + 1);
  const data = rows.slice(0, q.limit).map((row) => toAsyncJobDto(row as JobRow));
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: rows.length > q.limit,
  };
}
