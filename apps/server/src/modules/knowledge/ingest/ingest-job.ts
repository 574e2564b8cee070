import { and, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../../../db/client.ts';
import { JobAbortedError, type JobContext, PermanentJobError } from '../../jobs/index.ts';
import { newChunkId } from '../ids.ts';
import { currentCaller, type Payer } from '../payer.ts';
import type { KnowledgeDeps } from '../ports.ts';
import { type StageName, type StageState, vectorStoreFiles, vectorStores } from '../schema.ts';
import { chunkDocument, indexedText } from './chunk-document.ts';
import { EmbedError, embedTexts } from './embed.ts';
import { INGEST_QUEUE } from './enqueue.ts';
import { ParseError, parseDocument } from './parse.ts';
import { readAll } from './read-all.ts';
import { cleanText } from './split.ts';

const payload = z.object({
  store_id: z.string(),
  file_id: z.string(),
  generation: z.number().int(),
  key_id: z.string().optional(),
  user_id: z.string().optional(),
});
type Payload = z.infer<typeof payload>;
const payerIn = (p: Payload): Payer | null =>
  p.key_id ? { key_id: p.key_id } : p.user_id ? { user_id: p.user_id } : null;

/** A document that cannot be ingested, for good: `code` is OpenAI's last_error code. */
class IngestFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Ingestion of one document: parse → split → embed → index, each stage recording when it started
 * and finished (and its error). Only the last stage writes chunks: in one transaction it replaces
 * the file's chunks and terms and marks the file completed, so a run repeated after kill -9 leaves
 * exactly one set of chunks. A document that cannot be read fails at once with the reason; errors
 * worth another try (429, 5xx) are retried by the engine and fail the file after its last attempt.
 */
export function registerIngestion(deps: KnowledgeDeps) {
  const { db, log } = deps;
  const key = (p: Payload) =>
    and(
      eq(vectorStoreFiles.storeId, p.store_id),
      eq(vectorStoreFiles.fileId, p.file_id),
      eq(vectorStoreFiles.generation, p.generation),
      eq(vectorStoreFiles.status, 'in_progress'),
    );

  async function stage(p: Payload, name: StageName, state: StageState, tx: DbOrTx = db) {
    await tx
      .update(vectorStoreFiles)
      .set({
        stages: sql`${vectorStoreFiles.stages} || jsonb_build_object(${name}::text, ${JSON.stringify(state)}::jsonb)`,
        updatedAt: new Date(),
      })
      .where(key(p));
  }

  async function fail(p: Payload, code: string, message: string, at?: StageName) {
    const row = await current(p);
    if (at && row)
      await stage(p, at, { ...(row.stages[at] ?? { started_at: null }), finished_at: null, error: message });
    await db
      .update(vectorStoreFiles)
      .set({ status: 'failed', lastError: { code, message: message.slice(0, 2000) }, updatedAt: new Date() })
      .where(key(p));
  }

  async function current(p: Payload) {
    const [row] = await db.select().from(vectorStoreFiles).where(key(p));
    return row;
  }

  async function run(ctx: JobContext) {
    const p = payload.parse(ctx.job.payload);
    const file = await current(p);
    if (!file) return { skipped: 'file no longer waits for this run' };
    const [store] = await db.select().from(vectorStores).where(eq(vectorStores.id, p.store_id));
    if (!store) return { skipped: 'store deleted' };
    const scope = { orgId: file.orgId, projectId: file.projectId };
    const payer = payerIn(p);
    const principal = payer ? await currentCaller(deps, payer, scope) : null;
    if (!principal)
      throw new IngestFailure(
        'server_error',
        payer && 'user_id' in payer
          ? 'The person who added this file no longer may write knowledge bases in this project.'
          : 'The API key this file was added with was revoked or has expired.',
      );
    const t = () => Date.now();
    let at: StageName = 'parse';
    try {
      const parseStart = t();
      await stage(p, 'parse', { started_at: parseStart, finished_at: null, error: null });
      const { body } = await deps.files.open(scope, p.file_id).catch((err: unknown) => {
        if ((err as { status?: number }).status === 404)
          throw new IngestFailure('invalid_file', `File ${p.file_id} no longer exists in /v1/files.`);
        throw err;
      });
      const text = cleanText(await parseDocument(file.filename, await readAll(body, ctx.signal)));
      if (!text) throw new ParseError('invalid_file', 'No text could be extracted from the file.');
      await stage(p, 'parse', { started_at: parseStart, finished_at: t(), error: null, count: text.length });

      at = 'split';
      const splitStart = t();
      const chunks = chunkDocument(text, file.chunking);
      await stage(p, 'split', {
        started_at: splitStart,
        finished_at: t(),
        error: null,
        count: chunks.length,
      });

      at = 'embed';
      const embedStart = t();
      await stage(p, 'embed', { started_at: embedStart, finished_at: null, error: null, count: 0 });
      const vectors = await embedTexts(chunks.map(indexedText), {
        gw: deps.gw,
        key: principal,
        model: store.embeddingModel,
        signal: ctx.signal,
      });
      const dims = vectors[0]?.length ?? 0;
      if (vectors.some((v) => v.length !== dims))
        throw new IngestFailure('server_error', 'The embedding model answered vectors of different lengths.');
      // the store's generation too: a run of an older one (another embedding model) fixes nothing
      const ours = and(eq(vectorStores.id, store.id), eq(vectorStores.generation, p.generation));
      await db
        .update(vectorStores)
        .set({ dimensions: dims })
        .where(and(ours, isNull(vectorStores.dimensions)));
      const [fixed] = await db.select({ d: vectorStores.dimensions }).from(vectorStores).where(ours);
      if (!fixed) return { skipped: 'the store was re-indexed meanwhile' };
      if (fixed.d !== dims)
        throw new IngestFailure(
          'server_error',
          `The embedding model answered ${dims} dimensions; this vector store holds ${fixed.d}-dimensional vectors.`,
        );
      await stage(p, 'embed', {
        started_at: embedStart,
        finished_at: t(),
        error: null,
        count: vectors.length,
      });

      at = 'index';
      const indexStart = t();
      const rows = chunks.map((c, i) => ({
        id: newChunkId(),
        position: i,
        text: c.text,
        tokens: c.tokens,
        headings: c.headings,
        context: c.context,
        embedding: vectors[i]!,
      }));
      const done = await db.transaction(async (tx) => {
        const [still] = await tx
          .select({ f: vectorStoreFiles.fileId })
          .from(vectorStoreFiles)
          .where(key(p))
          .for('update');
        if (!still) return false; // cancelled, removed or re-indexed meanwhile
        ctx.signal.throwIfAborted();
        const old = await deps.vectors.replaceFileChunks(tx, p.store_id, p.file_id, rows);
        if (deps.lexical) {
          if (old.length > 0) await deps.lexical.removeChunkTerms(tx, p.store_id, old);
          await deps.lexical.indexChunkTerms(
            tx,
            p.store_id,
            rows.map((r) => ({ id: r.id, text: indexedText(r) })),
          );
        }
        await stage(
          p,
          'index',
          { started_at: indexStart, finished_at: t(), error: null, count: rows.length },
          tx,
        );
        await tx
          .update(vectorStoreFiles)
          .set({
            status: 'completed',
            lastError: null,
            chunkCount: rows.length,
            usageBytes: rows.reduce((n, r) => n + Buffer.byteLength(r.text) + r.embedding.length * 4, 0),
            updatedAt: new Date(),
          })
          .where(key(p));
        return true;
      });
      return { chunks: rows.length, indexed: done };
    } catch (err) {
      if (err instanceof JobAbortedError || ctx.signal.aborted) throw err;
      if (err instanceof ParseError || err instanceof IngestFailure) {
        await fail(p, err.code, err.message, at);
        throw new PermanentJobError(err.message);
      }
      const last = ctx.job.attempts >= ctx.job.maxAttempts;
      const message = (err as Error).message ?? String(err);
      if ((err instanceof EmbedError && !err.transient) || last) {
        const code = err instanceof EmbedError && err.transient ? 'rate_limit_exceeded' : 'server_error';
        await fail(p, code, message, at);
        throw new PermanentJobError(message);
      }
      // another attempt comes: the stage shows why this one stopped
      const row = await current(p);
      await stage(p, at, {
        ...(row?.stages[at] ?? { started_at: null }),
        finished_at: null,
        error: `${message} (will retry)`,
      });
      log.warn({ err, store_id: p.store_id, file_id: p.file_id, stage: at }, 'ingestion attempt failed');
      throw err;
    }
  }

  if (deps.concurrency > 0)
    deps.jobs.register(
      INGEST_QUEUE,
      {
        concurrency: deps.concurrency,
        perOrgConcurrency: Math.max(1, deps.concurrency),
        pollMs: deps.pollMs ?? 250,
        leaseMs: deps.leaseMs ?? 30_000,
        backoffMs: (n) => Math.min(60_000, 1000 * 2 ** n),
      },
      run,
    );
}
