import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { addEvent, newCheckpointId } from './job-log.ts';
import { type FineTuningJobRow, fineTuningCheckpoints, fineTuningJobs } from './schema.ts';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export interface LinesOutcome {
  trainedTokens: number | null;
  adapter: string | null;
}

/**
 * Turns the trainer's JSON lines into the job's events, checkpoints and progress. Lines are keyed
 * (metrics by step, checkpoints by step), so a report sent twice, or the steps a resumed run
 * repeats, store each once. Other lines (warnings, tracebacks) are not events: the failure reason
 * carries the trainer's last words.
 */
export async function applyTrainerLines(
  tx: DbOrTx,
  job: FineTuningJobRow,
  lines: string[],
): Promise<LinesOutcome> {
  const out: LinesOutcome = { trainedTokens: null, adapter: null };
  let progress = job.progress;
  let lastLoss: number | null = null;
  let trained = job.trainedTokens;
  for (const line of lines) {
    let m: Record<string, unknown>;
    try {
      const parsed = JSON.parse(line) as unknown;
      if (!parsed || typeof parsed !== 'object') continue;
      m = parsed as Record<string, unknown>;
    } catch {
      continue;
    }
    const step = num(m.step);
    switch (m.type) {
      case 'info':
        await addEvent(
          tx,
          job.id,
          `Trainer started (torch ${String(m.torch).slice(0, 40)}); chat template sha256 ${String(m.chat_template_sha256).slice(0, 64)}`,
          {
            data: { chat_template_sha256: String(m.chat_template_sha256).slice(0, 64) },
            dedupeKey: `info:${job.attempt}`,
          },
        );
        break;
      case 'resumed':
        if (step !== null)
          await addEvent(tx, job.id, `Resumed from the checkpoint at step ${step}`, {
            dedupeKey: `resumed:${job.attempt}`,
          });
        break;
      case 'metrics': {
        if (step === null) break;
        const total = num(m.total_steps) ?? step;
        const data = {
          step,
          total_steps: total,
          train_loss: num(m.train_loss),
          learning_rate: num(m.lr),
          tokens_per_second: num(m.tokens_per_s),
          trained_tokens: num(m.trained_tokens),
        };
        lastLoss = data.train_loss;
        if (data.trained_tokens !== null) trained = data.trained_tokens;
        await addEvent(tx, job.id, `Step ${step}/${total}: training loss=${data.train_loss?.toFixed(4)}`, {
          type: 'metrics',
          data,
          dedupeKey: `metrics:${step}`,
        });
        if (!progress || step >= progress.step) progress = { step, total_steps: total };
        break;
      }
      case 'validation':
        if (step === null) break;
        await addEvent(tx, job.id, `Step ${step}: validation loss=${num(m.valid_loss)?.toFixed(4)}`, {
          type: 'metrics',
          data: { step, valid_loss: num(m.valid_loss) },
          dedupeKey: `valid:${step}`,
        });
        break;
      case 'checkpoint':
        if (step === null) break;
        await tx
          .insert(fineTuningCheckpoints)
          .values({
            id: newCheckpointId(),
            jobId: job.id,
            step,
            metrics: { step, train_loss: num(m.train_loss) ?? lastLoss ?? 0 },
          })
          // the node's upload of the file may have made the row first
          .onConflictDoUpdate({
            target: [fineTuningCheckpoints.jobId, fineTuningCheckpoints.step],
            set: { metrics: { step, train_loss: num(m.train_loss) ?? lastLoss ?? 0 } },
          });
        await addEvent(tx, job.id, `Checkpoint created at step ${step}`, { dedupeKey: `ckpt:${step}` });
        break;
      case 'checkpoint_upload_failed':
        // written by the agent, not the trainer: the checkpoint stayed on the node
        if (step === null) break;
        await addEvent(
          tx,
          job.id,
          `Checkpoint at step ${step} could not be stored on the server; it stays on the node: ${String(m.error).slice(0, 500)}`,
          { level: 'warn', dedupeKey: `ckpt-upload:${job.attempt}:${step}` },
        );
        break;
      case 'done':
        out.trainedTokens = num(m.trained_tokens);
        out.adapter = typeof m.adapter === 'string' ? m.adapter.slice(0, 200) : null;
        break;
    }
  }
  if (progress !== job.progress || trained !== job.trainedTokens)
    await tx
      .update(fineTuningJobs)
      .set({ progress, trainedTokens: trained })
      .where(eq(fineTuningJobs.id, job.id));
  out.trainedTokens ??= trained;
  return out;
}
