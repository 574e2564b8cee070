import {
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
  testDatabaseUrl,
  testRedisUrl,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, until, v1 } from './support/gateway-setup.ts';

/**
 * Two replicas on one PostgreSQL database and one Redis: a registry or provider change made through
 * one reaches the other's caches within a second, without a restart.
 */
describe.skipIf(!testDatabaseUrl() || !testRedisUrl())('registry across replicas', () => {
  let a: TestServer;
  let b: TestServer;
  let up1: FakeUpstream;
  let up2: FakeUpstream;
  let key: string;
  const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

  beforeAll(async () => {
    a = await startTestServer({ MAAS_PROBE_INTERVAL_MS: '0' });
    b = await startTestServer({ DATABASE_URL: a.databaseUrl!, MAAS_PROBE_INTERVAL_MS: '0' });
    up1 = await startFakeUpstream();
    up2 = await startFakeUpstream();
    key = await createKey(a);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await up1?.close();
    await up2?.close();
  });

  /** ms until `check` holds on replica b */
  async function propagation(check: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    await until(check, 3_000, 'change on the other replica');
    return Date.now() - started;
  }

  it('a new model, a provider move and a retirement reach the other replica within a second', async () => {
    const provider = await createProvider(a, { name: 'moving', base_url: up1.url });
    const model = await createModel(a, {
      name: 'replicated',
      targets: [{ provider_id: provider, upstream_model: 'm' }],
    });
    expect(
      await propagation(
        async () => (await v1(b, key, '/chat/completions', chat('replicated'))).status === 200,
      ),
    ).toBeLessThan(1_000);

    up2.clearRequests();
    await a.admin.patch(`/api/v1/providers/${provider}`, { base_url: up2.url });
    expect(
      await propagation(async () => {
        await v1(b, key, '/chat/completions', chat('replicated'));
        return up2.requests.some((r) => r.path === '/v1/chat/completions');
      }),
    ).toBeLessThan(1_000);

    await a.admin.patch(`/api/v1/models/${model}`, { status: 'retired' });
    expect(
      await propagation(
        async () => (await v1(b, key, '/chat/completions', chat('replicated'))).status === 404,
      ),
    ).toBeLessThan(1_000);
  });
});
