import { type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The role matrix: viewer reads only; operator writes resources but cannot manage members;
 * admin manages members but cannot delete the org; only an owner deletes an org.
 */
type Role = 'owner' | 'admin' | 'operator' | 'viewer';
const roles: Role[] = ['owner', 'admin', 'operator', 'viewer'];

let ts: TestServer;
let orgId: string;
const as: Record<Role, ApiClient> = {} as Record<Role, ApiClient>;

beforeAll(async () => {
  ts = await startTestServer();
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Matrix' });
  orgId = org.body.id;
  const owner = ts.client();
  await owner.login('admin@localhost', 'admin-password-for-tests', orgId);
  as.owner = owner;
  for (const role of ['admin', 'operator', 'viewer'] as const) {
    const created = await owner.post('/api/v1/users', {
      email: `${role}@matrix.test`,
      password: `${role}-password`,
      role,
    });
    expect(created.status).toBe(201);
    const c = ts.client();
    await c.login(`${role}@matrix.test`, `${role}-password`);
    as[role] = c;
  }
});
afterAll(async () => {
  await ts?.close();
});

const allowed = (role: Role, who: Role[]) => who.includes(role);

describe.each(roles)('%s', (role) => {
  it('reads every resource list', async () => {
    for (const path of [
      '/api/v1/projects',
      '/api/v1/users',
      '/api/v1/memberships',
      '/api/v1/audit-events',
      `/api/v1/orgs/${orgId}`,
    ]) {
      expect((await as[role].get(path)).status, path).toBe(200);
    }
  });

  it('creates, renames and deletes projects only if it may write', async () => {
    const ok = allowed(role, ['owner', 'admin', 'operator']);
    const created = await as[role].post('/api/v1/projects', { name: `p-${role}` });
    expect(created.status).toBe(ok ? 201 : 403);
    if (!ok) {
      expect(created.body.error.code).toBe('forbidden');
      return;
    }
    expect((await as[role].patch(`/api/v1/projects/${created.body.id}`, { description: 'x' })).status).toBe(
      200,
    );
    expect((await as[role].delete(`/api/v1/projects/${created.body.id}`)).status).toBe(204);
  });

  it('manages members only as admin or owner', async () => {
    const ok = allowed(role, ['owner', 'admin']);
    const created = await as[role].post('/api/v1/users', {
      email: `new-by-${role}@matrix.test`,
      password: 'password-123',
      role: 'viewer',
    });
    expect(created.status).toBe(ok ? 201 : 403);
    const memberships = (await as.owner.get('/api/v1/memberships')).body.data;
    const viewer = memberships.find((m: { email: string }) => m.email === 'viewer@matrix.test');
    const promote = await as[role].patch(`/api/v1/memberships/${viewer.id}`, { role: 'viewer' });
    expect(promote.status).toBe(ok ? 200 : 403);
  });

  it('grants the owner role only as an owner', async () => {
    const target = (await as.owner.get('/api/v1/memberships')).body.data.find(
      (m: { email: string }) => m.email === 'operator@matrix.test',
    );
    const res = await as[role].patch(`/api/v1/memberships/${target.id}`, { role: 'owner' });
    expect(res.status).toBe(role === 'owner' ? 200 : 403);
    if (role === 'owner') await as.owner.patch(`/api/v1/memberships/${target.id}`, { role: 'operator' });
  });

  it('renames the org only as admin or owner', async () => {
    const res = await as[role].patch(`/api/v1/orgs/${orgId}`, { name: `Matrix by ${role}` });
    expect(res.status).toBe(allowed(role, ['owner', 'admin']) ? 200 : 403);
  });

  it('cannot delete the org unless owner', async () => {
    if (role === 'owner') return;
    expect((await as[role].delete(`/api/v1/orgs/${orgId}`)).status).toBe(403);
  });
});

describe('org deletion', () => {
  it('is done by an owner, removes the org and is audited in its chain', async () => {
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Doomed' });
    const owner = ts.client();
    await owner.login('admin@localhost', 'admin-password-for-tests', org.body.id);
    expect((await owner.delete(`/api/v1/orgs/${org.body.id}`)).status).toBe(204);
    expect((await owner.get('/api/v1/projects')).status).toBe(401);
    const again = ts.client();
    await expect(again.login('admin@localhost', 'admin-password-for-tests', org.body.id)).rejects.toThrow(
      /403/,
    );
  });

  it('is refused to a non-platform-admin creating orgs', async () => {
    expect((await as.admin.post('/api/v1/orgs', { name: 'Nope' })).status).toBe(403);
  });
});
