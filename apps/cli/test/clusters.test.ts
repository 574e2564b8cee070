import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKubeApi, startFakeKubeApi } from '../../server/test/support/fake-kube-api.ts';
import { cliWith } from './support/cli.ts';

/** `maas clusters` against a real server: the token goes in by file or environment, never comes back. */
let ts: TestServer;
let kube: FakeKubeApi;
const cli = cliWith();
const maas = cli.run;

beforeAll(async () => {
  [ts, kube] = await Promise.all([startTestServer(), startFakeKubeApi()]);
  const login = await maas(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin'], {
    input: `${ADMIN_PASSWORD}\n`,
  });
  if (login.code !== 0) throw new Error(login.stderr);
});
afterAll(async () => {
  await ts?.close();
  await kube?.close();
});

describe('maas clusters', () => {
  it('registers a cluster with the token from the environment and never prints it', async () => {
    const ca = join(cli.configDir, 'ca.crt');
    writeFileSync(ca, kube.ca);
    const created = await maas(
      [
        'clusters',
        'create',
        'gpu-pool',
        '--api-server',
        kube.url,
        '--namespace',
        'models',
        '--ca-file',
        ca,
        '--token-env',
        'KUBE_TOKEN',
        '--model-pvc',
        'models',
        '--toleration',
        'nvidia.com/gpu=NoSchedule',
        '-o',
        'json',
      ],
      { env: { KUBE_TOKEN: kube.token } },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({
      name: 'gpu-pool',
      ca_cert: true,
      model_volume: { kind: 'pvc', claim_name: 'models', mount_path: '/models' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    const shown = await maas(['clusters', 'get', 'gpu-pool']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('stored (encrypted)');
    const listed = await maas(['clusters', 'ls', '-o', 'json']);
    for (const out of [created.stdout, shown.stdout, listed.stdout]) expect(out).not.toContain(kube.token);
  });

  it('has no way to pass the token on the command line, and needs one', async () => {
    const argv = await maas([
      'clusters',
      'create',
      'x',
      '--api-server',
      kube.url,
      '--namespace',
      'm',
      '--token',
      't',
    ]);
    expect(argv.code).toBe(2);
    const none = await maas(['clusters', 'create', 'x', '--api-server', kube.url, '--namespace', 'm']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--token-file, --token-env or --token-stdin/);
  });

  it('rotates the token from a file', async () => {
    const file = join(cli.configDir, 'sa.token');
    writeFileSync(file, `${kube.token}\n`);
    const rotated = await maas(['clusters', 'update', 'gpu-pool', '--token-file', file, '-o', 'json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).not.toContain(kube.token);
  });

  it('removes a cluster', async () => {
    expect((await maas(['clusters', 'rm', 'gpu-pool', '--yes'])).code).toBe(0);
    expect((await maas(['clusters', 'ls', '-o', 'json'])).json()).toEqual([]);
  });
});
