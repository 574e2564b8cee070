import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
import { eq } from 'drizzle-orm';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../src/modules/metering/schema.ts';
import { createKey, openai, until } from './support/gateway-setup.ts';

/**
 * Fine-tuning end to end: the stock SDK's fineTuning.jobs against a real server whose in-process
 * node runs the repository's LoRA trainer (Debian's python3-torch) on the testkit's tiny llama.
 */
const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 });
const hasTorch = torch.status === 0;
if (!hasTorch)
  console.warn(
    'fine-tuning e2e skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch)',
  );

process.env.MAAS_LOCAL_AGENT = 'true';
process.env.MAAS_LOCAL_AGENT_PORTS = '32520-32529';
process.env.MAAS_HEARTBEAT_MS = '300';
// each step waits a little, so a test can pause or cancel a run in flight
process.env.MAAS_TRAINER_STEP_DELAY_MS = '250';

const dir = mkdtempSync(join(tmpdir(), 'maas-ft-'));
const model = writeTinyLlama(join(dir, 'tiny.gguf'), { seed: 7 });
let ts: TestServer;
let client: OpenAI;

const chatRow = (i: number) =>
  JSON.stringify({
    messages: [
      { role: 'system', content: 'You are maas.' },
      { role: 'user', content: `say hello ${i}` },
      { role: 'assistant', content: 'hello world, the model is fast' },
    ],
  });
const jsonl = (rows: string[]) => `${rows.join('\n')}\n`;
/** maas's addition to OpenAI's checkpoint object: its file in the file store */
const maasOf = (c: unknown) => (c as { maas: { file_id: string | null; download_path: string | null } }).maas;
/** the first run's job and files, for the hostile tenant */
const firstRun = { job: '', adapter: '', checkpoint: '' };
let coldJob = '';

async function upload(c: OpenAI, text: string, name = 'train.jsonl') {
  return c.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'fine-tune' });
}

async function finished(id: string, timeoutMs = 300_000) {
  return until(
    async () => {
      const job = await client.fineTuning.jobs.retrieve(id);
      return ['succeeded', 'failed', 'cancelled'].includes(job.status) ? job : null;
    },
    timeoutMs,
    `job ${id} finished`,
  );
}

async function events(id: string) {
  const out = [];
  for await (const e of client.fineTuning.jobs.listEvents(id, { limit: 100 })) out.push(e);
  return out.reverse();
}

beforeAll(async () => {
  if (!hasTorch) return;
  // a base deployment with no running replica fails the parity check this soon
  ts = await startTestServer({ MAAS_FT_PUBLISH_DEADLINE_MS: '20000' });
  const dep = await ts.admin.post('/api/v1/deployments', {
    model: 'tiny',
    runtime: 'llama-cpp',
    source: model,
    replicas: 1,
  });
  if (dep.status !== 201) throw new Error(`deployment: ${dep.status} ${JSON.stringify(dep.body)}`);
  client = openai(ts, await createKey(ts), { timeout: 60_000 });
}, 120_000);
afterAll(async () => {
  await ts?.close();
});

describe.skipIf(!hasTorch)('fine-tuning on the local node', { timeout: 400_000 }, () => {
  let trainingFile: string;

  it('trains a LoRA: the loss falls, checkpoints, metrics events, trained tokens metered', async () => {
    trainingFile = (await upload(client, jsonl(Array.from({ length: 20 }, (_, i) => chatRow(i))))).id;
    const baseBefore = (
      await until(
        () =>
          client.chat.completions
            .create({
              model: 'tiny',
              messages: [
                { role: 'system', content: 'You are maas.' },
                { role: 'user', content: 'say hello 31' },
              ],
              max_tokens: 16,
              temperature: 0,
            })
            .catch(() => null),
        120_000,
        'the base model answers',
      )
    ).choices[0]!.message.content;
    const started = Date.now();
    const job = await client.fineTuning.jobs.create({
      model: 'tiny',
      training_file: trainingFile,
      suffix: 'demo',
      seed: 1, // the same run every time (unset, a job draws its seed, as OpenAI's do)
      hyperparameters: { n_epochs: 8, batch_size: 4, learning_rate_multiplier: 2 },
    });
    expect(job).toMatchObject({
      object: 'fine_tuning.job',
      status: 'queued',
      model: 'tiny',
      training_file: trainingFile,
    });
    expect(job.hyperparameters).toMatchObject({ n_epochs: 8, batch_size: 4, learning_rate_multiplier: 2 });
    const done = await finished(job.id);
    const wallS = (Date.now() - started) / 1000;
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.fine_tuned_model).toBe(
      `ft:tiny:${done.organization_id}:demo:${job.id.replace('ftjob-', '')}`,
    );
    expect(done.trained_tokens).toBeGreaterThan(0);

    const all = await events(job.id);
    const metrics = all.filter(
      (e) => e.type === 'metrics' && (e.data as { train_loss?: number }).train_loss != null,
    );
    const losses = metrics.map((e) => (e.data as { train_loss: number }).train_loss);
    // 18 examples after the held-out split: 5 steps an epoch, 8 epochs
    expect(metrics.length).toBe(40);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.2);
    expect(metrics[0]!.data).toMatchObject({ step: 1, total_steps: 40 });
    expect((metrics[0]!.data as { tokens_per_second: number }).tokens_per_second).toBeGreaterThan(0);
    expect(all.some((e) => e.message.startsWith('Step 40: validation loss='))).toBe(true);
    expect(all.some((e) => e.message === 'The job has successfully completed')).toBe(true);
    console.log(
      `fine-tuning run: ${metrics.length} steps, train loss ${losses[0]} → ${losses.at(-1)}, ${wallS.toFixed(1)} s wall`,
    );

    const ckpts = await client.fineTuning.jobs.checkpoints.list(job.id);
    expect(ckpts.data.map((c) => c.step_number)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * (i + 1)));
    expect(ckpts.data[0]!.fine_tuned_model_checkpoint).toBe(`${done.fine_tuned_model}:ckpt-step-2`);

    // the parity check ran through /v1 before `succeeded`: its result is an event
    const parity = all.find((e) => e.message.startsWith('Parity check passed'));
    expect(parity, all.map((e) => e.message).join('\n')).toBeDefined();
    expect((parity!.data as { held_out: boolean; answer: string }).held_out).toBe(true);
    expect((parity!.data as { answer: string }).answer).toMatch(/^hello world/);
    const order = all.map((e) => e.message);
    expect(order.findIndex((m) => m.startsWith('Parity check passed'))).toBeLessThan(
      order.indexOf('The job has successfully completed'),
    );

    // the checkpoints and the adapter are files of the project, downloadable by its keys
    expect(maasOf(ckpts.data[0]!).file_id).toMatch(/^file-/);
    expect(
      ckpts.data.every((c) => maasOf(c).download_path === `/v1/files/${maasOf(c).file_id}/content`),
    ).toBe(true);
    const ckptBytes = Buffer.from(
      await (await client.files.content(maasOf(ckpts.data.at(-1)!).file_id!)).arrayBuffer(),
    );
    expect(ckptBytes.length).toBeGreaterThan(1000);
    expect(done.result_files).toHaveLength(1);
    const adapterFile = await client.files.retrieve(done.result_files[0]!);
    expect(adapterFile.purpose).toBe('fine-tune-results');
    const adapterBytes = Buffer.from(await (await client.files.content(adapterFile.id)).arrayBuffer());
    expect(adapterBytes.subarray(0, 4).toString('latin1')).toBe('GGUF');
    Object.assign(firstRun, {
      job: job.id,
      adapter: adapterFile.id,
      checkpoint: maasOf(ckpts.data[0]!).file_id,
    });

    // the adapter answers through /v1, served unmerged on the BASE deployment's replica, greedy
    const ask = { role: 'user' as const, content: 'say hello 31' };
    const reply = await until(
      () =>
        client.chat.completions
          .create({
            model: done.fine_tuned_model!,
            messages: [{ role: 'system', content: 'You are maas.' }, ask],
            max_tokens: 16,
            temperature: 0,
          })
          .catch(() => null),
      120_000,
      'the fine-tuned model answers',
    );
    console.log(`fine-tuned model answers: ${JSON.stringify(reply.choices[0]!.message.content)}`);
    expect(reply.choices[0]!.message.content).toMatch(/^hello world/);
    const deps = (await ts.admin.get('/api/v1/deployments')).body.data as { name: string }[];
    expect(deps.map((d) => d.name)).toEqual(['tiny']);
    // the base model on the same replica is unaffected by the adapter
    const baseReply = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'system', content: 'You are maas.' }, ask],
      max_tokens: 16,
      temperature: 0,
    });
    console.log(`base model answers: ${JSON.stringify(baseReply.choices[0]!.message.content)}`);
    expect(baseReply.choices[0]!.message.content).not.toMatch(/^hello world/);
    expect(baseReply.choices[0]!.message.content).toBe(baseBefore);

    const listed = await client.fineTuning.jobs.list({ limit: 10 });
    expect(listed.data.map((j) => j.id)).toContain(job.id);

    const db = ts.server.services.database.db;
    const [usage] = await db.select().from(usageEvents).where(eq(usageEvents.requestId, job.id));
    expect(usage).toMatchObject({ endpoint: '/v1/fine_tuning/jobs', promptTokens: done.trained_tokens });
    expect(usage!.costNanos).toBe(done.trained_tokens! * 3000);
  });

  it('pauses a running job and resumes it from its last checkpoint', async () => {
    const job = await client.fineTuning.jobs.create({
      model: 'tiny',
      training_file: trainingFile,
      hyperparameters: { n_epochs: 3, batch_size: 4 },
    });
    await until(
      async () => (await events(job.id)).some((e) => e.message.startsWith('Checkpoint created at step 2')),
      90_000,
      'first checkpoint',
    );
    const paused = await client.fineTuning.jobs.pause(job.id);
    expect(paused.status).toBe('paused');
    const resumed = await client.fineTuning.jobs.resume(job.id);
    expect(resumed.status).toBe('queued');
    const done = await finished(job.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const all = await events(job.id);
    expect(all.some((e) => /^Resumed from the checkpoint at step \d+$/.test(e.message))).toBe(true);
    const steps = all.filter(
      (e) => e.type === 'metrics' && (e.data as { train_loss?: number }).train_loss != null,
    );
    expect(new Set(steps.map((e) => (e.data as { step: number }).step)).size).toBe(15);
  });

  it('cancels a running job: the trainer stops', async () => {
    const job = await client.fineTuning.jobs.create({
      model: 'tiny',
      training_file: trainingFile,
      hyperparameters: { n_epochs: 10, batch_size: 2 },
    });
    await until(async () => (await events(job.id)).some((e) => e.type === 'metrics'), 90_000, 'first step');
    const cancelled = await client.fineTuning.jobs.cancel(job.id);
    expect(cancelled.status).toBe('cancelled');
    const count = (await events(job.id)).length;
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await events(job.id)).length).toBe(count);
    expect((await client.fineTuning.jobs.retrieve(job.id)).status).toBe('cancelled');
    await expect(client.fineTuning.jobs.cancel(job.id)).rejects.toMatchObject({ status: 400 });
  });

  it('fails the job with a clear error when the adapter cannot answer through /v1', async () => {
    const cold = await ts.admin.post('/api/v1/deployments', {
      model: 'tiny-cold',
      runtime: 'llama-cpp',
      source: model,
      replicas: 0,
    });
    expect(cold.status).toBe(201);
    const job = await client.fineTuning.jobs.create({
      model: 'tiny-cold',
      training_file: trainingFile,
      hyperparameters: { n_epochs: 1, batch_size: 8 },
    });
    const done = await finished(job.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'parity_check_failed' });
    expect(done.error!.message).toContain("the base deployment 'tiny-cold' has no running replica");
    expect(done.fine_tuned_model).toBeNull();
    const all = await events(job.id);
    expect(all.some((e) => e.message.startsWith('Training finished; serving the adapter on tiny-cold'))).toBe(
      true,
    );
    expect(all.some((e) => e.level === 'error' && e.message.startsWith('Parity check failed:'))).toBe(true);
    // the adapter was still uploaded (a later deploy can use it), and nothing serves it
    expect(done.result_files).toHaveLength(1);
    const ftName = `ft:tiny-cold:${done.organization_id}::${job.id.replace('ftjob-', '')}`;
    await expect(
      client.chat.completions.create({ model: ftName, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 404 });
    coldJob = job.id;

    // "deploy" once the base runs a replica: the check runs again and the job succeeds
    await ts.admin.patch(`/api/v1/deployments/${cold.body.id}`, { replicas: 1 });
    const deployed = await client.post(`/fine_tuning/jobs/${job.id}/deploy`, {});
    expect(deployed).toMatchObject({ object: 'fine_tuning.job.deployment', base: 'tiny-cold' });
    const again = await finished(job.id, 180_000);
    expect(again.status, JSON.stringify(again.error)).toBe('succeeded');
    expect(again.fine_tuned_model).toBe(ftName);
    expect(again.error).toBeNull();
    const log = (await events(job.id)).map((e) => e.message);
    expect(log.filter((m) => m.startsWith('Parity check failed'))).toHaveLength(1);
    expect(log.some((m) => m.startsWith('Parity check passed'))).toBe(true);
    const reply = await client.chat.completions.create({
      model: ftName,
      messages: [{ role: 'user', content: 'say hello 3' }],
      max_tokens: 8,
      temperature: 0,
    });
    expect(reply.choices[0]!.message.content).toBeTruthy();
    // deploying a succeeded job loads nothing new: the replica has the adapter
    const redeploy = await client.post(`/fine_tuning/jobs/${job.id}/deploy`, {});
    expect(redeploy).toMatchObject({ replicas: 1, loaded: 0, model: ftName });
  });

  it('estimates a job without creating it', async () => {
    const before = (await client.fineTuning.jobs.list({ limit: 100 })).data.length;
    const est = (await client.post('/fine_tuning/estimate', {
      body: { model: 'tiny', training_file: trainingFile, hyperparameters: { n_epochs: 2, batch_size: 6 } },
    })) as Record<string, unknown>;
    expect(est).toMatchObject({
      object: 'fine_tuning.estimate',
      method: 'supervised',
      training_examples: 20,
      steps: 8,
      hyperparameters: { n_epochs: 2, batch_size: 6 },
    });
    expect(est.trained_tokens).toBe((est.training_tokens as number) * 2);
    expect((est.cost as { nanos: number }).nanos).toBe((est.trained_tokens as number) * 3000);
    expect((await client.fineTuning.jobs.list({ limit: 100 })).data.length).toBe(before);
    await expect(
      client.post('/fine_tuning/estimate', { body: { model: 'tiny', training_file: 'file-nope' } }),
    ).rejects.toMatchObject({ status: 400, param: 'training_file' });
    await expect(
      client.post('/fine_tuning/estimate', {
        body: { model: 'tiny', training_file: trainingFile, extra: 1 },
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('refuses invalid datasets with the lines at fault', async () => {
    const bad = await upload(
      client,
      jsonl([
        chatRow(1),
        '{not json',
        JSON.stringify({ messages: [{ role: 'user', content: 'no answer' }] }),
        JSON.stringify({ messages: [{ role: 'wizard', content: 'x' }] }),
      ]),
    );
    const err = await client.fineTuning.jobs
      .create({ model: 'tiny', training_file: bad.id })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.param).toBe('training_file');
    expect(e.message).toContain('line 2: not valid JSON');
    expect(e.message).toContain('line 3: messages: an example needs at least one assistant message');
    expect(e.message).toContain('line 4: messages.0.role');

    const dpo = await upload(client, jsonl([chatRow(1)]));
    const dpoErr = await client.fineTuning.jobs
      .create({ model: 'tiny', training_file: dpo.id, method: { type: 'dpo' } })
      .catch((x: unknown) => x);
    expect(dpoErr).toMatchObject({ status: 400, param: 'training_file' });

    const batchFile = await client.files.create({
      file: await toFile(Buffer.from(chatRow(1)), 'b.jsonl'),
      purpose: 'batch',
    });
    await expect(
      client.fineTuning.jobs.create({ model: 'tiny', training_file: batchFile.id }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'training_file',
    });
  });

  it('refuses out-of-range hyperparameters and unknown models', async () => {
    for (const hyperparameters of [{ n_epochs: 1000 }, { batch_size: 0 }, { learning_rate_multiplier: -1 }]) {
      await expect(
        client.fineTuning.jobs.create({ model: 'tiny', training_file: trainingFile, hyperparameters }),
      ).rejects.toMatchObject({ status: 400 });
    }
    await expect(
      client.fineTuning.jobs.create({ model: 'gpt-4o', training_file: trainingFile }),
    ).rejects.toMatchObject({
      status: 404,
      param: 'model',
    });
  });

  it("another org's key sees no job and cannot use this org's files", async () => {
    const [job] = (await client.fineTuning.jobs.list({ limit: 1 })).data;
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Tenant FT' });
    const b = ts.client();
    await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const project = await b.post('/api/v1/projects', { name: 'ft-b' });
    const other = openai(ts, await createKey(ts, { project_id: project.body.id }, b));
    await expect(other.fineTuning.jobs.retrieve(job!.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.fineTuning.jobs.cancel(job!.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.fineTuning.jobs.pause(job!.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.fineTuning.jobs.listEvents(job!.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.fineTuning.jobs.checkpoints.list(job!.id)).rejects.toMatchObject({ status: 404 });
    expect((await other.fineTuning.jobs.list()).data).toEqual([]);
    // nor deploy its jobs or estimate with its files and models
    await expect(other.post(`/fine_tuning/jobs/${firstRun.job}/deploy`, {})).rejects.toMatchObject({
      status: 404,
    });
    await expect(other.post(`/fine_tuning/jobs/${coldJob}/deploy`, {})).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      other.post('/fine_tuning/estimate', { body: { model: 'tiny', training_file: trainingFile } }),
    ).rejects.toMatchObject({ status: 404, param: 'model' });
    // the first run's checkpoints and adapter are files of its project only
    await expect(other.fineTuning.jobs.checkpoints.list(firstRun.job)).rejects.toMatchObject({ status: 404 });
    await expect(other.files.content(firstRun.adapter)).rejects.toMatchObject({ status: 404 });
    await expect(other.files.content(firstRun.checkpoint)).rejects.toMatchObject({ status: 404 });
    await expect(other.files.retrieve(firstRun.adapter)).rejects.toMatchObject({ status: 404 });
    // nor can another org's key call the fine-tuned model served on this org's base deployment
    const ftModel = (await client.fineTuning.jobs.retrieve(firstRun.job)).fine_tuned_model!;
    await expect(
      other.chat.completions.create({ model: ftModel, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 404 });
    // another project of the same org cannot train on this project's file
    const sibling = await ts.admin.post('/api/v1/projects', { name: 'ft-sibling' });
    const side = openai(ts, await createKey(ts, { project_id: sibling.body.id }));
    await expect(
      side.fineTuning.jobs.create({ model: 'tiny', training_file: trainingFile }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'training_file',
    });
    await expect(side.fineTuning.jobs.retrieve(job!.id)).rejects.toMatchObject({ status: 404 });
    await expect(side.files.content(firstRun.adapter)).rejects.toMatchObject({ status: 404 });
    await expect(side.post(`/fine_tuning/jobs/${firstRun.job}/deploy`, {})).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      side.post('/fine_tuning/estimate', { body: { model: 'tiny', training_file: trainingFile } }),
    ).rejects.toMatchObject({ status: 400, param: 'training_file' });
    // org A's file, and org A's base model, do not exist for org B
    await expect(
      other.fineTuning.jobs.create({ model: 'tiny', training_file: trainingFile }),
    ).rejects.toMatchObject({
      status: 404,
    });
    const own = await upload(other, jsonl([chatRow(1)]));
    await expect(
      other.fineTuning.jobs.create({ model: 'tiny', training_file: own.id }),
    ).rejects.toMatchObject({
      status: 404,
      param: 'model',
    });
  });
});
