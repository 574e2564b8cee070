import { and, eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { costNanos } from '../metering/index.ts';
import type { BatchRow } from './dto.ts';
import type { BatchFiles } from './files-port.ts';
import { batches, batchLines } from './schema.ts';
import { type BatchEndpoint, type LineError, validateInput } from './validate-input.ts';

const DEFAULT_MAX_TOKENS = 4096;

/**
 * validating → in_progress (lines stored) or failed (OpenAI's line errors). Starts over from the
 * file when a replica died half way. Before the batch runs, its estimated demand (prompt tokens
 * plus max_tokens of every line, and their cost) must fit the key's, project's and org's token
 * quotas and budgets: admitted once and released (each line then reserves and settles its own
 * share through the gateway path). True when the batch failed.
 */
export async function validateBatch(
  db: Db,
  files: BatchFiles,
  gw: GatewayContext,
  batch: BatchRow,
  heartbeat: () => Promise<void>,
  started: (tx: DbOrTx, batch: BatchRow, total: number) => Promise<void>,
): Promise<boolean> {
  const scope = { orgId: batch.orgId, projectId: batch.projectId };
  await db.delete(batchLines).where(eq(batchLines.batchId, batch.id));
  let demand = { tokens: 0, prompt: 0, completion: 0 };
  let errors: LineError[];
  let total = 0;
  let model: string | null = null;
  try {
    const { body } = await files.open(scope, batch.inputFileId);
    const result = await validateInput(body, batch.endpoint as BatchEndpoint, async (lines) => {
      await db
        .insert(batchLines)
        .values(lines.map((l) => ({ batchId: batch.id, line: l.line, customId: l.customId, body: l.body })));
      for (const l of lines) {
        const prompt = Math.ceil(
          JSON.stringify(l.body.messages ?? l.body.prompt ?? l.body.input ?? '').length / 4,
        );
        const completion = batch.endpoint === '/v1/embeddings' ? 0 : maxTokens(l.body);
        demand = {
          tokens: demand.tokens + prompt + completion,
          prompt: demand.prompt + prompt,
          completion: demand.completion + completion,
        };
      }
      await heartbeat();
    });
    ({ errors, total, model } = result);
  } catch (err) {
    errors = [
      {
        code: 'invalid_file',
        message: `The input file could not be read: ${(err as Error).message}`,
        param: 'input_file_id',
        line: null,
      },
    ];
  }
  if (errors.length === 0 && model) {
    const refusal = await checkBudget(gw, batch.principal as KeyPrincipal, model, demand);
    if (refusal) errors = [{ code: 'insufficient_quota', message: refusal, param: null, line: null }];
  }
  const now = new Date();
  if (errors.length > 0) {
    await db.delete(batchLines).where(eq(batchLines.batchId, batch.id));
    await db
      .update(batches)
      .set({ status: 'failed', errors, failedAt: now, total: 0 })
      .where(and(eq(batches.id, batch.id), eq(batches.status, 'validating')));
    return true;
  }
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(batches)
      .set({ status: 'in_progress', inProgressAt: now, total, model })
      .where(and(eq(batches.id, batch.id), eq(batches.status, 'validating')))
      .returning();
    if (row) await started(tx, row, total);
  });
  return false;
}

function maxTokens(body: Record<string, unknown>): number {
  for (const k of ['max_completion_tokens', 'max_tokens'])
    if (typeof body[k] === 'number' && (body[k] as number) > 0) return body[k] as number;
  return DEFAULT_MAX_TOKENS;
}

/** The estimate against the key's limits: admitted and released at once. A refusal's message, or null. */
async function checkBudget(
  gw: GatewayContext,
  key: KeyPrincipal,
  modelName: string,
  demand: { tokens: number; prompt: number; completion: number },
): Promise<string | null> {
  const subject = { orgId: key.orgId, projectId: key.projectId, keyId: key.keyId, model: modelName };
  // a whole-batch check: token quotas and budgets only (rate windows are for the lines themselves)
  const policies = gw.limits
    .resolvePolicies(subject)
    .filter((p) => p.tokenQuota !== null || p.budget !== null)
    .map((p) => ({ ...p, rpm: null, rpd: null, tpm: null, tpd: null, maxConcurrent: null }));
  if (policies.length === 0) return null;
  const model = gw.models.lookup(key.orgId, modelName);
  const price = model ? gw.prices.priceAt(model.id, null, new Date()) : null;
  const cost = price
    ? costNanos(price, {
        promptTokens: demand.prompt,
        completionTokens: demand.completion,
        cachedTokens: 0,
        reasoningTokens: 0,
      }) / 1e9
    : undefined;
  const result = await gw.limits.engine.admit(subject, { tokens: demand.tokens, cost }, policies);
  if (!result.ok) return result.message;
  gw.limits.releaseRequest(result.reservation);
  return null;
}
