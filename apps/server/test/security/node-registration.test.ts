import { startTestServer, type TestServer } from '@maas/testkit';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/modules/audit/schema.ts';
import { joinTokens } from '../../src/modules/fleet/schema.ts';
import { spawnAgent } from '../support/fleet-agents.ts';

/**
 * Item 7 of the tenant boundary, played by a hostile node: join tokens are single-use (or
 * count-limited) and always expire; a node that exists is taken over only with its own
 * credential, the server's local node never; every use and refusal is audited.
 */
let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

const newToken = async (body: Record<string, unknown> = {}) => {
  const res = await ts.admin.post('/api/v1/join-tokens', { name: 'reg', ...body });
  expect(res.status).toBe(201);
  return res.body as { id: string; token: string; max_uses: number | null; expires_at: string | null };
};

const register = async (body: Record<string, unknown>) => {
  const res = await fetch(`${ts.url}/api/v1/agent/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hostname: 'h', ...body }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

const desiredWith = (nodeToken: string) =>
  fetch(`${ts.url}/api/v1/agent/desired`, { headers: { authorization: `Bearer ${nodeToken}` } });

describe('join tokens', () => {
  it('are single-use and expire after 24 h unless the admin says otherwise', async () => {
    const t = await newToken();
    expect(t.max_uses).toBe(1);
    const ttl = Date.parse(t.expires_at!) - Date.now();
    expect(ttl).toBeGreaterThan(23.9 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3_600_000);
    expect((await register({ join_token: t.token, name: 'single-1' })).status).toBe(200);
    const again = await register({ join_token: t.token, name: 'single-2' });
    expect(again.status).toBe(401);
    expect(again.body.error.message).toMatch(/used up \(1 of 1 uses\)/);
  });

  it('admit as many nodes as max_uses says, then refuse', async () => {
    const t = await newToken({ max_uses: 2 });
    for (const name of ['count-1', 'count-2'])
      expect((await register({ join_token: t.token, name })).status).toBe(200);
    const third = await register({ join_token: t.token, name: 'count-3' });
    expect(third.status).toBe(401);
    expect(third.body.error.message).toMatch(/used up \(2 of 2 uses\)/);
  });

  it('refuse once expired, revoked or unknown, with a message that says which', async () => {
    const t = await newToken({ expires_in_seconds: 3_600, max_uses: 5 });
    // An hour passes (for this token).
    await ts.server.services.database.db
      .update(joinTokens)
      .set({ expiresAt: new Date(Date.now() - 1_000) })
      .where(eq(joinTokens.id, t.id));
    const expired = await register({ join_token: t.token, name: 'late' });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toMatch(/expired at/);

    const r = await newToken();
    expect((await ts.admin.delete(`/api/v1/join-tokens/${r.id}`)).status).toBe(204);
    const revoked = await register({ join_token: r.token, name: 'late' });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.message).toMatch(/was revoked/);

    const unknown = await register({ join_token: 'maas-join-guessed', name: 'late' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.message).toBe('unknown join token');
  });

  it('a token created before expiries were required lapses 24 h after its creation', async () => {
    const t = await newToken({ max_uses: 5 });
    await ts.server.services.database.db
      .update(joinTokens)
      .set({ expiresAt: null, createdAt: new Date(Date.now() - 25 * 3_600_000) })
      .where(eq(joinTokens.id, t.id));
    const res = await register({ join_token: t.token, name: 'legacy' });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/expired/);
  });

  it('bad registration bodies are 400, never 500', async () => {
    const t = await newToken();
    for (const body of [
      { join_token: t.token, name: '../etc' },
      { join_token: t.token, name: 'ok', node_token: 'x'.repeat(500) },
      { join_token: 5, name: 'ok' },
      { name: 'ok' },
    ])
      expect((await register(body)).status).toBe(400);
  });
});

describe('re-registering an existing node', () => {
  it('needs the node’s own credential: a valid join token alone is refused', async () => {
    const victim = await register({ join_token: (await newToken()).token, name: 'victim' });
    expect(victim.status).toBe(200);
    const victimToken = victim.body.node_token as string;

    const hostile = await register({ join_token: (await newToken()).token, name: 'victim' });
    expect(hostile.status).toBe(403);
    expect(hostile.body.error.message).toMatch(/registered already.*own node credential/);
    const wrong = await register({
      join_token: (await newToken()).token,
      name: 'victim',
      node_token: 'maas-node-not-the-victims',
    });
    expect(wrong.status).toBe(403);
    // The victim keeps its credential and its node.
    expect((await desiredWith(victimToken)).status).toBe(200);
    const nodes = (await ts.admin.get('/api/v1/nodes')).body.data as { id: string; name: string }[];
    expect(nodes.filter((n) => n.name === 'victim')).toEqual([
      expect.objectContaining({ id: victim.body.node_id }),
    ]);

    // The node itself may: with its credential it gets a new one, and the old one stops working.
    const own = await register({
      join_token: (await newToken()).token,
      name: 'victim',
      node_token: victimToken,
    });
    expect(own.status).toBe(200);
    expect(own.body.node_id).toBe(victim.body.node_id);
    expect((await desiredWith(victimToken)).status).toBe(401);
    expect((await desiredWith(own.body.node_token)).status).toBe(200);
  });

  it('a refused take-over does not use up the join token', async () => {
    const t = await newToken();
    expect((await register({ join_token: t.token, name: 'victim' })).status).toBe(403);
    expect((await register({ join_token: t.token, name: 'fresh-node' })).status).toBe(200);
  });

  it("the server's local node can never be registered by an agent", async () => {
    const agents = ts.server.services.fleet.agents;
    // A node that takes the local node's name first does not become the local node.
    const squatter = await register({ join_token: (await newToken()).token, name: 'squat-local' });
    expect(squatter.status).toBe(200);
    const local = await agents.ensureLocalNode('squat-local');
    expect(local.local).toBe(true);
    expect(local.id).not.toBe(squatter.body.node_id);
    expect(local.name).not.toBe('squat-local');

    const takeover = await register({ join_token: (await newToken()).token, name: local.name });
    expect(takeover.status).toBe(403);
    expect(takeover.body.error.message).toMatch(/server's own node/);
    // …even with a guessed credential
    const guessed = await register({
      join_token: (await newToken()).token,
      name: local.name,
      node_token: 'maas-node-anything',
    });
    expect(guessed.status).toBe(403);
  });

  it('a real agent with a join token cannot take over a registered node', async () => {
    const token = (await newToken()).token;
    await expect(
      spawnAgent(ts.url, token, 'victim', { ports: '32420-32429', extra: ['--heartbeat-ms', '200'] }),
    ).rejects.toThrow(/registered already/);
  });
});

describe('audit', () => {
  it('records every use of a join token and every refusal of a known one', async () => {
    const rows = await ts.server.services.database.db
      .select()
      .from(auditEvents)
      .where(
        inArray(auditEvents.action, [
          'join_token.use',
          'join_token.refused',
          'node.register_refused',
          'node.register',
          'node.reregister',
        ]),
      );
    const count = (action: string) => rows.filter((r) => r.action === action).length;
    expect(count('join_token.use')).toBeGreaterThanOrEqual(7);
    expect(count('join_token.use')).toBe(count('node.register') + count('node.reregister'));
    expect(count('node.reregister')).toBe(1);
    const refused = rows.filter((r) => r.action === 'join_token.refused').map((r) => r.after);
    expect(refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: 'is used up (1 of 1 uses)', node_name: 'single-2' }),
        expect.objectContaining({ reason: 'was revoked' }),
        expect.objectContaining({ reason: expect.stringMatching(/^expired at/) }),
      ]),
    );
    const takeovers = rows.filter((r) => r.action === 'node.register_refused').map((r) => r.after);
    expect(takeovers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: 'no node credential' }),
        expect.objectContaining({ reason: 'wrong node credential' }),
        expect.objectContaining({ reason: 'local node' }),
      ]),
    );
    // No secret reaches the audit trail.
    expect(JSON.stringify(rows)).not.toMatch(/maas-(join|node)-[A-Za-z0-9_-]{20,}/);
  });
});
