import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  createProvider,
  issueKey,
  openai,
  sleep,
  until,
  usageOfKey,
} from './support/gateway-setup.ts';

/**
 * Background responses on the durable job engine: answered `queued` at once, run by a worker
 * through the gateway path (one usage row), polled to `completed`; a cancel ends a queued or
 * running one (`cancelled`, the upstream call cut) and only background responses can be cancelled.
 */
let ts: TestServer;
let upstream: FakeUpstream;

beforeAll(async () => {
  ts = await startTestServer({ MAAS_PROBE_INTERVAL_MS: '0' });
  upstream = await startFakeUpstream({
    chunks: 3,
    faults: [{ model: 'fake-slow', latencyMs: 30_000 }],
  });
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, {
    name: 'chat-small',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  await createModel(ts, {
    name: 'chat-slow',
    targets: [{ provider_id: provider, upstream_model: 'fake-slow' }],
  });
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('background: true', () => {
  it('is queued at once, completes on the job engine, is metered once and can be chained', async () => {
    const { id: keyId, key } = await issueKey(ts);
    const client = openai(ts, key);
    const queued = await client.responses.create({
      model: 'chat-small',
      input: 'later please',
      background: true,
    });
    expect(queued).toMatchObject({ status: 'queued', background: true, output: [], usage: null });
    const done = await until(
      async () => {
        const r = await client.responses.retrieve(queued.id);
        return r.status === 'completed' ? r : null;
      },
      20_000,
      'background response completed',
    );
    expect(done.output_text).toBe('later please later');
    expect(done.usage).toMatchObject({ input_tokens: 2, output_tokens: 3, total_tokens: 5 });
    const rows = await usageOfKey(ts, keyId, 1);
    await sleep(300);
    expect(await usageOfKey(ts, keyId, 1)).toHaveLength(1);
    expect(rows[0]).toMatchObject({ endpoint: 'responses', outcome: 'success', modelName: 'chat-small' });

    const next = await client.responses.create({
      model: 'chat-small',
      previous_response_id: done.id,
      input: 'and now',
    });
    expect(next.status).toBe('completed');
    // a completed background response is returned unchanged by cancel
    expect((await client.responses.cancel(done.id)).status).toBe('completed');
  });

  it('cancels a running background response: status cancelled, the upstream call cut and metered', async () => {
    const { id: keyId, key } = await issueKey(ts);
    const client = openai(ts, key);
    const queued = await client.responses.create({
      model: 'chat-slow',
      input: 'never mind',
      background: true,
    });
    await until(
      async () => (await client.responses.retrieve(queued.id)).status === 'in_progress',
      20_000,
      'background response running',
    );
    const cancelled = await client.responses.cancel(queued.id);
    expect(cancelled).toMatchObject({ id: queued.id, status: 'cancelled' });
    const rows = await usageOfKey(ts, keyId, 1, 20_000);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ endpoint: 'responses', outcome: 'client_abort' });
    await sleep(500);
    expect((await client.responses.retrieve(queued.id)).status).toBe('cancelled');
    // its input stays listed (the response ended with no output of its own)
    const items = await client.responses.inputItems.list(queued.id);
    expect(items.data).toHaveLength(1);
  });

  it('deletes a background response that is still running (its job is cancelled)', async () => {
    const client = openai(ts, (await issueKey(ts)).key);
    const queued = await client.responses.create({ model: 'chat-slow', input: 'drop it', background: true });
    await client.responses.delete(queued.id);
    await expect(client.responses.retrieve(queued.id)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses background with store false, and a stream in background', async () => {
    const client = openai(ts, (await issueKey(ts)).key);
    await expect(
      client.responses.create({ model: 'chat-small', input: 'x', background: true, store: false }),
    ).rejects.toMatchObject({ status: 400, param: 'background' });
    await expect(
      client.responses.create({ model: 'chat-small', input: 'x', background: true, stream: true }),
    ).rejects.toMatchObject({ status: 400, param: 'stream' });
  });
});
