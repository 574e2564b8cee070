import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import { eq, isNull } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../src/modules/audit/schema.ts';
import { clusters } from '../src/modules/fleet/schema.ts';
import { type FakeKubeApi, type KubeRequest, startFakeKubeApi } from './support/fake-kube-api.ts';
import { eventually, replicasOf } from './support/fleet-agents.ts';
import { createKey } from './support/gateway-setup.ts';
import { validateKubeObject } from './support/kube-schemas.ts';

/**
 * Kubernetes as a placement target, against a local Kubernetes API server (no real one can be had
 * from Debian or npm here: see ./support/fake-kube-api.ts): a platform admin registers a cluster; a
 * deployment placed there is applied as Secret + Deployment + Service by server-side apply
 * (manifests validated against the Kubernetes schemas), its pods are read back into replicas
 * (Pending for lack of GPUs, CrashLoopBackOff, Ready), the gateway routes to the Service with the
 * replica credential from the Secret, scaling changes the Deployment and deleting removes it all.
 */
process.env.MAAS_FLEET_RECONCILE_MS = '100';
process.env.MAAS_REPLICA_DRAIN_MS = '0';
process.env.MAAS_KUBERNETES_SYNC_MS = '100';

let ts: TestServer;
let kube: FakeKubeApi;
let upstream: FakeUpstream;
let clusterId: string;

const applies = (kind: string) =>
  kube.requests.filter((r) => r.method === 'PATCH' && r.path.includes(`/${kind}/`));
const objectFor = (kind: 'secrets' | 'services' | 'deployments', depId: string) =>
  [...kube.store[kind].values()].find((o) => o.metadata.labels['maas.dev/deployment'] === depId);

beforeAll(async () => {
  upstream = await startFakeUpstream({ models: ['k8s-chat'] });
  kube = await startFakeKubeApi({ namespace: 'models' });
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
  await kube?.close();
  await upstream?.close();
});

const clusterBody = () => ({
  name: 'gpu-k8s',
  api_server: kube.url,
  ca_cert: kube.ca,
  token: kube.token,
  namespace: 'models',
  tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
  node_selector: { 'nvidia.com/gpu.present': 'true' },
  model_volume: { kind: 'pvc', claim_name: 'models' },
  // the gateway reaches the Service at its load balancer's address (here: the fake runtime)
  service_type: 'LoadBalancer',
  service_port: Number(new URL(upstream.url).port),
});

describe('clusters', () => {
  it('are registered by a platform admin; the token is sealed and never shown again', async () => {
    const res = await ts.admin.post('/api/v1/clusters', clusterBody());
    expect(res.status).toBe(201);
    clusterId = res.body.id;
    expect(clusterId).toMatch(/^kcl_/);
    expect(res.body).toMatchObject({
      name: 'gpu-k8s',
      namespace: 'models',
      gpu_resource: 'nvidia.com/gpu',
      ca_cert: true,
      images: {
        vllm: expect.stringMatching(/^vllm\/vllm-openai:/),
        sglang: expect.stringMatching(/^lmsys\/sglang:/),
      },
    });
    const seen = [
      res.body,
      (await ts.admin.get('/api/v1/clusters')).body,
      (await ts.admin.get(`/api/v1/clusters/${clusterId}`)).body,
      (await ts.admin.get('/api/v1/audit-events?limit=200')).body,
    ];
    for (const body of seen) expect(JSON.stringify(body)).not.toContain(kube.token);
    // the reconciler reaches the API server with the token and the pinned CA
    await eventually(
      async () => (await ts.admin.get(`/api/v1/clusters/${clusterId}`)).body.last_sync_at,
      10_000,
    );
    expect((await ts.admin.get(`/api/v1/clusters/${clusterId}`)).body.last_error).toBeNull();
    expect(kube.requests.every((r) => r.authorization === `Bearer ${kube.token}`)).toBe(true);
  });

  it('need an API server the outbound policy lets through (metadata addresses never)', async () => {
    const res = await ts.admin.post('/api/v1/clusters', {
      ...clusterBody(),
      name: 'meta',
      api_server: 'https://169.254.169.254:6443',
    });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/^api_server is .*metadata/);
  });

  it('record why a cluster cannot be reached (wrong CA), without the token', async () => {
    const other = await startFakeKubeApi();
    const res = await ts.admin.post('/api/v1/clusters', {
      ...clusterBody(),
      name: 'wrong-ca',
      api_server: kube.url,
      ca_cert: other.ca,
    });
    await other.close();
    expect(res.status).toBe(201);
    const seen = await eventually(
      async () => (await ts.admin.get(`/api/v1/clusters/${res.body.id}`)).body.last_error,
      10_000,
    );
    expect(seen).toMatch(/could not be reached/);
    expect(seen).not.toContain(kube.token);
    expect((await ts.admin.delete(`/api/v1/clusters/${res.body.id}`)).status).toBe(204);
  });
});

describe('a cluster’s token', () => {
  it('is rotated by a platform admin (audited without it); a wrong one shows as the cluster’s error', async () => {
    const wrong = await ts.admin.patch(`/api/v1/clusters/${clusterId}`, { token: 'not-the-token' });
    expect(wrong.status).toBe(200);
    expect(JSON.stringify(wrong.body)).not.toContain('not-the-token');
    await eventually(
      async () =>
        /answered 401/.test((await ts.admin.get(`/api/v1/clusters/${clusterId}`)).body.last_error ?? ''),
      10_000,
      'the 401 recorded',
    );
    expect((await ts.admin.patch(`/api/v1/clusters/${clusterId}`, { token: kube.token })).status).toBe(200);
    await eventually(
      async () => (await ts.admin.get(`/api/v1/clusters/${clusterId}`)).body.last_error === null,
      10_000,
      'reachable again',
    );
    // platform events (no org): read from the trail itself, with the sealed token beside them
    const db = ts.server.services.database.db;
    const audit = JSON.stringify(await db.select().from(auditEvents).where(isNull(auditEvents.orgId)));
    expect(audit).toContain('cluster.rotate_token');
    const [row] = await db.select().from(clusters).where(eq(clusters.id, clusterId));
    expect(row!.tokenSealed).not.toContain(kube.token);
    expect(audit).not.toContain('not-the-token');
    expect(audit).not.toContain(kube.token);
  });

  it('cannot be changed to a namespace (objects there would be orphaned)', async () => {
    expect((await ts.admin.patch(`/api/v1/clusters/${clusterId}`, { namespace: 'other' })).status).toBe(400);
  });
});

describe('a deployment placed on a cluster', () => {
  let depId: string;

  it('becomes a Secret, a Deployment and a Service by server-side apply, valid by the Kubernetes schemas', async () => {
    const res = await ts.admin.post('/api/v1/deployments', {
      model: 'k8s-chat',
      runtime: 'vllm',
      source: 'hf://org/tiny/tiny.gguf',
      replicas: 2,
      resources: { gpus: 2, gpu_memory_gib: 10 },
      parameters: { max_num_seqs: 16 },
      placement: { cluster: 'gpu-k8s' },
    });
    expect(res.status).toBe(201);
    depId = res.body.id;
    expect(res.body.placement.cluster).toBe(clusterId);
    await eventually(async () => objectFor('services', depId), 10_000, 'service applied');
    for (const kind of ['secrets', 'deployments', 'services']) {
      const [first] = applies(kind) as [KubeRequest];
      expect(first.contentType).toBe('application/apply-patch+yaml');
      expect(first.query).toMatchObject({ fieldManager: 'maas', force: 'true' });
      validateKubeObject(first.body);
    }
    const dep = objectFor('deployments', depId);
    expect(dep.spec.replicas).toBe(2);
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toMatch(/^vllm\/vllm-openai:/);
    // the vLLM preset's command line, as the agent builds it; the typed parameter became a flag
    expect(c.command).toEqual(['vllm']);
    expect(c.args.slice(0, 4)).toEqual(['serve', 'org/tiny', '--served-model-name', 'k8s-chat']);
    expect(c.args.join(' ')).toContain('--tensor-parallel-size 2');
    expect(c.args.join(' ')).toContain('--max-num-seqs 16');
    expect(c.resources).toEqual({ requests: { 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } });
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod.volumes).toContainEqual({
      name: 'models',
      persistentVolumeClaim: { claimName: 'models', readOnly: false },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    // the credential: in the Secret only; the runtime reads it from there
    const secret = objectFor('secrets', depId);
    const key = Buffer.from(secret.data['api-key'], 'base64').toString();
    expect(key).toMatch(/^maas-replica-/);
    expect(c.env).toContainEqual({
      name: 'VLLM_API_KEY',
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'api-key' } },
    });
    expect(JSON.stringify(dep)).not.toContain(key);
    expect(objectFor('services', depId).spec).toMatchObject({
      type: 'LoadBalancer',
      selector: { 'maas.dev/deployment': depId },
    });
  });

  it('shows pods that cannot be scheduled, then crash-looping pods, as the replicas’ reasons', async () => {
    const reasons = async () => (await replicasOf(ts.admin, depId)).map((r) => `${r.state}: ${r.reason}`);
    const pending = await eventually(
      async () => ((await reasons()).every((r) => /Insufficient nvidia.com\/gpu/.test(r)) ? reasons() : null),
      10_000,
      'pending reasons',
    );
    expect(pending).toHaveLength(2);
    expect(pending[0]).toMatch(/^pending|^starting/);
    kube.behave(() => 'crash');
    const crashing = await eventually(
      async () => ((await reasons()).every((r) => /CrashLoopBackOff/.test(r)) ? reasons() : null),
      10_000,
      'crash reasons',
    );
    expect(crashing[0]).toMatch(/^failed: pod maas-dep-.*CrashLoopBackOff \(last exit code 1, Error\)/);
    // nothing is routed to it meanwhile
    const key = await createKey(ts);
    const client = new OpenAI({ baseURL: `${ts.url}/v1`, apiKey: key, maxRetries: 0 });
    await expect(
      client.chat.completions.create({ model: 'k8s-chat', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toThrow();
  });

  it('runs once its pods are ready: the gateway reaches the Service with the Secret’s credential', async () => {
    kube.behave(() => 'ready');
    const running = await eventually(
      async () => {
        const list = await replicasOf(ts.admin, depId);
        return list.every((r) => r.state === 'running') ? list : null;
      },
      10_000,
      'running',
    );
    expect(running).toHaveLength(2);
    expect(running[0].endpoint).toBe(`${upstream.url}`);
    const key = await createKey(ts);
    const client = new OpenAI({ baseURL: `${ts.url}/v1`, apiKey: key, maxRetries: 0 });
    const answer = await eventually(
      () =>
        client.chat.completions
          .create({ model: 'k8s-chat', messages: [{ role: 'user', content: 'hi' }] })
          .catch(() => null),
      10_000,
      'a chat completion',
    );
    expect(answer.choices[0]!.message.content).toBeTruthy();
    const secret = objectFor('secrets', depId);
    const replicaKey = Buffer.from(secret.data['api-key'], 'base64').toString();
    const seen = upstream.requests.find((r) => r.path === '/v1/chat/completions')!;
    expect(seen.headers.authorization).toBe(`Bearer ${replicaKey}`);
  });

  it('reads, and does not apply again, while nothing changes', async () => {
    const before = kube.requests.length;
    const patches = kube.requests.filter((r) => r.method === 'PATCH').length;
    // two whole passes at least
    await eventually(
      async () =>
        kube.requests.slice(before).filter((r) => r.path === '/apis/apps/v1/namespaces/models/deployments')
          .length >= 2,
      10_000,
      'two passes',
    );
    const since = kube.requests.slice(before);
    expect(since.every((r) => r.method === 'GET')).toBe(true);
    expect(kube.requests.filter((r) => r.method === 'PATCH').length).toBe(patches);
    // each pass: the Service (for its address) and the pods, then the objects maas manages
    const paths = new Set(since.map((r) => r.path.replace(/maas-dep-[a-z0-9-]+/, 'NAME')));
    expect(paths).toEqual(
      new Set([
        '/api/v1/namespaces/models/services/NAME',
        '/api/v1/namespaces/models/pods',
        '/apis/apps/v1/namespaces/models/deployments',
      ]),
    );
    const pods = since.find((r) => r.path.endsWith('/pods'))!;
    expect(pods.query.labelSelector).toBe(`maas.dev/deployment=${depId}`);
  });

  it('scales the Kubernetes Deployment with the replica count', async () => {
    expect((await ts.admin.patch(`/api/v1/deployments/${depId}`, { replicas: 3 })).status).toBe(200);
    await eventually(async () => objectFor('deployments', depId)?.spec.replicas === 3, 10_000, 'scaled');
    await eventually(
      async () => (await replicasOf(ts.admin, depId)).filter((r) => r.state === 'running').length === 3,
      10_000,
      'three running',
    );
  });

  it('rolls a new version out through the Deployment’s rolling update; the gateway follows', async () => {
    const res = await ts.admin.patch(`/api/v1/deployments/${depId}`, {
      version: '2',
      parameters: { max_num_seqs: 32 },
    });
    expect(res.status).toBe(200);
    await eventually(
      async () => objectFor('deployments', depId)?.spec.template.metadata.labels['maas.dev/revision'] === '2',
      10_000,
      'template revision 2',
    );
    expect(objectFor('deployments', depId).spec.template.spec.containers[0].args.join(' ')).toContain(
      '--max-num-seqs 32',
    );
    const rolled = await eventually(
      async () => {
        const list = (await replicasOf(ts.admin, depId)).filter((r) => r.desired === 'run');
        return list.length === 3 && list.every((r) => r.version === '2' && r.state === 'running')
          ? list
          : null;
      },
      20_000,
      'three replicas of version 2 running',
    );
    expect(rolled).toHaveLength(3);
    const model = (await ts.admin.get('/api/v1/models')).body.data.find(
      (m: { name: string }) => m.name === 'k8s-chat',
    );
    const versions = (await ts.admin.get(`/api/v1/models/${model.id}`)).body.versions;
    expect(versions.find((v: { version: string }) => v.version === '2').traffic_weight).toBeGreaterThan(0);
    // one template per Deployment: no canary beside it
    const canary = await ts.admin.patch(`/api/v1/deployments/${depId}`, {
      version: '3',
      canary: { replicas: 1, weight: 10 },
    });
    expect(canary.status).toBe(422);
  });

  it('keeps the replicas’ state and says why when the cluster refuses a write (RBAC)', async () => {
    kube.forbid(['deployments']);
    expect((await ts.admin.patch(`/api/v1/deployments/${depId}`, { replicas: 2 })).status).toBe(200);
    const list = await eventually(
      async () => {
        const l = await replicasOf(ts.admin, depId);
        return l.some((r) => /Forbidden|forbidden/.test(r.reason ?? '')) ? l : null;
      },
      10_000,
      'forbidden reason',
    );
    expect(list.some((r) => r.state === 'running')).toBe(true);
    kube.forbid([]);
    await eventually(
      async () => objectFor('deployments', depId)?.spec.replicas === 2,
      10_000,
      'applied again',
    );
  });

  it('is removed from the cluster with the deployment', async () => {
    expect((await ts.admin.delete(`/api/v1/deployments/${depId}`)).status).toBe(202);
    await eventually(
      async () =>
        !objectFor('deployments', depId) && !objectFor('services', depId) && !objectFor('secrets', depId),
      10_000,
      'objects deleted',
    );
    await eventually(async () => (await ts.admin.get(`/api/v1/deployments/${depId}`)).status === 404, 10_000);
    expect(
      kube.requests.some(
        (r) => r.method === 'DELETE' && r.path.endsWith(`/deployments/maas-${depId.replace('_', '-')}`),
      ),
    ).toBe(true);
  });

  it('is dry-run against the cluster (its scheduler, not maas’s, places the pods)', async () => {
    const res = await ts.admin.post('/api/v1/deployments/evaluate', {
      model: 'dry',
      runtime: 'sglang',
      source: 'hf://org/tiny/tiny.gguf',
      replicas: 2,
      resources: { gpus: 1, gpu_memory_gib: 1 },
      placement: { cluster: 'gpu-k8s' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fits: true, replicas: 2, placements: [] });
    expect(res.body.reason).toMatch(/Kubernetes cluster "gpu-k8s"/);
    const refused = await ts.admin.post('/api/v1/deployments/evaluate', {
      model: 'dry',
      runtime: 'llama-cpp',
      source: 'hf://org/tiny/tiny.gguf',
      resources: { gpu_memory_gib: 1 },
      placement: { cluster: 'gpu-k8s' },
    });
    expect(refused.status).toBe(422);
  });

  it('is refused for runtimes and sources a cluster cannot run', async () => {
    const base = {
      model: 'nope',
      replicas: 1,
      resources: { gpu_memory_gib: 1 },
      placement: { cluster: 'gpu-k8s' },
    };
    const llama = await ts.admin.post('/api/v1/deployments', {
      ...base,
      runtime: 'llama-cpp',
      source: 'hf://org/tiny/tiny.gguf',
    });
    expect(llama.status).toBe(422);
    expect(llama.body.error.message).toBe('a Kubernetes cluster runs vllm and sglang, not llama-cpp');
    const url = await ts.admin.post('/api/v1/deployments', {
      ...base,
      runtime: 'vllm',
      source: 'https://example.com/m.gguf',
    });
    expect(url.status).toBe(422);
    const unknown = await ts.admin.post('/api/v1/deployments', {
      ...base,
      runtime: 'vllm',
      source: 'hf://org/tiny/tiny.gguf',
      placement: { cluster: 'no-such-cluster' },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.message).toBe('no cluster "no-such-cluster" is open to this deployment');
  });
});

describe('a tenant (org admin, not a platform admin)', () => {
  let tenant: ReturnType<TestServer['client']>;
  beforeAll(async () => {
    await ts.admin.post('/api/v1/users', {
      email: 'tenant@k8s.test',
      password: 'tenant-password',
      role: 'admin',
    });
    tenant = ts.client();
    await tenant.login('tenant@k8s.test', 'tenant-password');
  });

  it('cannot register, list, read or remove clusters, nor learn the token', async () => {
    expect((await tenant.post('/api/v1/clusters', { ...clusterBody(), name: 'mine' })).status).toBe(403);
    expect((await tenant.get('/api/v1/clusters')).status).toBe(403);
    const one = await tenant.get(`/api/v1/clusters/${clusterId}`);
    expect(one.status).toBe(404);
    expect(JSON.stringify(one.body)).not.toContain(kube.token);
    expect((await tenant.delete(`/api/v1/clusters/${clusterId}`)).status).toBe(404);
    expect((await tenant.patch(`/api/v1/clusters/${clusterId}`, { token: 'mine' })).status).toBe(404);
  });

  it('cannot choose the image, the command, a host path or free-form arguments', async () => {
    const base = {
      model: 't-chat',
      runtime: 'vllm',
      source: 'hf://org/tiny/tiny.gguf',
      resources: { gpu_memory_gib: 1 },
      placement: { cluster: 'gpu-k8s' },
    };
    const image = await tenant.post('/api/v1/deployments', { ...base, image: 'evil/miner:latest' });
    expect(image.status).toBe(400);
    expect((await tenant.post('/api/v1/deployments', { ...base, command: 'sh -c id' })).status).toBe(403);
    expect(
      (await tenant.post('/api/v1/deployments', { ...base, runtime_args: ['--trust-remote-code'] })).status,
    ).toBe(403);
    expect((await tenant.post('/api/v1/deployments', { ...base, source: '/etc' })).status).toBe(403);
    expect(
      (
        await tenant.post('/api/v1/deployments', {
          ...base,
          placement: { cluster: 'gpu-k8s', host_path: '/' },
        })
      ).status,
    ).toBe(400);
    // …but may run a preset there, whose pods get the cluster's image and no host path
    const ok = await tenant.post('/api/v1/deployments', { ...base, replicas: 1 });
    expect(ok.status).toBe(201);
    await eventually(async () => objectFor('deployments', ok.body.id), 10_000, 'tenant deployment applied');
    const spec = objectFor('deployments', ok.body.id).spec.template.spec;
    expect(spec.containers[0].image).toMatch(/^vllm\/vllm-openai:/);
    expect(JSON.stringify(spec)).not.toContain('hostPath');
    expect((await tenant.delete(`/api/v1/deployments/${ok.body.id}`)).status).toBe(202);
  });

  it('cannot place on a cluster closed to tenants (told no more than for an unknown one)', async () => {
    const closed = await ts.admin.post('/api/v1/clusters', {
      ...clusterBody(),
      name: 'admins-only',
      tenant_workloads: false,
    });
    expect(closed.status).toBe(201);
    const res = await tenant.post('/api/v1/deployments', {
      model: 't2',
      runtime: 'vllm',
      source: 'hf://org/tiny/tiny.gguf',
      resources: { gpu_memory_gib: 1 },
      placement: { cluster: 'admins-only' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toBe('no cluster "admins-only" is open to this deployment');
  });
});
