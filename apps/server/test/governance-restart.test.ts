import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createScratchDatabase,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
  testDatabaseUrl,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, createProvider, issueKey, v1 } from './support/gateway-setup.ts';

/**
 * A quota or budget holds across a restart: the counters of the current period start from the
 * metered usage, not from zero (in process they would otherwise be forgotten with the process).
 */
let upstream: FakeUpstream;
let dataDir: string;
let scratch: { url: string; drop(): Promise<void> } | undefined;
let env: Record<string, string>;
const servers: TestServer[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream({ chunks: 2 });
  dataDir = await mkdtemp(join(tmpdir(), 'maas-restart-'));
  const base = testDatabaseUrl();
  scratch = base ? await createScratchDatabase(base) : undefined;
  env = {
    MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
    ...(scratch ? { DATABASE_URL: scratch.url } : { MAAS_DATA_DIR: dataDir }),
  };
});
afterAll(async () => {
  for (const s of servers) await s.server.close().catch(() => {});
  await upstream?.close();
  await scratch?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

const start = async () => {
  const ts = await startTestServer(env);
  servers.push(ts);
  return ts;
};

const ask = (ts: TestServer, key: string, model = 'quota-chat') =>
  v1(ts, key, '/chat/completions', {
    model,
    max_tokens: 8,
    messages: [{ role: 'user', content: 'count me' }],
  });

describe('quotas across a restart', () => {
  it('refuses after a restart what was refused before it, and keeps admitting within the quota', async () => {
    // the spent key's quota is for the model, and it calls the model by an alias
    const first = await start();
    const provider = await createProvider(first, { name: 'fake', base_url: upstream.url });
    await createModel(first, {
      name: 'quota-chat',
      aliases: ['quota-alias'],
      targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
    });
    const spent = await issueKey(first, { name: 'spent' });
    const fresh = await issueKey(first, { name: 'fresh' });
    for (const k of [spent, fresh]) {
      const res = await first.admin.post('/api/v1/limits', {
        scope: 'key',
        scope_id: k.id,
        ...(k === spent ? { model: 'quota-chat' } : {}),
        token_quota: 200,
        quota_period: 'month',
      });
      expect(res.status).toBe(201);
    }
    await new Promise((r) => setTimeout(r, 100));

    let served = 0;
    let refused: Awaited<ReturnType<typeof v1>> | undefined;
    for (let i = 0; i < 50 && !refused; i++) {
      const res = await ask(first, spent.key, 'quota-alias');
      if (res.status === 200) served++;
      else refused = res;
    }
    expect(served).toBeGreaterThan(0);
    expect(refused?.body.error).toMatchObject({ code: 'insufficient_quota' });
    expect((await ask(first, fresh.key)).status).toBe(200);
    await first.server.close(); // flushes the usage events

    const second = await start();
    const again = await ask(second, spent.key, 'quota-alias');
    expect(again.status).toBe(429);
    expect(again.body.error).toMatchObject({ code: 'insufficient_quota' });
    // the other key used one request's worth, so it still has room
    expect((await ask(second, fresh.key)).status).toBe(200);
  });
});
