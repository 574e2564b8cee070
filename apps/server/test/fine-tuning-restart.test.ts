import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createApiClient,
  createScratchDatabase,
  respawnServer,
  type SpawnedServer,
  spawnServer,
  testDatabaseUrl,
  writeTinyLlama,
} from '@maas/testkit';
import OpenAI, { toFile } from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './support/gateway-setup.ts';

/**
 * kill -9 of `maas serve` (and so of its in-process agent) in the middle of a fine-tuning run: the
 * restarted server's agent starts the trainer again in the run's directory, and the trainer resumes
 * from its last checkpoint; every step is reported once.
 */
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
const base = testDatabaseUrl();

describe.skipIf(!hasTorch)('a fine-tuning run survives kill -9 of its server', () => {
  let server: SpawnedServer | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'maas-ft-restart-'));
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;

  afterAll(async () => {
    await server?.stop();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes from the last checkpoint after a restart', { timeout: 480_000 }, async () => {
    scratch = base ? await createScratchDatabase(base) : undefined;
    const env = {
      NODE_ENV: 'test',
      MAAS_DATA_DIR: join(dataDir, 'server'),
      ...(scratch ? { DATABASE_URL: scratch.url } : {}),
      MAAS_HOST: '127.0.0.1',
      MAAS_PORT: '0',
      MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
      MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
      MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MAAS_LOG_LEVEL: 'info',
      MAAS_JOB_LEASE_MS: '3000',
      MAAS_LOCAL_AGENT: 'true',
      MAAS_LOCAL_AGENT_PORTS: '32540-32549',
      MAAS_HEARTBEAT_MS: '300',
      MAAS_TRAINER_STEP_DELAY_MS: '400',
    };
    server = await spawnServer(env);
    const admin = createApiClient(server.url);
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const model = writeTinyLlama(join(dataDir, 'tiny.gguf'), { seed: 9 });
    const dep = await admin.post('/api/v1/deployments', {
      model: 'tiny',
      runtime: 'llama-cpp',
      source: model,
      replicas: 1, // the adapter is served on the base's replica, and checked there
    });
    expect(dep.status).toBe(201);
    const project = (await admin.get('/api/v1/projects')).body.data[0].id;
    const key = (await admin.post('/api/v1/keys', { name: 'ft', project_id: project, scopes: ['inference'] }))
      .body.key;
    const sdk = (url: string) =>
      new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, timeout: 60_000 });
    let client = sdk(server.url);
    const rows = Array.from({ length: 8 }, (_, i) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: `hi ${i}` },
          { role: 'assistant', content: 'hello world' },
        ],
      }),
    );
    const file = await client.files.create({
      file: await toFile(Buffer.from(rows.join('\n')), 't.jsonl'),
      purpose: 'fine-tune',
    });
    const job = await client.fineTuning.jobs.create({
      model: 'tiny',
      training_file: file.id,
      hyperparameters: { n_epochs: 8, batch_size: 2 },
    });
    const messages = async () => {
      const out: string[] = [];
      for await (const e of client.fineTuning.jobs.listEvents(job.id, { limit: 100 })) out.push(e.message);
      return out;
    };
    await until(
      async () => (await messages()).includes('Checkpoint created at step 4'),
      120_000,
      'checkpoint at step 4',
    );

    server.child.kill('SIGKILL');
    await new Promise((resolve) => server!.child.once('exit', resolve));
    server = await respawnServer(env);
    client = sdk(server.url);

    const done = await until(
      async () => {
        const j = await client.fineTuning.jobs.retrieve(job.id);
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
      },
      300_000,
      'the run finished after the restart',
    );
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const all = await messages();
    const resumed = all.find((m) => m.startsWith('Resumed from the checkpoint at step '));
    expect(resumed, all.join('\n')).toBeTruthy();
    expect(Number(resumed!.split(' ').at(-1))).toBeGreaterThanOrEqual(4);
    // 8 examples, batch 2, 8 epochs: 32 steps, each reported once across both processes
    const steps = all.filter((m) => /^Step \d+\/32: training loss=/.test(m));
    expect(new Set(steps).size).toBe(32);
  });
});
