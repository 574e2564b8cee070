import { ADMIN_EMAIL, ADMIN_PASSWORD, type ApiClient, type TestServer } from '@maas/testkit';

export interface HostileTenant {
  orgId: string;
  /** the platform admin, logged into the tenant's org */
  platformAdmin: ApiClient;
  /** an org operator (not a platform admin) */
  operator: ApiClient;
  /** an API key with admin:write */
  writeKey: ApiClient;
  /** an API key with admin:read only */
  readKey: ApiClient;
}

/** A second org with an operator user and API keys, as a hostile tenant would hold them. */
export async function hostileTenant(ts: TestServer, slug: string): Promise<HostileTenant> {
  const org = await ts.admin.post('/api/v1/orgs', { name: `Hostile ${slug}` });
  if (org.status !== 201) throw new Error(`org: ${org.status} ${JSON.stringify(org.body)}`);
  const platformAdmin = ts.client();
  await platformAdmin.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const email = `operator@${slug}.test`;
  const password = 'operator-password-for-security-tests';
  const user = await platformAdmin.post('/api/v1/users', { email, password, role: 'operator' });
  if (user.status !== 201) throw new Error(`user: ${user.status} ${JSON.stringify(user.body)}`);
  const operator = ts.client();
  await operator.login(email, password);
  const project = await platformAdmin.post('/api/v1/projects', { name: `${slug}-project` });
  const key = async (scopes: string[]) => {
    const res = await platformAdmin.post('/api/v1/keys', {
      name: `${slug}-${scopes.join('-')}`,
      project_id: project.body.id,
      scopes,
    });
    if (res.status !== 201) throw new Error(`key: ${res.status} ${JSON.stringify(res.body)}`);
    return ts.client(res.body.key);
  };
  return {
    orgId: org.body.id,
    platformAdmin,
    operator,
    writeKey: await key(['admin:write']),
    readKey: await key(['admin:read']),
  };
}
