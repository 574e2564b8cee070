import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../src/modules/metering/schema.ts';
import {
  createKey,
  createModel,
  createProvider,
  defaultProject,
  issueKey,
  until,
  usageOf,
} from './support/gateway-setup.ts';

/** Async inference: 202 at once, the job runs through the gateway path, poll / cancel / callback. */
let ts: TestServer;
let upstream: FakeUpstream;
let key: string;
let otherOrgKey: string;
let receiver: Server;
let receiverUrl: string;
const received: { headers: Record<string, unknown>; body: Record<string, unknown> }[] = [];

async function call(method: string, path: string, secret: string | null, body?: unknown) {
  const res = await fetch(`${ts.url}/api/v1/async${path}`, {
    method,
    headers: {
      ...(secret ? { authorization: `Bearer ${secret}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

const settled = (id: string, secret = key) =>
  until(
    async () => {
      const res = await call('GET', `/jobs/${id}`, secret);
      return ['succeeded', 'failed', 'cancelled'].includes(res.body.status) ? res.body : null;
    },
    15_000,
    `job ${id} finished`,
  );

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, { name: 'chat', targets: [{ provider_id: provider, upstream_model: 'fake-chat' }] });
  await createModel(ts, { name: 'slow', targets: [{ provider_id: provider, upstream_model: 'slow-chat' }] });
  await createModel(ts, {
    name: 'embed',
    type: 'embedding',
    targets: [{ provider_id: provider, upstream_model: 'fake-embed' }],
  });
  key = await createKey(ts);
  // a second tenant with a key of its own
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Tenant B' });
  const b = ts.client();
  await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const project = (await b.post('/api/v1/projects', { name: 'b-project' })).body.id;
  otherOrgKey = await createKey(ts, { project_id: project }, b);
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  receiver?.close();
  await upstream?.close();
  await ts?.close();
});

describe('async inference', () => {
  it('answers 202 with a job at once and keeps the OpenAI answer as its result, metered once to the key', async () => {
    const res = await call('POST', '/chat/completions', key, {
      model: 'chat',
      messages: [{ role: 'user', content: 'hello later' }],
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ object: 'async.job', endpoint: '/v1/chat/completions', model: 'chat' });
    expect(res.body.id).toMatch(/^job_/);
    expect(['queued', 'running', 'succeeded']).toContain(res.body.status);
    expect(res.headers.get('location')).toBe(`/api/v1/async/jobs/${res.body.id}`);
    const done = await settled(res.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.error).toBeNull();
    expect(done.result).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { role: 'assistant' } }],
    });
    expect(done.request_id).toMatch(/^req_/);
    const [usage] = await usageOf(ts, [done.request_id]);
    expect(usage).toMatchObject({ endpoint: 'chat.completions', outcome: 'success', httpStatus: 200 });
    expect(usage!.promptTokens).toBeGreaterThan(0);
  });

  it('runs embeddings too', async () => {
    const res = await call('POST', '/embeddings', key, { model: 'embed', input: ['a', 'b'] });
    expect(res.status).toBe(202);
    const done = await settled(res.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.result.data).toHaveLength(2);
  });

  it('a request the gateway refuses fails with the real error text', async () => {
    const res = await call('POST', '/chat/completions', key, {
      model: 'no-such-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(202);
    const done = await settled(res.body.id);
    expect(done.status).toBe('failed');
    expect(done.error.message).toMatch(/model/i);
    expect(done.error.status_code).toBeGreaterThanOrEqual(400);
    expect(done.attempts).toBe(1);
  });

  it('POSTs the finished job to callback_url through the outbound policy', async () => {
    const res = await call('POST', '/chat/completions', key, {
      model: 'chat',
      messages: [{ role: 'user', content: 'call me back' }],
      callback_url: receiverUrl,
    });
    expect(res.status).toBe(202);
    expect(res.body.callback_url).toBe(receiverUrl);
    const hook = await until(() => received.find((r) => r.body.id === res.body.id), 15_000, 'callback');
    expect(hook.body).toMatchObject({
      status: 'succeeded',
      object: 'async.job',
      result: { object: 'chat.completion' },
    });
    expect(hook.headers['x-maas-event']).toBe('job.succeeded');
  });

  it("tells the org's webhook endpoints (job.*) once the job is done, signed", async () => {
    const hookUrl = receiverUrl.replace('/hook', '/org-webhook');
    const created = await ts.admin.post('/api/v1/webhook-endpoints', { url: hookUrl, events: ['job.*'] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await call('POST', '/embeddings', key, { model: 'embed', input: 'tell them' });
    const event = await until(
      () =>
        received.find(
          (r) => r.body.type === 'job.completed' && (r.body.data as { id: string }).id === res.body.id,
        ),
      15_000,
      'job.completed event',
    );
    expect(event.body.data).toMatchObject({ id: res.body.id, status: 'succeeded', object: 'async.job' });
    expect(event.headers['webhook-signature']).toMatch(/^v1,/);
    expect(await ts.admin.delete(`/api/v1/webhook-endpoints/${created.body.id}`)).toMatchObject({
      status: 204,
    });
  });

  it('cancels a running job', async () => {
    upstream.setFaults([{ model: 'slow-chat', latencyMs: 3_000 }]);
    const res = await call('POST', '/chat/completions', key, {
      model: 'slow',
      messages: [{ role: 'user', content: 'x' }],
    });
    await until(
      async () => (await call('GET', `/jobs/${res.body.id}`, key)).body.status === 'running',
      5_000,
      'running',
    );
    const cancelled = await call('DELETE', `/jobs/${res.body.id}`, key);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelling');
    const started = Date.now();
    const done = await settled(res.body.id);
    expect(done.status).toBe('cancelled');
    expect(done.result).toBeNull();
    expect(Date.now() - started).toBeLessThan(2_000); // the handler does not wait for the upstream
    // the call in flight was cut, as for a client that hung up, and metered once as such
    const sent = await until(
      async () => upstream.requests.find((r) => r.body?.model === 'slow-chat' && r.aborted),
      3_000,
      'upstream call cut',
    );
    expect(sent.aborted).toBe(true);
    const rows = await until(
      async () => {
        await ts.server.services.metering.writer.flush();
        const all = await ts.server.services.database.db
          .select()
          .from(usageEvents)
          .where(eq(usageEvents.modelName, 'slow'));
        return all.length > 0 ? all : null;
      },
      5_000,
      'usage of the cut call',
    );
    expect(rows.map((r) => r.outcome)).toEqual(['client_abort']);
    upstream.setFaults([]);
  });

  it('a job queued behind others runs as its key is now: revoked meanwhile, it fails and spends nothing', async () => {
    // two slow jobs take the org's two async slots; the third waits in the queue
    upstream.setFaults([{ model: 'slow-chat', latencyMs: 1_500 }]);
    const { id: keyId, key: doomed } = await issueKey(ts, { name: 'revoked-while-queued' });
    const ask = (secret: string, content: string) =>
      call('POST', '/chat/completions', secret, { model: 'slow', messages: [{ role: 'user', content }] });
    const first = [await ask(key, 'slot-1'), await ask(key, 'slot-2')];
    const queued = await ask(doomed, 'never-sent');
    expect((await call('GET', `/jobs/${queued.body.id}`, doomed)).body.status).toBe('queued');
    expect((await ts.admin.delete(`/api/v1/keys/${keyId}`)).status).toBe(204);
    for (const job of first) expect((await settled(job.body.id)).status).toBe('succeeded');
    const done = await until(
      async () => {
        const row = await ts.server.services.jobs.get(queued.body.id);
        return row && ['succeeded', 'failed'].includes(row.status) ? row : null;
      },
      15_000,
      'the queued job ended',
    );
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/revoked or has expired/);
    expect(upstream.requests.some((r) => JSON.stringify(r.body ?? null).includes('never-sent'))).toBe(false);
    upstream.setFaults([]);
  });

  it('refuses streams, bodies without a model and callers without a key', async () => {
    const stream = await call('POST', '/chat/completions', key, {
      model: 'chat',
      messages: [],
      stream: true,
    });
    expect(stream.status).toBe(400);
    expect((await call('POST', '/chat/completions', key, { messages: [] })).status).toBe(400);
    expect((await call('POST', '/chat/completions', null, { model: 'chat', messages: [] })).status).toBe(401);
    const adminToken = await call('GET', '/jobs/job_01aaaaaaaaaaaaaaaaaaaaaaaa', 'not-a-key');
    expect(adminToken.status).toBe(401);
  });
});

describe('async inference across tenants', () => {
  it("another org's key can neither poll nor cancel my job (404)", async () => {
    const mine = await call('POST', '/chat/completions', key, {
      model: 'chat',
      messages: [{ role: 'user', content: 'mine' }],
    });
    const poll = await call('GET', `/jobs/${mine.body.id}`, otherOrgKey);
    expect(poll.status).toBe(404);
    const cancel = await call('DELETE', `/jobs/${mine.body.id}`, otherOrgKey);
    expect(cancel.status).toBe(404);
    expect((await settled(mine.body.id)).status).toBe('succeeded');
    // nor any other job of the engine, by guessing ids
    const [job] = await ts.server.services.jobs
      .enqueue({ queue: 'other.queue', payload: {} })
      .then((j) => [j]);
    expect((await call('GET', `/jobs/${job!.id}`, key)).status).toBe(404);
  });

  it('refuses a callback_url at an internal address (422, outbound policy)', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/hook',
      'http://[fd00::1]/hook',
    ]) {
      const res = await call('POST', '/chat/completions', key, {
        model: 'chat',
        messages: [],
        callback_url: url,
      });
      expect(res.status, url).toBe(422);
    }
    const bad = await call('POST', '/chat/completions', key, {
      model: 'chat',
      messages: [],
      callback_url: 'file:///etc/passwd',
    });
    expect(bad.status).toBe(400);
  });

  it('a key of my project sees the job; a key of another project in my org does not', async () => {
    const mine = await call('POST', '/embeddings', key, { model: 'embed', input: 'x' });
    const sameProject = await createKey(ts, { project_id: await defaultProject(ts) });
    expect((await call('GET', `/jobs/${mine.body.id}`, sameProject)).status).toBe(200);
    const otherProject = (await ts.admin.post('/api/v1/projects', { name: 'other-project' })).body.id;
    const stranger = await createKey(ts, { project_id: otherProject });
    expect((await call('GET', `/jobs/${mine.body.id}`, stranger)).status).toBe(404);
  });
});

describe('listing async jobs', () => {
  it("lists the key's project's jobs newest first, by cursor, filtered by status", async () => {
    const listKey = await createKey(ts, { project_id: await defaultProject(ts) });
    const ids: string[] = [];
    for (const content of ['one', 'two', 'three']) {
      const res = await call('POST', '/chat/completions', listKey, {
        model: 'chat',
        messages: [{ role: 'user', content }],
      });
      ids.push(res.body.id);
    }
    for (const id of ids) await settled(id, listKey);
    const failed = await call('POST', '/chat/completions', listKey, {
      model: 'no-such-model',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect((await settled(failed.body.id, listKey)).status).toBe('failed');

    const all = await call('GET', '/jobs?limit=100', listKey);
    expect(all.status).toBe(200);
    expect(all.body.object).toBe('list');
    const listed = all.body.data.map((j: { id: string }) => j.id);
    // the project's jobs from the other tests too, newest first
    expect(listed.slice(0, 4)).toEqual([failed.body.id, ...ids.reverse()]);
    expect([...listed].sort().reverse()).toEqual(listed);
    expect(all.body.first_id).toBe(listed[0]);
    expect(all.body.last_id).toBe(listed.at(-1));
    expect(all.body.has_more).toBe(false);
    const first = all.body.data[1];
    expect(first).toMatchObject({ object: 'async.job', endpoint: '/v1/chat/completions', model: 'chat' });
    expect(first.status).toBe('succeeded');
    expect(first.result.object).toBe('chat.completion');
    expect(all.body.data[0].error.message).toMatch(/no-such-model/);

    // pages of two, following the cursor, add up to the whole list
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await call('GET', `/jobs?limit=2${after ? `&after=${after}` : ''}`, listKey);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.data.map((j: { id: string }) => j.id));
      if (!page.body.has_more) break;
      after = page.body.last_id;
    }
    expect(paged).toEqual(listed);

    const onlyFailed = await call('GET', '/jobs?status=failed', listKey);
    expect(onlyFailed.body.data.length).toBeGreaterThan(0);
    expect(onlyFailed.body.data.every((j: { status: string }) => j.status === 'failed')).toBe(true);
    expect(onlyFailed.body.data.map((j: { id: string }) => j.id)).toContain(failed.body.id);
    expect((await call('GET', '/jobs?status=bogus', listKey)).status).toBe(400);
    expect((await call('GET', '/jobs?limit=101', listKey)).status).toBe(400);
    expect((await call('GET', '/jobs?limit=0', listKey)).status).toBe(400);
  });

  it("another org's key, another project's key and a session see none of my jobs", async () => {
    const mine = await call('POST', '/embeddings', key, { model: 'embed', input: 'listed' });
    await settled(mine.body.id);
    expect((await call('GET', '/jobs', key)).body.data.map((j: { id: string }) => j.id)).toContain(
      mine.body.id,
    );
    const otherOrg = await call('GET', '/jobs?limit=100', otherOrgKey);
    expect(otherOrg.status).toBe(200);
    expect(otherOrg.body.data).toEqual([]);
    const project = (await ts.admin.post('/api/v1/projects', { name: 'list-other-project' })).body.id;
    const stranger = await createKey(ts, { project_id: project });
    const other = await call('GET', '/jobs?limit=100', stranger);
    expect(other.status).toBe(200);
    expect(other.body.data).toEqual([]);
    // another engine queue's jobs of my org are not async jobs
    await ts.server.services.jobs.enqueue({
      queue: 'other.queue',
      orgId: (await ts.admin.get('/api/v1/projects')).body.data[0].org_id,
      payload: { principal: { projectId: await defaultProject(ts) } },
    });
    const listed = await call('GET', '/jobs?limit=100', key);
    expect(listed.body.data.every((j: { object: string }) => j.object === 'async.job')).toBe(true);
    expect(listed.body.data.every((j: { endpoint: string }) => j.endpoint.startsWith('/v1/'))).toBe(true);
    // an org session (even an owner's) is not an API key: no list, no cancel
    expect((await ts.admin.get('/api/v1/async/jobs')).status).toBe(401);
    expect((await ts.admin.delete(`/api/v1/async/jobs/${mine.body.id}`)).status).toBe(401);
  });

  it('a viewer of the org can neither list nor cancel with the session, nor mint a key to do so', async () => {
    const slow = await call('POST', '/chat/completions', key, {
      model: 'chat',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(
      (
        await ts.admin.post('/api/v1/users', {
          email: 'async-viewer@example.com',
          password: 'viewer-password',
          role: 'viewer',
        })
      ).status,
    ).toBe(201);
    const viewer = ts.client();
    await viewer.login('async-viewer@example.com', 'viewer-password');
    expect((await viewer.get('/api/v1/async/jobs')).status).toBe(401);
    expect((await viewer.delete(`/api/v1/async/jobs/${slow.body.id}`)).status).toBe(401);
    const minted = await viewer.post('/api/v1/keys', {
      name: 'viewer-key',
      project_id: await defaultProject(ts),
      scopes: ['inference'],
    });
    expect(minted.status).toBe(403);
    expect((await settled(slow.body.id)).status).toBe('succeeded');
  });
});
