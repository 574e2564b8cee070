import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { validateKubeObject } from '../../../../test/support/kube-schemas.ts';
import type { ClusterRow, DeploymentRow } from '../schema.ts';
import { buildManifests, modelPathOf, objectName, serviceEndpoint } from './manifests.ts';
import { viewPod } from './pod-status.ts';

const cluster: ClusterRow = {
  id: 'kcl_01jabc',
  name: 'gpu',
  apiServer: 'https://10.0.0.1:6443',
  caCert: null,
  tokenSealed: 'sealed',
  namespace: 'models',
  gpuResource: 'amd.com/gpu',
  nodeSelector: {},
  tolerations: [],
  images: { sglang: 'registry.local/sglang:1' },
  modelVolume: { kind: 'host_path', path: '/srv/models', mount_path: '/models', read_only: true },
  serviceType: 'ClusterIP',
  servicePort: 8000,
  tenantWorkloads: true,
  lastError: null,
  lastSyncAt: null,
  createdBy: null,
  createdAt: new Date(),
  updatedAt: new Date(),
};

const deployment = (over: Partial<DeploymentRow['spec']> = {}) =>
  ({
    id: 'dep_01jxyz',
    name: 'qwen',
    replicas: 3,
    revision: 4,
    spec: {
      version: '1',
      runtime: 'sglang',
      source: 'hf://Qwen/Qwen2.5-7B-Instruct@main/config.json',
      checksum: null,
      context_length: 8192,
      runtime_args: [],
      parameters: { mem_fraction_static: 0.8 },
      env: {},
      command: null,
      health_path: null,
      resources: { gpus: 4, gpu_memory_gib: 40 },
      estimate: null,
      ...over,
    },
  }) as Pick<DeploymentRow, 'id' | 'name' | 'replicas' | 'revision' | 'spec'>;

describe('manifests', () => {
  it('run SGLang from its preset with the credential from the Secret, never in the spec', () => {
    const m = buildManifests({
      cluster,
      deployment: deployment(),
      replicas: 3,
      apiKey: 'maas-replica-s3cret',
    });
    for (const o of [m.secret, m.deployment, m.service]) validateKubeObject(o);
    const c = m.deployment.spec!.template.spec!.containers[0]!;
    expect(c.image).toBe('registry.local/sglang:1');
    expect(c.command).toEqual(['python3']);
    const args = c.args!.join(' ');
    expect(args).toContain('-m sglang.launch_server --model-path Qwen/Qwen2.5-7B-Instruct');
    expect(args).toContain('--tp-size 4');
    expect(args).toContain('--context-length 8192');
    expect(args).toContain('--mem-fraction-static 0.80');
    expect(args.endsWith('--api-key $(MAAS_REPLICA_API_KEY)')).toBe(true);
    expect(c.env![0]).toEqual({
      name: 'MAAS_REPLICA_API_KEY',
      valueFrom: { secretKeyRef: { name: 'maas-dep-01jxyz-key', key: 'api-key' } },
    });
    expect(c.env).toContainEqual({ name: 'HF_HOME', value: '/models/huggingface' });
    expect(c.env!.some((e) => e.name === 'CUDA_VISIBLE_DEVICES')).toBe(false);
    expect(c.resources).toEqual({ requests: { 'amd.com/gpu': '4' }, limits: { 'amd.com/gpu': '4' } });
    expect(m.deployment.spec!.template.spec!.volumes).toContainEqual({
      name: 'models',
      hostPath: { path: '/srv/models', type: 'Directory' },
    });
    expect(m.deployment.spec!.template.metadata!.labels!['maas.dev/revision']).toBe('4');
    expect(JSON.stringify([m.deployment, m.service])).not.toContain('s3cret');
    expect(Buffer.from(m.secret.data!['api-key']!, 'base64').toString()).toBe('maas-replica-s3cret');
  });

  it('roll the pods when the credential changes', () => {
    const a = buildManifests({ cluster, deployment: deployment(), replicas: 1, apiKey: 'k1' });
    const b = buildManifests({ cluster, deployment: deployment(), replicas: 1, apiKey: 'k2' });
    expect(a.deployment.spec!.template.metadata!.annotations).not.toEqual(
      b.deployment.spec!.template.metadata!.annotations,
    );
  });

  it('name objects as Kubernetes allows and find the Service in the cluster DNS', () => {
    expect(objectName('dep_01JXYZ')).toBe('maas-dep-01jxyz');
    const m = buildManifests({ cluster, deployment: deployment(), replicas: 1, apiKey: 'k' });
    expect(serviceEndpoint(cluster, m.service)).toBe('http://maas-dep-01jxyz.models.svc:8000/v1');
    const lb = { ...cluster, serviceType: 'LoadBalancer' as const };
    expect(serviceEndpoint(lb, m.service)).toBeNull();
    expect(
      serviceEndpoint(lb, {
        ...m.service,
        status: { loadBalancer: { ingress: [{ hostname: 'lb.example' }] } },
      }),
    ).toBe('http://lb.example:8000/v1');
  });

  it('refuse what a cluster cannot run', () => {
    expect(() => modelPathOf('https://example.com/m.gguf')).toThrow(/not download URLs/);
    expect(() =>
      buildManifests({ cluster, deployment: deployment({ runtime: 'llama-cpp' }), replicas: 1, apiKey: 'k' }),
    ).toThrow(/runs vllm and sglang/);
  });
});

describe('pod views', () => {
  const pod = (status: V1Pod['status'], labels = { 'maas.dev/revision': '2' }): V1Pod => ({
    metadata: { name: 'p1', labels },
    status,
  });

  it('say why a pod is not serving', () => {
    expect(viewPod(pod({ conditions: [{ type: 'Ready', status: 'True' }] }))).toMatchObject({
      ready: true,
      revision: 2,
    });
    const pulling = viewPod(
      pod({
        containerStatuses: [
          {
            name: 'runtime',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } },
          },
        ],
      }),
    );
    expect(pulling).toMatchObject({ ready: false, failed: true });
    expect(pulling.reason).toBe('pod p1: ImagePullBackOff: Back-off pulling image "x"');
    const unscheduled = viewPod(
      pod({
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/2 nodes are available',
          },
        ],
      }),
    );
    expect(unscheduled).toMatchObject({ failed: false });
    expect(unscheduled.reason).toBe('pod p1 is not scheduled: Unschedulable (0/2 nodes are available)');
    expect(viewPod(pod({ phase: 'Running' })).reason).toMatch(/starting/);
  });
});
