import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiClient,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, createProvider, issueKey, sleep, v1 } from './support/gateway-setup.ts';

/**
 * The user as a limit subject: every key a user created shares the user's limits, exactly, under
 * concurrent requests (in-process counters, or Redis when MAAS_TEST_REDIS_URL is set), and usage
 * reports by user.
 */
let ts: TestServer;
let upstream: FakeUpstream;
let alice: ApiClient;
let aliceId: string;
let viewer: ApiClient;

async function member(email: string, role: string): Promise<{ client: ApiClient; id: string }> {
  const created = await ts.admin.post('/api/v1/users', { email, password: `${role}-password-1`, role });
  expect(created.status).toBe(201);
  const client = ts.client();
  await client.login(email, `${role}-password-1`);
  return { client, id: created.body.id };
}

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream({ chunks: 2, latencyMs: 150 });
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, {
    name: 'per-user',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  ({ client: alice, id: aliceId } = await member('alice@users.test', 'operator'));
  ({ client: viewer } = await member('viewer@users.test', 'viewer'));
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

const chat = (key: string) =>
  v1(ts, key, '/chat/completions', { model: 'per-user', messages: [{ role: 'user', content: 'hi' }] });

describe('limits on a user', () => {
  it('holds exactly across two keys of the user under concurrent requests; other users are not counted', async () => {
    const k1 = await issueKey(ts, { name: 'alice-1' }, alice);
    const k2 = await issueKey(ts, { name: 'alice-2' }, alice);
    const own = await issueKey(ts, { name: 'admin-own' });
    const limit = await ts.admin.post('/api/v1/limits', { scope: 'user', scope_id: aliceId, rpm: 5 });
    expect(limit.status).toBe(201);
    expect(limit.body).toMatchObject({ scope: 'user', scope_id: aliceId, rpm: 5 });
    await sleep(100);

    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(i % 2 ? k1.key : k2.key)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    const refused = results.find((r) => r.status === 429)!;
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(refused.body.error.message).toContain(`user ${aliceId}`);
    // a third key made later by the same user shares the spent limit at once
    const k3 = await issueKey(ts, { name: 'alice-3' }, alice);
    expect((await chat(k3.key)).status).toBe(429);
    // the admin's key is not the user's
    expect((await chat(own.key)).status).toBe(200);

    const usage = await ts.admin.get(`/api/v1/limits/${limit.body.id}/usage`);
    expect(usage.body.counters).toEqual([expect.objectContaining({ dimension: 'rpm', limit: 5, used: 5 })]);
    expect((await ts.admin.delete(`/api/v1/limits/${limit.body.id}`)).status).toBe(204);
    await sleep(100);
    expect((await chat(k1.key)).status).toBe(200);
  });

  it('caps concurrency across the keys of the user', async () => {
    const k1 = await issueKey(ts, { name: 'alice-c1' }, alice);
    const k2 = await issueKey(ts, { name: 'alice-c2' }, alice);
    const limit = await ts.admin.post('/api/v1/limits', {
      scope: 'user',
      scope_id: aliceId,
      model: 'per-user',
      max_concurrent: 2,
    });
    expect(limit.status).toBe(201);
    await sleep(100);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => chat(i % 2 ? k1.key : k2.key)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
    expect(results.filter((r) => r.status === 429)).toHaveLength(4);
    await ts.admin.delete(`/api/v1/limits/${limit.body.id}`);
  });

  it('reports usage by user (group_by=user and user_id)', async () => {
    await ts.server.services.metering.writer.flush();
    const grouped = await ts.admin.get('/api/v1/usage?group_by=user&model=per-user&granularity=hour');
    expect(grouped.status).toBe(200);
    const byUser = new Map<string, number>(
      grouped.body.data.map((r: { user_id: string; requests: number }) => [r.user_id, r.requests]),
    );
    expect(byUser.get(aliceId)).toBeGreaterThanOrEqual(8);
    const mine = await ts.admin.get(`/api/v1/usage?group_by=key&user_id=${aliceId}&granularity=hour`);
    expect(mine.body.totals[0].requests).toBe(byUser.get(aliceId));
    expect(new Set(mine.body.data.map((r: { key_id: string }) => r.key_id)).size).toBeGreaterThanOrEqual(3);
    expect((await ts.admin.get('/api/v1/usage?group_by=person')).status).toBe(400);
  });

  it('refuses a user limit for a viewer, for a user of another org and for an unknown user', async () => {
    const asViewer = await viewer.post('/api/v1/limits', { scope: 'user', scope_id: aliceId, rpm: 1 });
    expect(asViewer.status).toBe(403);
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Other tenant' });
    const other = ts.client();
    await other.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const foreign = await other.post('/api/v1/limits', { scope: 'user', scope_id: aliceId, rpm: 1 });
    expect(foreign.status).toBe(404);
    expect(
      (await ts.admin.post('/api/v1/limits', { scope: 'user', scope_id: 'usr_nope', rpm: 1 })).status,
    ).toBe(404);
    expect((await ts.admin.post('/api/v1/limits', { scope: 'user', rpm: 1 })).status).toBe(422);
    // another org sees none of this org's usage by user
    const theirs = await other.get(`/api/v1/usage?group_by=user&user_id=${aliceId}`);
    expect(theirs.body.data).toEqual([]);
  });
});
