import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { BatchJobs } from './batch-jobs.ts';
import { type BatchRow, toBatchDto } from './dto.ts';
import type { BatchFiles } from './files-port.ts';
import { batches } from './schema.ts';
import { BATCH_ENDPOINTS, type BatchEndpoint } from './validate-input.ts';

export interface CreateBatchInput {
  input_file_id: string;
  endpoint: string;
  completion_window: string;
  metadata?: Record<string, string> | null | undefined;
  output_expires_after?: { anchor: 'created_at'; seconds: number } | undefined;
}

export interface BatchServiceDeps {
  db: Db;
  files: BatchFiles;
  /** the completion window in seconds ('24h' = 86,400; shorter in tests) */
  windowS: number;
  /** queues the batch's next step on the job engine (in the caller's transaction when given) */
  enqueueStep: BatchJobs['enqueueStep'];
  /** a cancelled batch holds no quota from now on (here at once, on other replicas by the bus) */
  stoppedHolding: (id: string) => Promise<void>;
}

const notFound = (id: string) =>
  new AppError('not_found', `No batch found with id '${id}'.`, undefined, { param: 'batch_id' });

const invalid = (message: string, param: string) =>
  new AppError('validation_failed', message, undefined, { param });

/** Prefix of OpenAI's ids: `batch_…`, sortable by creation like every id of ours. */
export const newBatchId = () => `batch_${newId('req').slice(4)}`;

/** /v1/batches for one key's project: another project's or org's batches do not exist here. */
export function createBatchService({ db, files, windowS, enqueueStep, stoppedHolding }: BatchServiceDeps) {
  const own = (key: KeyPrincipal, id: string) =>
    and(eq(batches.id, id), eq(batches.orgId, key.orgId), eq(batches.projectId, key.projectId));

  async function load(key: KeyPrincipal, id: string): Promise<BatchRow> {
    const [row] = await db.select().from(batches).where(own(key, id));
    if (!row) throw notFound(id);
    return row;
  }

  return {
    async create(key: KeyPrincipal, input: CreateBatchInput) {
      if (!(BATCH_ENDPOINTS as readonly string[]).includes(input.endpoint))
        throw invalid(
          `Invalid endpoint '${input.endpoint}'; supported: ${BATCH_ENDPOINTS.join(', ')}.`,
          'endpoint',
        );
      if (input.completion_window !== '24h')
        throw invalid("Invalid completion_window; the only supported value is '24h'.", 'completion_window');
      const file = await files.get({ orgId: key.orgId, projectId: key.projectId }, input.input_file_id);
      if (file.purpose !== 'batch')
        throw invalid(
          `File ${input.input_file_id} has purpose '${file.purpose}', not 'batch'.`,
          'input_file_id',
        );
      const now = new Date();
      const row = await db.transaction(async (tx) => {
        const [inserted] = await tx
          .insert(batches)
          .values({
            id: newBatchId(),
            orgId: key.orgId,
            projectId: key.projectId,
            keyId: key.keyId,
            principal: key,
            endpoint: input.endpoint as BatchEndpoint,
            inputFileId: input.input_file_id,
            completionWindow: '24h',
            status: 'validating',
            metadata: input.metadata ?? null,
            outputExpiresAfterS: input.output_expires_after?.seconds ?? null,
            createdAt: now,
            expiresAt: new Date(now.getTime() + windowS * 1000),
          })
          .returning();
        await enqueueStep(tx, inserted!, 'start');
        return inserted!;
      });
      return toBatchDto(row);
    },

    async get(key: KeyPrincipal, id: string) {
      return toBatchDto(await load(key, id));
    },

    async list(key: KeyPrincipal, after: string | undefined, limit: number) {
      const where = [eq(batches.orgId, key.orgId), eq(batches.projectId, key.projectId)];
      if (after) where.push(lt(batches.id, after));
      const rows = await db
        .select()
        .from(batches)
        .where(and(...where))
        .orderBy(desc(batches.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit).map(toBatchDto);
      return {
        object: 'list' as const,
        data: page,
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
        has_more: rows.length > limit,
      };
    },

    /** validating or in_progress → cancelling; lines in flight end, then cancelled. */
    async cancel(key: KeyPrincipal, id: string) {
      const [row] = await db
        .update(batches)
        .set({ status: 'cancelling', cancellingAt: new Date(), endStatus: 'cancelled' })
        .where(and(own(key, id), inArray(batches.status, ['validating', 'in_progress'])))
        .returning();
      if (row) {
        await enqueueStep(db, row, 'cancel');
        await stoppedHolding(row.id);
        return toBatchDto(row);
      }
      const current = await load(key, id);
      if (current.status === 'cancelling' || current.status === 'cancelled') return toBatchDto(current);
      throw new AppError('conflict', `Cannot cancel a batch with status '${current.status}'.`, undefined, {
        param: 'batch_id',
      });
    },
  };
}

export type BatchService = ReturnType<typeof createBatchService>;
