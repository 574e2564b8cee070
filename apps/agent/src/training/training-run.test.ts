import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ArtifactQuery, desiredRun, type TrainingTransport } from '@maas/contracts/agent';
import { describe, expect, it } from 'vitest';
import { TrainingRun } from './training-run.ts';

/**
 * A run's uploads with a stand-in trainer (a node script that writes what the LoRA trainer writes
 * and prints its lines): a checkpoint or adapter upload the server fails is tried again, and a
 * checkpoint that never gets there is reported to the job rather than lost in the agent's log.
 */
const dir = mkdtempSync(join(tmpdir(), 'maas-training-run-'));
const base = join(dir, 'base.gguf');
writeFileSync(base, 'GGUF');
const script = join(dir, 'fake-trainer.mjs');
writeFileSync(
  script,
  `import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const out = process.argv[process.argv.indexOf('--out') + 1];
mkdirSync(join(out, 'checkpoints'), { recursive: true });
console.log('{"type": "start", "total_steps": 2}');
writeFileSync(join(out, 'checkpoints', 'step-2.pt'), 'state');
console.log('{"type": "checkpoint", "step": 2, "path": "checkpoints/step-2.pt", "train_loss": 1.5}');
writeFileSync(join(out, 'adapter.gguf'), 'GGUF');
console.log('{"type": "done", "adapter": "adapter.gguf", "trained_tokens": 10, "steps": 2}');
`,
);

function runWith(transport: TrainingTransport, id: string) {
  const spec = desiredRun.parse({
    id,
    attempt: 1,
    method: 'supervised',
    base_source: base,
    seed: 1,
    hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate: 0.01, lora_rank: 4, lora_alpha: 8 },
  });
  const preset = { name: 'fake', python: process.execPath, script, threads: 1, stepDelayMs: 0 };
  return new TrainingRun(spec, {
    dir: join(dir, id),
    preset,
    transport,
    onChange: () => {},
    uploadPauseMs: 10,
  });
}

async function finished(run: TrainingRun): Promise<void> {
  for (let i = 0; i < 500 && ['starting', 'running'].includes(run.state); i++)
    await new Promise((r) => setTimeout(r, 20));
}

function transportFailing(times: (a: ArtifactQuery) => number) {
  const calls: ArtifactQuery[] = [];
  const transport: TrainingTransport = {
    poll: async () => ({ runs: [] }),
    data: async () => ({ train: '{"messages":[]}\n', validation: null }),
    async upload(_runId, a) {
      calls.push(a);
      if (calls.filter((c) => c.kind === a.kind).length <= times(a)) throw new Error('503 busy');
    },
  };
  return { calls, transport };
}

describe('a training run’s uploads', () => {
  it('tries a failed checkpoint and adapter upload again, and succeeds', async () => {
    const { calls, transport } = transportFailing(() => 2);
    const run = runWith(transport, 'ftjob-retry');
    await run.start();
    await finished(run);
    expect(run.state, run.reason ?? '').toBe('succeeded');
    expect(calls.map((c) => c.kind)).toEqual([
      'checkpoint',
      'checkpoint',
      'checkpoint',
      'adapter',
      'adapter',
      'adapter',
    ]);
    expect(run.report().lines.some((l) => l.includes('checkpoint_upload_failed'))).toBe(false);
  });

  it('reports a checkpoint the server never took as a line of the run, and still finishes', async () => {
    const { calls, transport } = transportFailing((a) => (a.kind === 'checkpoint' ? 99 : 0));
    const run = runWith(transport, 'ftjob-lost');
    await run.start();
    await finished(run);
    expect(run.state).toBe('succeeded');
    expect(calls.filter((c) => c.kind === 'checkpoint')).toHaveLength(3);
    const failed = run
      .report()
      .lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((m) => m.type === 'checkpoint_upload_failed');
    expect(failed).toEqual({ type: 'checkpoint_upload_failed', step: 2, error: '503 busy' });
  });

  it('sends its lines again until the server took a report', async () => {
    const { transport } = transportFailing(() => 0);
    const run = runWith(transport, 'ftjob-resend');
    await run.start();
    await finished(run);
    const first = run.report();
    expect(first.lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual([
      'start',
      'checkpoint',
      'done',
    ]);
    // the poll carrying `first` failed: the next one carries the same lines
    expect(run.report().lines).toEqual(first.lines);
    run.delivered(first);
    expect(run.report().lines).toEqual([]);
  });

  it('fails the run when the adapter cannot be uploaded, saying why', async () => {
    const { transport } = transportFailing((a) => (a.kind === 'adapter' ? 99 : 0));
    const run = runWith(transport, 'ftjob-noadapter');
    await run.start();
    await finished(run);
    expect(run.state).toBe('failed');
    expect(run.reason).toBe('the adapter could not be uploaded to the server: 503 busy');
  });
});
