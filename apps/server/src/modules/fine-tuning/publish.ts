import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { fineTunedName } from './dto.ts';
import { failJob, succeedJob } from './finish-job.ts';
import { addEvent } from './job-log.ts';
import { type FineTuningJobRow, fineTuningJobs } from './schema.ts';
import type { AdapterServing } from './serve-adapter.ts';
import { type FineTuningFiles, readText } from './service.ts';
import { splitDataset } from './validate-dataset.ts';

type Message = { role: string; content: unknown };

export interface PublishDeps {
  db: Db;
  files: FineTuningFiles;
  serving: AdapterServing;
  /** one chat completion as `key`, through the gateway's own path (admission, routing, usage) */
  chat: (key: KeyPrincipal, body: Record<string, unknown>) => Promise<{ status: number; body: unknown }>;
  /** the key as it is now (null once revoked) */
  currentKey: (keyId: string) => KeyPrincipal | null;
  priceNanosPerToken: number;
  log: Logger;
  /** how long serving and the check may keep failing before the job fails */
  deadlineMs: number;
}

/** The held-out prompt: the first validation example without its answer (the last training one without a split). */
export async function heldOutPrompt(
  files: FineTuningFiles,
  job: FineTuningJobRow,
): Promise<{ messages: Message[]; expected: string | null; heldOut: boolean }> {
  const scope = { orgId: job.orgId, projectId: job.projectId };
  const train = await readText((await files.open(scope, job.trainingFile)).body);
  const validation = job.validationFile
    ? await readText((await files.open(scope, job.validationFile)).body)
    : splitDataset(train).validation;
  const rows = (validation ?? train).split('\n').filter((l) => l.trim());
  const row = JSON.parse(validation ? rows[0]! : rows.at(-1)!) as {
    messages?: Message[];
    input?: { messages?: Message[] };
    preferred_output?: Message[];
  };
  const all = row.messages ?? row.input?.messages ?? [];
  let end = all.length;
  while (end > 0 && all[end - 1]!.role === 'assistant') end--;
  const answer = row.messages ? all[end] : row.preferred_output?.[0];
  return {
    messages: all.slice(0, end),
    expected: typeof answer?.content === 'string' ? answer.content : null,
    heldOut: Boolean(validation),
  };
}

/**
 * The last step of a run, after the trainer: the adapter (from the file store) is loaded on the
 * base model's deployment and the fine-tuned model answers a held-out prompt through /v1, as the
 * job's key, before the job is `succeeded`. Serving errors are retried until the deadline (a base
 * replica may be starting); a wrong answer is not: the check's outcome is an event either way.
 */
export async function publish(deps: PublishDeps, job: FineTuningJobRow, signal: AbortSignal): Promise<void> {
  const { db, log } = deps;
  const name = fineTunedName(job);
  const started = Date.now();
  const deadline = Date.now() + deps.deadlineMs;
  let lastError = '';
  while (!signal.aborted && Date.now() < deadline) {
    const [row] = await db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, job.id));
    if (!row || row.status !== 'running') return;
    const key = row.keyId ? deps.currentKey(row.keyId) : null;
    if (!key) {
      await failJob(
        db,
        row,
        'parity_check_failed',
        'Parity check failed: the API key that created the job was revoked',
      );
      return;
    }
    try {
      const served = await deps.serving.ensureServed({ ...row, fineTunedModel: name });
      await addEvent(
        db,
        row.id,
        `Adapter loaded on ${served.replicas} replica(s) of ${row.model} (unmerged LoRA, selected by model name)`,
        { data: served, dedupeKey: `served:${row.attempt}` },
      );
      const prompt = await heldOutPrompt(deps.files, row);
      const t0 = performance.now();
      const res = await deps.chat(key, {
        model: name,
        messages: prompt.messages,
        max_tokens: 32,
        temperature: 0,
      });
      const ms = Math.round(performance.now() - t0);
      const body = res.body as {
        choices?: { message?: { content?: unknown } }[];
        error?: { message?: string };
      };
      const answer = body.choices?.[0]?.message?.content;
      if (res.status >= 500 || res.status === 404 || res.status === 429) {
        lastError = `${res.status} ${body.error?.message ?? ''}`.trim();
      } else {
        const data = {
          prompt: prompt.messages,
          held_out: prompt.heldOut,
          expected: prompt.expected,
          answer: typeof answer === 'string' ? answer : null,
          status: res.status,
          latency_ms: ms,
        };
        if (res.status === 200 && typeof answer === 'string' && answer.trim()) {
          await addEvent(
            db,
            row.id,
            `Parity check passed: ${name} answered the ${prompt.heldOut ? 'held-out' : 'last training'} prompt through /v1 in ${ms} ms`,
            { data, dedupeKey: 'parity' },
          );
          await db.transaction(async (tx) => {
            const [fresh] = await tx
              .select()
              .from(fineTuningJobs)
              .where(eq(fineTuningJobs.id, row.id))
              .for('update');
            if (fresh) await succeedJob(tx, fresh, deps.priceNanosPerToken);
          });
          log.info({ job: row.id, ms }, 'fine-tuned model published');
          return;
        }
        const why =
          res.status === 200
            ? 'the answer was empty'
            : `/v1 answered ${res.status}: ${body.error?.message ?? ''}`;
        await deps.serving.withdraw(row).catch(() => {});
        await failJob(db, row, 'parity_check_failed', `Parity check failed: ${name} ${why}`, data);
        return;
      }
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(1_000, undefined, { signal }).catch(() => {});
  }
  if (signal.aborted) return;
  const [row] = await db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, job.id));
  if (!row || row.status !== 'running') return;
  const waited = Math.round((Date.now() - started) / 1000);
  await deps.serving.withdraw(row).catch(() => {});
  await failJob(
    db,
    row,
    'parity_check_failed',
    `Parity check failed: the adapter could not be served on ${row.model} and answer through /v1 within ${waited} s (${lastError})`,
  );
}
