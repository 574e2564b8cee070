import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith } from './support/cli.ts';

/** maas roles and maas members role|permissions against a real server. */
let ts: TestServer;
const owner = cliWith();
const viewer = cliWith();

beforeAll(async () => {
  ts = await startTestServer();
  const login = await owner.run(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin'], {
    input: `${ADMIN_PASSWORD}\n`,
  });
  expect(login.code, login.stderr).toBe(0);
  await ts.admin.post('/api/v1/users', {
    email: 'vic@roles.test',
    password: 'vic-password-1',
    role: 'viewer',
  });
  const v = await viewer.run(['login', ts.url, '--email', 'vic@roles.test', '--password-stdin'], {
    input: 'vic-password-1\n',
  });
  expect(v.code, v.stderr).toBe(0);
  await ts.admin.post('/api/v1/projects', { name: 'search-app' });
});
afterAll(async () => {
  await ts?.close();
});

describe('maas roles', () => {
  it('lists the built-in roles and the permission catalogue', async () => {
    const ls = await owner.run(['roles', 'ls', '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.json().map((r: { id: string }) => r.id)).toEqual(['owner', 'admin', 'operator', 'viewer']);
    const table = await owner.run(['roles', 'permissions']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/keys:write\s+keys\s+operator/);
  });

  it('creates a custom role, refuses a viewer (exit 3) and an unknown permission (exit 5)', async () => {
    const create = [
      'roles',
      'create',
      'key manager',
      '--permissions',
      'keys:read,keys:write',
      '--permissions',
      'projects:read',
    ];
    const refused = await viewer.run(create);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^error: .*roles:write/);
    const made = await owner.run([...create, '-o', 'json']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json()).toMatchObject({
      name: 'key manager',
      permissions: ['projects:read', 'keys:read', 'keys:write'],
    });
    const bad = await owner.run(['roles', 'create', 'bad', '--permissions', 'keys:fly']);
    expect(bad.code).toBe(5);
  });

  it('gives a member a custom org role and a project role, and shows where each permission comes from', async () => {
    const org = await owner.run(['members', 'role', 'vic@roles.test', 'key manager']);
    expect(org.code, org.stderr).toBe(0);
    expect(org.stdout).toContain('vic@roles.test is key manager in the org');
    const project = await owner.run([
      'members',
      'role',
      'vic@roles.test',
      'operator',
      '--project',
      'search-app',
    ]);
    expect(project.code, project.stderr).toBe(0);
    const perms = await owner.run(['members', 'permissions', 'vic@roles.test', '-o', 'json']);
    expect(perms.code, perms.stderr).toBe(0);
    const body = perms.json();
    expect(body.org_role.name).toBe('key manager');
    expect(body.projects[0].permissions).toEqual([
      'projects:write',
      'limits:read',
      'limits:write',
      'usage:read',
      'knowledge:read',
      'knowledge:write',
    ]);
    const table = await owner.run(['members', 'permissions', 'vic@roles.test']);
    expect(table.stdout).toMatch(/keys:write\s+org: key manager/);
    expect(table.stdout).toMatch(/projects:write\s+prj_\w+: operator/);
  });

  it('removes a role only once nobody holds it', async () => {
    const inUse = await owner.run(['roles', 'rm', 'key manager', '--yes']);
    expect(inUse.code).toBe(5);
    expect((await owner.run(['members', 'role', 'vic@roles.test', 'viewer'])).code).toBe(0);
    expect(
      (await owner.run(['members', 'role', 'vic@roles.test', '--project', 'search-app', '--remove'])).code,
    ).toBe(0);
    const rm = await owner.run(['roles', 'rm', 'key manager', '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await owner.run(['roles', 'get', 'key manager'])).code).toBe(4);
    expect((await owner.run(['roles', 'rm', 'viewer', '--yes'])).code).toBe(5);
  });
});
