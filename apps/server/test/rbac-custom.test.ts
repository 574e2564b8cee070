import { type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The role matrix, continued: custom roles made of named permissions, roles in single projects,
 * API keys bounded by their creator, and a hostile tenant trying other orgs' ids.
 */
let ts: TestServer;
let orgId: string;
let owner: ApiClient;
let other: ApiClient;
const as: Record<'viewer' | 'operator' | 'admin' | 'dana' | 'eve' | 'fay', ApiClient> = {} as never;
const userIds: Record<string, string> = {};
const membershipIds: Record<string, string> = {};
let projectX: string;
let projectY: string;
let otherProject: string;

const put = (c: ApiClient, path: string, body: unknown) => c.request('PUT', path, body);

async function member(orgAdmin: ApiClient, email: string, role: string) {
  const created = await orgAdmin.post('/api/v1/users', { email, password: `${email}-password`, role });
  expect(created.status).toBe(201);
  const c = ts.client();
  await c.login(email, `${email}-password`);
  userIds[email] = created.body.id;
  const m = (await orgAdmin.get('/api/v1/memberships')).body.data.find(
    (x: { email: string }) => x.email === email,
  );
  membershipIds[email] = m.id;
  return c;
}

beforeAll(async () => {
  ts = await startTestServer();
  orgId = (await ts.admin.post('/api/v1/orgs', { name: 'Custom Roles' })).body.id;
  const otherOrg = (await ts.admin.post('/api/v1/orgs', { name: 'Hostile' })).body.id;
  owner = ts.client();
  await owner.login('admin@localhost', 'admin-password-for-tests', orgId);
  other = ts.client();
  await other.login('admin@localhost', 'admin-password-for-tests', otherOrg);
  as.viewer = await member(owner, 'viewer@custom.test', 'viewer');
  as.operator = await member(owner, 'operator@custom.test', 'operator');
  as.admin = await member(owner, 'admin@custom.test', 'admin');
  as.dana = await member(owner, 'dana@custom.test', 'viewer');
  as.eve = await member(owner, 'eve@custom.test', 'viewer');
  as.fay = await member(owner, 'fay@custom.test', 'viewer');
  projectX = (await owner.post('/api/v1/projects', { name: 'x' })).body.id;
  projectY = (await owner.post('/api/v1/projects', { name: 'y' })).body.id;
  otherProject = (await other.post('/api/v1/projects', { name: 'theirs' })).body.id;
});
afterAll(async () => {
  await ts?.close();
});

describe('the permission catalogue', () => {
  it('is served and every admin operation names its permission in the OpenAPI document', async () => {
    const catalogue = await as.viewer.get('/api/v1/permissions');
    expect(catalogue.status).toBe(200);
    const names = catalogue.body.data.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(['keys:write', 'deployments:write', 'usage:read']));
    const doc = (await ts.admin.get('/openapi.json')).body;
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(
      doc.paths as Record<string, Record<string, Record<string, unknown>>>,
    )) {
      if (!path.startsWith('/api/v1/') || path.startsWith('/api/v1/async/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        if (!op['x-maas-permission']) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing).toEqual([]);
    expect(doc.paths['/api/v1/keys'].post['x-maas-permission']).toBe('keys:write');
    expect(doc.paths['/api/v1/deployments/{id}'].delete['x-maas-permission']).toBe('deployments:write');
    expect(doc.paths['/api/v1/orgs/{id}'].delete['x-maas-permission']).toBe('org:delete');
  });

  it('lists the built-in roles as templates that cannot be changed', async () => {
    const list = await as.viewer.get('/api/v1/roles');
    expect(
      list.body.data.filter((r: { built_in: boolean }) => r.built_in).map((r: { id: string }) => r.id),
    ).toEqual(['owner', 'admin', 'operator', 'viewer']);
    const viewer = list.body.data.find((r: { id: string }) => r.id === 'viewer');
    expect(viewer.permissions.every((p: string) => p.endsWith(':read'))).toBe(true);
    expect((await owner.patch('/api/v1/roles/admin', { permissions: [] })).status).toBe(422);
    expect((await owner.delete('/api/v1/roles/viewer')).status).toBe(422);
  });
});

describe('custom roles', () => {
  let keyManager: string;

  it('are created only by those holding roles:write, with permissions they hold themselves', async () => {
    const body = { name: 'key manager', permissions: ['keys:read', 'keys:write', 'projects:read'] };
    expect((await as.viewer.post('/api/v1/roles', body)).status).toBe(403);
    expect((await as.operator.post('/api/v1/roles', body)).status).toBe(403);
    const escalate = await as.admin.post('/api/v1/roles', {
      name: 'god',
      permissions: ['org:delete', 'keys:read'],
    });
    expect(escalate.status).toBe(403);
    expect(escalate.body.error.details.missing).toEqual(['org:delete']);
    const created = await as.admin.post('/api/v1/roles', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ built_in: false, name: 'key manager' });
    keyManager = created.body.id;
    expect((await as.admin.post('/api/v1/roles', body)).status).toBe(409);
    expect((await as.admin.post('/api/v1/roles', { name: 'admin', permissions: [] })).status).toBe(409);
    expect((await as.admin.post('/api/v1/roles', { name: 'x', permissions: ['keys:fly'] })).status).toBe(400);
  });

  it('replace the built-in role of a member who gets one', async () => {
    expect(
      (
        await as.operator.patch(`/api/v1/memberships/${membershipIds['eve@custom.test']}`, {
          role_id: keyManager,
        })
      ).status,
    ).toBe(403);
    const set = await as.admin.patch(`/api/v1/memberships/${membershipIds['eve@custom.test']}`, {
      role_id: keyManager,
    });
    expect(set.status).toBe(200);
    expect(set.body.custom_role).toEqual({ id: keyManager, name: 'key manager' });
    expect((await as.eve.get(`/api/v1/keys?project_id=${projectY}`)).status).toBe(200);
    const key = await as.eve.post('/api/v1/keys', {
      name: 'eve',
      project_id: projectY,
      scopes: ['inference'],
    });
    expect(key.status).toBe(201);
    expect((await as.eve.get('/api/v1/providers')).status).toBe(403);
    expect((await as.eve.get('/api/v1/audit-events')).status).toBe(403);
    expect((await as.eve.post('/api/v1/projects', { name: 'nope' })).status).toBe(403);
    expect((await as.eve.post('/api/v1/roles', { name: 'mine', permissions: ['keys:read'] })).status).toBe(
      403,
    );
    const mine = await as.eve.get('/api/v1/me/permissions');
    expect(mine.body.org_role).toEqual({ id: keyManager, name: 'key manager' });
    expect(mine.body.org).toEqual(['projects:read', 'keys:read', 'keys:write']);
  });

  it('let a member manager hand out only what it holds itself', async () => {
    const people = await as.admin.post('/api/v1/roles', {
      name: 'people',
      permissions: ['members:read', 'members:write', 'roles:read'],
    });
    expect(people.status).toBe(201);
    const m = membershipIds['fay@custom.test'];
    expect((await as.admin.patch(`/api/v1/memberships/${m}`, { role_id: people.body.id })).status).toBe(200);
    const invite = { email: 'new@custom.test', password: 'new-password-123', role: 'operator' };
    const refused = await as.fay.post('/api/v1/users', invite);
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.missing).toContain('keys:write');
    expect(
      (await as.fay.post('/api/v1/memberships', { email: 'new@custom.test', role: 'admin' })).status,
    ).toBe(403);
    const invited = await as.fay.post('/api/v1/invitations', { email: 'new@custom.test', role: 'admin' });
    expect(invited.status).toBe(403);
    expect(invited.body.error.details.missing).toContain('keys:write');
    expect(
      (await as.fay.patch(`/api/v1/memberships/${membershipIds['eve@custom.test']}`, { role: 'admin' }))
        .status,
    ).toBe(403);
    expect((await as.fay.patch(`/api/v1/memberships/${m}`, { role_id: keyManager })).status).toBe(403);
    expect((await as.fay.get(`/api/v1/users/${userIds['eve@custom.test']}/permissions`)).status).toBe(200);
    expect((await as.admin.patch(`/api/v1/memberships/${m}`, { role: 'viewer' })).status).toBe(200);
  });

  it('cannot be widened beyond the editor, and are deleted only when no longer assigned', async () => {
    expect(
      (await as.admin.patch(`/api/v1/roles/${keyManager}`, { permissions: ['org:delete'] })).status,
    ).toBe(403);
    const widened = await as.admin.patch(`/api/v1/roles/${keyManager}`, {
      permissions: ['keys:read', 'keys:write', 'projects:read', 'usage:read'],
    });
    expect(widened.status).toBe(200);
    expect((await as.eve.get('/api/v1/usage')).status).toBe(200);
    expect((await as.admin.delete(`/api/v1/roles/${keyManager}`)).status).toBe(409);
    const back = await as.admin.patch(`/api/v1/memberships/${membershipIds['eve@custom.test']}`, {
      role: 'viewer',
    });
    expect(back.status).toBe(200);
    expect(back.body.custom_role).toBeNull();
    expect((await as.eve.get('/api/v1/providers')).status).toBe(200);
    expect((await as.eve.post('/api/v1/keys', { name: 'e2', project_id: projectY })).status).toBe(403);
    expect((await as.admin.delete(`/api/v1/roles/${keyManager}`)).status).toBe(204);
  });

  it('of another org are not found, and ours are not theirs to use', async () => {
    const ours = (await owner.post('/api/v1/roles', { name: 'ours', permissions: ['keys:read'] })).body.id;
    expect((await other.get(`/api/v1/roles/${ours}`)).status).toBe(404);
    expect((await other.patch(`/api/v1/roles/${ours}`, { name: 'stolen' })).status).toBe(404);
    expect((await other.delete(`/api/v1/roles/${ours}`)).status).toBe(404);
    const theirMember = (await other.get('/api/v1/memberships')).body.data[0].id;
    expect((await other.patch(`/api/v1/memberships/${theirMember}`, { role_id: ours })).status).toBe(404);
    expect(
      (
        await put(other, `/api/v1/projects/${projectX}/members/${userIds['dana@custom.test']}`, {
          role: 'operator',
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await put(owner, `/api/v1/projects/${otherProject}/members/${userIds['dana@custom.test']}`, {
          role: 'operator',
        })
      ).status,
    ).toBe(404);
    expect((await other.get(`/api/v1/users/${userIds['dana@custom.test']}/permissions`)).status).toBe(404);
  });
});

describe('project roles', () => {
  let keyInY: string;

  it('are set only by those who manage members, never beyond their own permissions', async () => {
    const dana = userIds['dana@custom.test'];
    expect(
      (await put(as.viewer, `/api/v1/projects/${projectX}/members/${dana}`, { role: 'operator' })).status,
    ).toBe(403);
    expect(
      (await put(as.operator, `/api/v1/projects/${projectX}/members/${dana}`, { role: 'operator' })).status,
    ).toBe(403);
    expect(
      (await put(as.admin, `/api/v1/projects/${projectX}/members/${dana}`, { role: 'owner' })).status,
    ).toBe(422);
    expect(
      (await put(as.admin, `/api/v1/projects/${projectX}/members/usr_nobody`, { role: 'viewer' })).status,
    ).toBe(404);
    const set = await put(as.admin, `/api/v1/projects/${projectX}/members/${dana}`, { role: 'operator' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ user_id: dana, role: { id: 'operator' } });
    const list = await as.viewer.get(`/api/v1/projects/${projectX}/members`);
    expect(list.body.data.map((m: { email: string }) => m.email)).toEqual(['dana@custom.test']);
  });

  it('let a viewer of the org write in that project only', async () => {
    expect((await as.dana.patch(`/api/v1/projects/${projectX}`, { description: 'mine' })).status).toBe(200);
    expect((await as.dana.patch(`/api/v1/projects/${projectY}`, { description: 'not mine' })).status).toBe(
      403,
    );
    const inX = await as.dana.post('/api/v1/keys', {
      name: 'dana-x',
      project_id: projectX,
      scopes: ['admin:write'],
    });
    expect(inX.status).toBe(201);
    expect((await as.dana.post('/api/v1/keys', { name: 'dana-y', project_id: projectY })).status).toBe(403);
    keyInY = (await owner.post('/api/v1/keys', { name: 'owner-y', project_id: projectY })).body.id;
    expect((await as.dana.delete(`/api/v1/keys/${keyInY}`)).status).toBe(403);
    expect((await as.dana.post('/api/v1/projects', { name: 'new' })).status).toBe(403);

    const effective = await as.viewer.get(`/api/v1/users/${userIds['dana@custom.test']}/permissions`);
    expect(effective.status).toBe(200);
    expect(effective.body.org_role).toEqual({ id: 'viewer', name: 'viewer' });
    expect(effective.body.projects).toEqual([
      {
        project_id: projectX,
        permissions: ['projects:write', 'keys:write', 'limits:write', 'knowledge:write'],
      },
    ]);
    const keysWrite = effective.body.permissions.find((p: { name: string }) => p.name === 'keys:write');
    expect(keysWrite.sources).toEqual([
      { kind: 'project_role', project_id: projectX, role: 'operator', role_id: null },
    ]);
    const keysRead = effective.body.permissions.find((p: { name: string }) => p.name === 'keys:read');
    expect(keysRead.sources[0]).toEqual({ kind: 'org_role', role: 'viewer', role_id: null });
  });

  it("bind a project's API key to that project and to its creator's current permissions", async () => {
    const secret = (
      await as.dana.post('/api/v1/keys', {
        name: 'dana-admin',
        project_id: projectX,
        scopes: ['admin:write', 'inference'],
      })
    ).body.key;
    const key = ts.client(secret);
    expect((await key.get(`/api/v1/keys?project_id=${projectX}`)).status).toBe(200);
    expect((await key.post('/api/v1/keys', { name: 'by-key', project_id: projectX })).status).toBe(201);
    expect((await key.post('/api/v1/keys', { name: 'by-key', project_id: projectY })).status).toBe(403);
    expect((await key.get(`/api/v1/keys?project_id=${projectY}`)).status).toBe(403);
    expect((await key.delete(`/api/v1/keys/${keyInY}`)).status).toBe(403);
    expect((await key.patch(`/api/v1/projects/${projectY}`, { description: 'via key' })).status).toBe(403);
    // dana is only a viewer of the org: her admin:write key writes nothing outside her project role
    expect((await key.delete('/api/v1/providers/prv_0000000000000000000000000')).status).toBe(403);
    expect((await key.post('/api/v1/roles', { name: 'by-key', permissions: [] })).status).toBe(403);

    expect(
      (await as.admin.delete(`/api/v1/projects/${projectX}/members/${userIds['dana@custom.test']}`)).status,
    ).toBe(204);
    expect((await key.post('/api/v1/keys', { name: 'after', project_id: projectX })).status).toBe(403);
    expect((await key.get(`/api/v1/keys?project_id=${projectX}`)).status).toBe(200);
    expect((await as.dana.patch(`/api/v1/projects/${projectX}`, { description: 'gone' })).status).toBe(403);
  });
});
