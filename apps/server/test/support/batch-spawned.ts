import { randomBytes } from 'node:crypto';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiClient,
  createApiClient,
  type FakeUpstream,
  type SpawnedServer,
} from '@maas/testkit';
import OpenAI from 'openai';
import { chatLine, jsonl, readJsonl, uploadBatchFile, upstreamCounts } from './batch-setup.ts';

/** `maas serve` settings for batch tests on spawned servers: short leases, so a dead replica's claims run out fast. */
export function batchServerEnv(db: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'test',
    MAAS_HOST: '127.0.0.1',
    MAAS_PORT: '0',
    MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
    MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
    MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
    MAAS_LOG_LEVEL: 'info',
    MAAS_BATCH_CONCURRENCY: '4',
    MAAS_BATCH_POLL_MS: '50',
    MAAS_BATCH_LEASE_MS: '2000',
    ...db,
  };
}

/** A provider on the fake upstream, a model and an inference key, through `server`'s admin API. */
export async function setUpBatchTenant(server: SpawnedServer, upstream: FakeUpstream) {
  const admin: ApiClient = createApiClient(server.url);
  await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
  const provider = await admin.post('/api/v1/providers', {
    name: 'fake',
    type: 'openai-compatible',
    base_url: upstream.url,
  });
  if (provider.status !== 201) throw new Error(`provider: ${JSON.stringify(provider.body)}`);
  const model = await admin.post('/api/v1/models', {
    name: 'chat-small',
    type: 'chat',
    targets: [{ provider_id: provider.body.id, upstream_model: 'fake-chat' }],
  });
  if (model.status !== 201) throw new Error(`model: ${JSON.stringify(model.body)}`);
  const projects = await admin.get('/api/v1/projects');
  const projectId = projects.body.data.find((p: { name: string }) => p.name === 'default').id;
  const key = await admin.post('/api/v1/keys', {
    name: 'batch',
    project_id: projectId,
    scopes: ['inference'],
  });
  if (key.status !== 201) throw new Error(`key: ${JSON.stringify(key.body)}`);
  return { admin, keyId: key.body.id as string, secret: key.body.key as string };
}

export const sdk = (url: string, secret: string) =>
  new OpenAI({ apiKey: secret, baseURL: `${url}/v1`, maxRetries: 2 });

export async function createLinesBatch(client: OpenAI, n: number, prefix: string) {
  const lines = Array.from({ length: n }, (_, i) => chatLine(`${prefix}-${i}`));
  const fileId = await uploadBatchFile(client, jsonl(lines));
  return client.batches.create({
    input_file_id: fileId,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
}

/** What the finished batch says about exactly-once: its files, the upstream's log and the metered requests. */
export async function exactlyOnceReport(
  client: OpenAI,
  admin: ApiClient,
  batch: OpenAI.Batch,
  keyId: string,
  upstream: FakeUpstream,
) {
  const output = await readJsonl(client, batch.output_file_id);
  const errors = await readJsonl(client, batch.error_file_id);
  const ids = output.map((l) => l.custom_id);
  const counts = upstreamCounts(upstream);
  const usage = await admin.get(`/api/v1/usage?key_id=${keyId}&granularity=day`);
  const metered = (usage.body.totals as { requests: number }[]).reduce((s, t) => s + t.requests, 0);
  return {
    output: output.length,
    errors: errors.length,
    distinct: new Set(ids).size,
    resent: [...counts.values()].reduce((s, n) => s + n - 1, 0),
    reached: counts.size,
    metered,
  };
}
