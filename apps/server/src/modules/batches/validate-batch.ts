import { and, eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { GatewayContext } from '../gateway/index.ts';
import { batchCostNanos, costNanos } from '../metering/index.ts';
import type { BatchRow } from './dto.ts';
import type { BatchFiles } from './files-port.ts';
import { batches, batchLines } from './schema.ts';
import { type BatchEndpoint, type LineError, validateInput } from './validate-input.ts';

const DEFAULT_MAX_TOKENS = 4096;

/**
 * validating → in_progress (lines stored) or failed (OpenAI's line errors). Starts over from the
 * file when a replica died half way. Before the batch runs, its estimated demand (prompt tokens
 * plus max_tokens of every line, and their cost at the batch price) must fit the key's, project's
 * and org's token quotas and budgets less what other batches hold; the batch then holds it (see
 * batch-holds.ts) and each line reserves and settles its own share through the gateway path,
 * drawing on that hold. True when the batch failed.
 */
export async function validateBatch(
  db: Db,
  files: BatchFiles,
  gw: GatewayContext,
  batch: BatchRow,
  heartbeat: () => Promise<void>,
  started: (tx: DbOrTx, batch: BatchRow, total: number) => Promise<void>,
  /** after the transaction that started the batch committed */
  committed: (batch: BatchRow) => void = () => {},
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
  let estimate: Estimate | null = null;
  if (errors.length === 0 && model) {
    const checked = await checkBudget(gw, batch.principal as KeyPrincipal, model, demand);
    if ('refusal' in checked)
      errors = [{ code: 'insufficient_quota', message: checked.refusal, param: null, line: null }];
    else estimate = checked.estimate;
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
  const row = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(batches)
      .set({
        status: 'in_progress',
        inProgressAt: now,
        total,
        model,
        holdModel: estimate?.model ?? null,
        estimateTokens: estimate?.tokens ?? 0,
        estimateCostMicros: estimate?.costMicros ?? 0,
      })
      .where(and(eq(batches.id, batch.id), eq(batches.status, 'validating')))
      .returning();
    if (row) await started(tx, row, total);
    return row;
  });
  if (row) committed(row);
  return false;
}

function maxTokens(body: Record<string, unknown>): number {
  for (const k of ['max_completion_tokens', 'max_tokens'])
    if (typeof body[k] === 'number' && (body[k] as number) > 0) return body[k] as number;
  return DEFAULT_MAX_TOKENS;
}

/** The batch's whole estimate: what it holds of its key's, project's and org's quotas and budgets. */
export interface Estimate {
  /** the canonical model name (aliases resolved), as limits see it */
  model: string;
  tokens: number;
  /** at the batch price, in millionths of the price currency */
  costMicros: number;
}

/**
 * The estimate against the key's, project's and org's token quotas and budgets, less what other
 * batches hold: the refusal's message, or the estimate the batch will hold while it runs.
 */
async function checkBudget(
  gw: GatewayContext,
  key: KeyPrincipal,
  modelName: string,
  demand: { tokens: number; prompt: number; completion: number },
): Promise<{ refusal: string } | { estimate: Estimate }> {
  const model = gw.models.lookup(key.orgId, modelName);
  const canonical = model?.name ?? modelName;
  const price = model ? gw.prices.priceAt(model.id, null, new Date()) : null;
  const listCost = price
    ? costNanos(price, {
        promptTokens: demand.prompt,
        completionTokens: demand.completion,
        cachedTokens: 0,
        reasoningTokens: 0,
      })
    : 0;
  const costNanosAtBatchPrice = price ? batchCostNanos(price, listCost) : 0;
  const estimate = {
    model: canonical,
    tokens: demand.tokens,
    costMicros: Math.ceil(costNanosAtBatchPrice / 1000),
  };
  const subject = { orgId: key.orgId, projectId: key.projectId, keyId: key.keyId, model: canonical };
  // a whole-batch check: token quotas and budgets only (rate windows are for the lines themselves)
  const policies = gw.limits
    .resolvePolicies(subject)
    .filter((p) => p.tokenQuota !== null || p.budget !== null)
    .map((p) => ({ ...p, rpm: null, rpd: null, tpm: null, tpd: null, maxConcurrent: null }));
  if (policies.length === 0) return { estimate };
  const result = await gw.limits.engine.admit(
    subject,
    { tokens: demand.tokens, cost: costNanosAtBatchPrice / 1e9 },
    policies,
    (p) => gw.limits.holds.heldFor(p, null),
  );
  if (!result.ok) return { refusal: result.message };
  // nothing stays reserved in the counters: the batch row holds it (holds.ts) until lines settle it
  gw.limits.releaseRequest(result.reservation);
  return { estimate };
}
