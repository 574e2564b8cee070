import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiClient,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  createProvider,
  issueKey,
  openai,
  until,
  usageFor,
  v1,
} from './support/gateway-setup.ts';

/**
 * Guardrails on /v1, end to end with the openai SDK: PII masked before the upstream sees it, a
 * deny list that blocks, streamed output checked incrementally (the client never receives a
 * blocked span), a moderation model that fails → the request is blocked (fail closed) unless the
 * guardrail fails open; every block audited without the matched text; another org's guardrails are
 * out of reach.
 */
let ts: TestServer;
let upstream: FakeUpstream;
let provider: string;
let key: string;
let keyId: string;
let client: OpenAI;

const guardrail = async (body: Record<string, unknown>, as: ApiClient = ts.admin) => {
  const res = await as.post('/api/v1/guardrails', body);
  if (res.status !== 201) throw new Error(`guardrail: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
};
const attach = async (id: string, target_type: 'model' | 'key', target_id: string) => {
  const res = await ts.admin.post(`/api/v1/guardrails/${id}/attachments`, { target_type, target_id });
  expect(res.status).toBe(200);
};
const model = (name: string, upstreamModel = 'fake-chat') =>
  createModel(ts, { name, targets: [{ provider_id: provider, upstream_model: upstreamModel }] });
const ask = (m: string, content: string) =>
  client.chat.completions.create({ model: m, messages: [{ role: 'user', content }] });
type AuditRow = { after: Record<string, unknown> };
/** the audit rows of a guardrail for an action, once one of them matches `want` */
const auditOf = async (action: string, guardrailId: string, want: (row: AuditRow) => boolean = () => true) =>
  until(async () => {
    const res = await ts.admin.get(`/api/v1/audit-events?action=${action}&target=${guardrailId}`);
    return (res.body.data as AuditRow[]).some(want) ? res.body.data : null;
  }, 10_000);

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream({ chunks: 8 });
  provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  ({ key, id: keyId } = await issueKey(ts, { name: 'guarded' }));
  client = openai(ts, key);
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('PII and deny lists', () => {
  it('masks PII in the input: the upstream sees only the masks', async () => {
    const modelId = await model('g-mask');
    const id = await guardrail({ name: 'pii', kind: 'pii', action: 'mask', stages: ['input'] });
    await attach(id, 'model', modelId);
    upstream.clearRequests();
    const text = 'mail alice@example.com call 13812345678 id 11010519491231002X card 4111 1111 1111 1111';
    const answer = await ask('g-mask', text);
    const seen = JSON.stringify((await upstream.waitForRequest()).body.messages);
    for (const secret of ['alice@example.com', '13812345678', '11010519491231002X', '4111 1111 1111 1111'])
      expect(seen).not.toContain(secret);
    expect(seen).toContain('[EMAIL]');
    expect(seen).toContain('[PHONE]');
    expect(seen).toContain('[ID_NUMBER]');
    expect(seen).toContain('[CARD_NUMBER]');
    expect(answer.choices[0]!.message.content).toContain('[EMAIL]');
  });

  it('masks the Anthropic Messages API input too', async () => {
    upstream.clearRequests();
    const res = await v1(
      ts,
      key,
      '/messages',
      { model: 'g-mask', max_tokens: 16, messages: [{ role: 'user', content: 'mail carol@example.net' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(res.status).toBe(200);
    const seen = JSON.stringify((await upstream.waitForRequest()).body);
    expect(seen).not.toContain('carol@example.net');
    expect(seen).toContain('[EMAIL]');
  });

  it('blocks input on a deny list attached to a key (400 content_policy_violation, never sent upstream), audited without the text', async () => {
    await model('g-deny');
    const id = await guardrail({
      name: 'deny',
      kind: 'deny_list',
      action: 'block',
      config: { keywords: ['Project Nightingale'], patterns: ['ticket-\\d{4}'] },
    });
    await attach(id, 'key', keyId);
    upstream.clearRequests();
    const err = await ask('g-deny', 'tell me about project nightingale').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.code).toBe('content_policy_violation');
    expect(err.message).toContain('keyword:0');
    const byPattern = await ask('g-deny', 'see ticket-1234').catch((e) => e);
    expect(byPattern.code).toBe('content_policy_violation');
    expect(upstream.requests).toHaveLength(0);
    expect((await ask('g-deny', 'a harmless question')).choices[0]!.message.content).toContain('harmless');
    const rows = await auditOf('guardrail.block', id);
    expect(rows[0].after).toMatchObject({ stage: 'input', outcome: 'blocked', key_id: keyId });
    expect(JSON.stringify(rows)).not.toMatch(/nightingale|ticket-1234/i);
    await ts.admin.delete(`/api/v1/guardrails/${id}/attachments/${keyId}`);
  });

  it('refuses a pattern that can backtrack catastrophically, at save time', async () => {
    const res = await ts.admin.post('/api/v1/guardrails', {
      name: 'redos',
      kind: 'deny_list',
      action: 'block',
      config: { patterns: ['(a+)+$'] },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('backtrack');
  });
});

describe('streamed output', () => {
  it('masks PII in a stream and blocks a denied word before any of it reaches the client', async () => {
    const modelId = await model('g-out');
    const mask = await guardrail({ name: 'out-pii', kind: 'pii', action: 'mask', stages: ['output'] });
    const block = await guardrail({
      name: 'out-deny',
      kind: 'deny_list',
      action: 'block',
      stages: ['output'],
      config: { keywords: ['TOPSECRET'] },
    });
    await attach(mask, 'model', modelId);
    await attach(block, 'model', modelId);

    const masked = await client.chat.completions.create({
      model: 'g-out',
      stream: true,
      messages: [{ role: 'user', content: 'write bob@example.org please' }],
    });
    let text = '';
    for await (const chunk of masked) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toContain('[EMAIL]');
    expect(text).not.toContain('bob@example.org');

    let received = '';
    const blocked = async () => {
      const stream = await client.chat.completions.create({
        model: 'g-out',
        stream: true,
        messages: [{ role: 'user', content: 'say TOPSECRET now' }],
      });
      for await (const chunk of stream) received += chunk.choices[0]?.delta?.content ?? '';
    };
    const err = await blocked().catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.message).toContain('blocked by guardrail');
    expect(received).not.toContain('TOPSECRET');
    const rows = await auditOf('guardrail.block', block);
    expect(rows[0].after).toMatchObject({ stage: 'output', rule: 'keyword:0' });
    expect(JSON.stringify(rows)).not.toContain('TOPSECRET');
  });

  it('masks a stream of an Anthropic upstream passed through to an Anthropic client', async () => {
    const claude = await createProvider(ts, {
      name: 'claude',
      type: 'anthropic',
      base_url: upstream.baseUrl,
    });
    const modelId = await createModel(ts, {
      name: 'g-claude',
      targets: [{ provider_id: claude, upstream_model: 'fake-claude' }],
    });
    const mask = await guardrail({ name: 'claude-pii', kind: 'pii', action: 'mask', stages: ['output'] });
    await attach(mask, 'model', modelId);
    const res = await v1(
      ts,
      key,
      '/messages',
      {
        model: 'g-claude',
        max_tokens: 16,
        stream: true,
        messages: [{ role: 'user', content: 'dave@example.com is here' }],
      },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(res.status).toBe(200);
    expect(res.text).toContain('event: message_stop');
    expect(res.text).not.toContain('dave@example.com');
    const text = res.text
      .split('\n')
      .filter((l) => l.startsWith('data: ') && l.includes('text_delta'))
      .map((l) => JSON.parse(l.slice(6)).delta.text)
      .join('');
    expect(text).toContain('[EMAIL]');
  });

  it('blocks a non-stream answer too, metered as rejected', async () => {
    const res = await client.chat.completions
      .create({ model: 'g-out', messages: [{ role: 'user', content: 'TOPSECRET again' }] })
      .withResponse()
      .catch((e) => e);
    expect(res).toBeInstanceOf(OpenAI.BadRequestError);
    const row = await usageFor(ts, res.requestID ?? res.headers?.get('x-request-id'));
    expect(row).toMatchObject({ outcome: 'rejected', errorCode: 'content_policy_violation' });
  });
});

describe('moderation model', () => {
  let guard: string;
  beforeAll(async () => {
    await model('g-moderator', 'fake-mod');
    const modelId = await model('g-mod');
    guard = await guardrail({
      name: 'moderation',
      kind: 'moderation',
      action: 'block',
      stages: ['input'],
      config: { model: 'g-moderator' },
    });
    await attach(guard, 'model', modelId);
  });

  it('passes what the model calls safe and blocks what it calls unsafe', async () => {
    // the fake upstream echoes: its verdict is the prompt's first word
    expect((await ask('g-mod', 'safe question')).choices[0]!.message.content).toContain('question');
    const err = await ask('g-mod', 'unsafe question').catch((e) => e);
    expect(err.code).toBe('content_policy_violation');
    expect(err.message).toContain('moderation:unsafe');
  });

  it('fails closed when the moderation model errors, and open only when the guardrail says so', async () => {
    upstream.setFaults({ model: 'fake-mod', status: 500 });
    try {
      const err = await ask('g-mod', 'safe question').catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect(err.status).toBe(503);
      expect(err.code).toBe('guardrail_unavailable');
      await auditOf('guardrail.block', guard, (r) => r.after.outcome === 'failed_closed');
      const patched = await ts.admin.patch(`/api/v1/guardrails/${guard}`, { fail_open: true });
      expect(patched.status).toBe(200);
      expect((await ask('g-mod', 'safe question')).choices[0]!.message.content).toContain('question');
      await auditOf('guardrail.error', guard);
    } finally {
      upstream.setFaults(null);
    }
  });
});

describe('tenancy', () => {
  it("another org can neither read, change nor attach this org's guardrails, nor attach to its models", async () => {
    const mine = await guardrail({ name: 'mine', kind: 'pii', action: 'log' });
    const myModel = await model('g-tenant');
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Hostile' });
    const b = ts.client();
    await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    expect((await b.get(`/api/v1/guardrails/${mine}`)).status).toBe(404);
    expect((await b.patch(`/api/v1/guardrails/${mine}`, { enabled: false })).status).toBe(404);
    expect((await b.delete(`/api/v1/guardrails/${mine}`)).status).toBe(404);
    expect(
      (await b.post(`/api/v1/guardrails/${mine}/attachments`, { target_type: 'model', target_id: myModel }))
        .status,
    ).toBe(404);
    const theirs = await guardrail({ name: 'theirs', kind: 'pii', action: 'block' }, b);
    const onMine = await b.post(`/api/v1/guardrails/${theirs}/attachments`, {
      target_type: 'model',
      target_id: myModel,
    });
    expect(onMine.status).toBe(404);
    const onMyKey = await b.post(`/api/v1/guardrails/${theirs}/attachments`, {
      target_type: 'key',
      target_id: keyId,
    });
    expect(onMyKey.status).toBe(404);
    expect(JSON.stringify((await b.get('/api/v1/guardrails')).body)).not.toContain(mine);
    const bad = await b.post('/api/v1/guardrails', { name: 'x', kind: 'pii', action: 'explode' });
    expect(bad.status).toBe(400);
  });
});
