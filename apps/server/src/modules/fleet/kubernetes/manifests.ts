import { createHash } from 'node:crypto';
import type {
  V1Deployment,
  V1EnvVar,
  V1Secret,
  V1Service,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { type DesiredReplica, ENGINE_PRESETS, parseSource } from '@maas/contracts/agent';
import type { ClusterRow, DeploymentRow } from '../schema.ts';

/** Runtimes a cluster runs, with the image each uses unless the cluster names another. */
export const DEFAULT_IMAGES: Record<string, string> = {
  vllm: 'vllm/vllm-openai:v0.11.0',
  sglang: 'lmsys/sglang:v0.5.3-cu126',
};
export const CLUSTER_RUNTIMES = Object.keys(DEFAULT_IMAGES);

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  deployment: 'maas.dev/deployment',
  cluster: 'maas.dev/cluster',
  revision: 'maas.dev/revision',
} as const;
const KEY_DIGEST = 'maas.dev/key-digest';

/** the port the runtime listens on inside its pod */
export const CONTAINER_PORT = 8000;
/** where the runtime finds its credential; args refer to it as $(MAAS_REPLICA_API_KEY) */
const KEY_ENV = 'MAAS_REPLICA_API_KEY';
const KEY_REF = `$(${KEY_ENV})`;
const SECRET_KEY = 'api-key';

/** The Kubernetes name of a maas deployment's objects (DNS-1035: lower case, starts with a letter). */
export const objectName = (deploymentId: string) =>
  `maas-${deploymentId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63).replace(/-+$/, '');
export const secretName = (deploymentId: string) => `${objectName(deploymentId)}-key`.slice(0, 253);

/** What the runtime is given as the model: an HF repo id (it downloads it) or a path in its pod. */
export function modelPathOf(source: string): string {
  const parsed = parseSource(source);
  if (parsed.kind === 'path') return parsed.path;
  if (source.startsWith('hf://')) {
    const [org, repoAndRev] = source.slice('hf://'.length).split('/');
    return `${org}/${repoAndRev!.split('@')[0]}`;
  }
  throw new Error('a Kubernetes cluster runs hf:// and path sources, not download URLs');
}

export interface ManifestInput {
  cluster: ClusterRow;
  deployment: Pick<DeploymentRow, 'id' | 'name' | 'replicas' | 'revision' | 'spec'>;
  /** the Kubernetes replica count (0 while the deployment is deleted) */
  replicas: number;
  apiKey: string;
}

export interface Manifests {
  secret: V1Secret;
  deployment: V1Deployment;
  service: V1Service;
}

function labelsOf(input: ManifestInput): Record<string, string> {
  return {
    [LABELS.managedBy]: 'maas',
    [LABELS.name]: input.deployment.spec.runtime,
    [LABELS.deployment]: input.deployment.id,
    [LABELS.cluster]: input.cluster.id,
  };
}

/**
 * The container's command line, from the same runtime preset the agent launches (typed parameters
 * only; a tenant never writes a command line). The credential is not in it: args say
 * $(MAAS_REPLICA_API_KEY), which Kubernetes fills from the Secret.
 */
function containerCommand(input: ManifestInput): { command: string[]; args: string[]; env: V1EnvVar[] } {
  const { deployment: dep } = input;
  const spec = dep.spec;
  const launchOf = ENGINE_PRESETS[spec.runtime as keyof typeof ENGINE_PRESETS];
  if (!CLUSTER_RUNTIMES.includes(spec.runtime) || !launchOf)
    throw new Error(`a Kubernetes cluster runs ${CLUSTER_RUNTIMES.join(' and ')}, not ${spec.runtime}`);
  const replica: DesiredReplica = {
    id: dep.id,
    deployment_id: dep.id,
    model_name: dep.name,
    runtime: spec.runtime,
    source: spec.source,
    checksum: spec.checksum,
    port: CONTAINER_PORT,
    gpu_indexes: Array.from({ length: spec.resources.gpus }, (_, i) => i),
    memory_bytes: 0,
    context_length: spec.context_length ?? spec.estimate?.context_length ?? null,
    runtime_args: spec.runtime_args,
    parameters: spec.parameters ?? {},
    env: spec.env,
    command: null,
    health_path: spec.health_path,
    api_key: KEY_REF,
  };
  const launch = launchOf({
    replica,
    modelPath: modelPathOf(spec.source),
    host: '0.0.0.0',
    gpus: [],
    workDir: '/tmp',
  });
  const env: V1EnvVar[] = [
    { name: KEY_ENV, valueFrom: { secretKeyRef: { name: secretName(dep.id), key: SECRET_KEY } } },
  ];
  for (const [name, value] of Object.entries(launch.env)) {
    // the device plugin decides which GPUs the pod sees
    if (name === 'CUDA_VISIBLE_DEVICES' || name === 'HIP_VISIBLE_DEVICES' || name === 'ROCR_VISIBLE_DEVICES')
      continue;
    env.push(value === KEY_REF ? { name, valueFrom: env[0]!.valueFrom! } : { name, value });
  }
  const volume = input.cluster.modelVolume;
  if (volume) env.push({ name: 'HF_HOME', value: `${volume.mount_path.replace(/\/+$/, '')}/huggingface` });
  return { command: [launch.command], args: launch.args, env };
}

function volumesOf(cluster: ClusterRow): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  // vLLM and SGLang share tensors between GPU workers through /dev/shm
  const volumes: V1Volume[] = [{ name: 'shm', emptyDir: { medium: 'Memory' } }];
  const mounts: V1VolumeMount[] = [{ name: 'shm', mountPath: '/dev/shm' }];
  const v = cluster.modelVolume;
  if (v?.kind === 'pvc')
    volumes.push({
      name: 'models',
      persistentVolumeClaim: { claimName: v.claim_name, readOnly: v.read_only },
    });
  if (v?.kind === 'host_path')
    volumes.push({ name: 'models', hostPath: { path: v.path, type: 'Directory' } });
  if (v) mounts.push({ name: 'models', mountPath: v.mount_path, readOnly: v.read_only });
  return { volumes, mounts };
}

/** The Secret, Deployment and Service that run a maas deployment on a cluster. */
export function buildManifests(input: ManifestInput): Manifests {
  const { cluster, deployment: dep } = input;
  const name = objectName(dep.id);
  const labels = labelsOf(input);
  const meta = { name, namespace: cluster.namespace, labels };
  const { command, args, env } = containerCommand(input);
  const { volumes, mounts } = volumesOf(cluster);
  const gpus = dep.spec.resources.gpus;
  const gpuLimits = gpus > 0 ? { [cluster.gpuResource]: String(gpus) } : undefined;
  const image = cluster.images[dep.spec.runtime] ?? DEFAULT_IMAGES[dep.spec.runtime]!;
  const probe = (periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path: '/health', port: 'http' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 5,
  });
  return {
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { ...meta, name: secretName(dep.id) },
      type: 'Opaque',
      data: { [SECRET_KEY]: Buffer.from(input.apiKey).toString('base64') },
    },
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta,
      spec: {
        replicas: input.replicas,
        selector: { matchLabels: { [LABELS.deployment]: dep.id } },
        // a new pod must be ready before an old one goes (GPU clusters: surge of one)
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: {
            labels: { ...labels, [LABELS.revision]: String(dep.revision) },
            // a new credential restarts the pods (they read it from the Secret at start)
            annotations: {
              [KEY_DIGEST]: createHash('sha256').update(input.apiKey).digest('hex').slice(0, 16),
            },
          },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            ...(Object.keys(cluster.nodeSelector).length ? { nodeSelector: cluster.nodeSelector } : {}),
            ...(cluster.tolerations.length ? { tolerations: cluster.tolerations } : {}),
            containers: [
              {
                name: 'runtime',
                image,
                command,
                args,
                env,
                ports: [{ name: 'http', containerPort: CONTAINER_PORT, protocol: 'TCP' }],
                ...(gpuLimits ? { resources: { requests: gpuLimits, limits: gpuLimits } } : {}),
                // loading weights can take long: up to 30 minutes before liveness counts
                startupProbe: probe(10, 180),
                readinessProbe: probe(5, 3),
                livenessProbe: probe(30, 3),
                volumeMounts: mounts,
                securityContext: { allowPrivilegeEscalation: false },
              },
            ],
            volumes,
          },
        },
      },
    },
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta,
      spec: {
        type: cluster.serviceType,
        selector: { [LABELS.deployment]: dep.id },
        ports: [{ name: 'http', port: cluster.servicePort, targetPort: 'http', protocol: 'TCP' }],
      },
    },
  };
}

/** Where the gateway reaches the Service, or null while it has no address yet. */
export function serviceEndpoint(cluster: ClusterRow, service: V1Service | null): string | null {
  if (!service?.metadata?.name) return null;
  const port = cluster.servicePort;
  if (cluster.serviceType === 'ClusterIP')
    return `http://${service.metadata.name}.${cluster.namespace}.svc:${port}/v1`;
  const ingress = service.status?.loadBalancer?.ingress?.[0];
  const host = ingress?.ip ?? ingress?.hostname;
  if (!host) return null;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`;
}
