import { z } from 'zod';
import type { ClusterRow } from '../schema.ts';
import { DEFAULT_IMAGES } from './manifests.ts';

const dns1123 = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const labelKey = /^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;
const image = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._\-/:@]{0,254}$/, 'an image reference, e.g. vllm/vllm-openai:v0.11.0');
const absolutePath = z
  .string()
  .regex(/^\/[^\0]{0,1023}$/, 'an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'no .. segments');

const toleration = z.strictObject({
  key: z.string().max(316).optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().max(63).optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
});

const modelVolume = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('pvc'),
    claim_name: z.string().regex(dns1123, 'a PersistentVolumeClaim name'),
    mount_path: absolutePath.default('/models'),
    read_only: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal('host_path'),
    path: absolutePath,
    mount_path: absolutePath.default('/models'),
    read_only: z.boolean().default(true),
  }),
]);

export const createClusterBody = z.strictObject({
  name: z.string().regex(dns1123, 'lower-case letters, digits and -, at most 63'),
  api_server: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .describe('the Kubernetes API server, e.g. https://10.0.0.1:6443 (it must pass the outbound policy)'),
  ca_cert: z
    .string()
    .max(20_000)
    .regex(/-----BEGIN CERTIFICATE-----/, 'a PEM certificate')
    .optional()
    .describe("PEM of the CA that signed the API server's certificate (default: the system's CAs)"),
  token: z
    .string()
    .min(1)
    .max(20_000)
    .regex(/^[\x21-\x7e]+$/, 'a token is printable ASCII without spaces')
    .describe('a service-account token; write-only, never returned'),
  namespace: z.string().regex(dns1123, 'a namespace name'),
  gpu_resource: z
    .string()
    .regex(labelKey, 'an extended resource name')
    .default('nvidia.com/gpu')
    .describe('the extended resource GPUs are requested as'),
  node_selector: z
    .record(z.string().regex(labelKey, 'a label key'), z.string().regex(labelValue, 'a label value'))
    .default({}),
  tolerations: z.array(toleration).max(20).default([]),
  images: z
    .strictObject({ vllm: image.optional(), sglang: image.optional() })
    .default({})
    .describe(`container image per runtime (default ${Object.values(DEFAULT_IMAGES).join(', ')})`),
  model_volume: modelVolume.nullable().default(null).describe('where runtimes keep and find model files'),
  service_type: z.enum(['ClusterIP', 'LoadBalancer']).default('ClusterIP'),
  service_port: z.number().int().min(1).max(65535).default(8000),
  tenant_workloads: z.boolean().default(true),
});
export type CreateClusterBody = z.infer<typeof createClusterBody>;

/** Everything but the name and the namespace (objects already there would be orphaned) may change. */
export const updateClusterBody = z.strictObject({
  api_server: createClusterBody.shape.api_server.optional(),
  ca_cert: createClusterBody.shape.ca_cert.unwrap().nullable().optional(),
  token: createClusterBody.shape.token.optional().describe('a new service-account token (rotation)'),
  gpu_resource: z.string().regex(labelKey, 'an extended resource name').optional(),
  node_selector: createClusterBody.shape.node_selector.unwrap().optional(),
  tolerations: z.array(toleration).max(20).optional(),
  images: z.strictObject({ vllm: image.optional(), sglang: image.optional() }).optional(),
  model_volume: modelVolume.nullable().optional(),
  service_type: z.enum(['ClusterIP', 'LoadBalancer']).optional(),
  service_port: z.number().int().min(1).max(65535).optional(),
  tenant_workloads: z.boolean().optional(),
});
export type UpdateClusterBody = z.infer<typeof updateClusterBody>;

export const clusterDto = z.object({
  id: z.string(),
  name: z.string(),
  api_server: z.string(),
  ca_cert: z.boolean().describe('whether a CA certificate is pinned'),
  namespace: z.string(),
  gpu_resource: z.string(),
  node_selector: z.record(z.string(), z.string()),
  tolerations: z.array(toleration),
  images: z.record(z.string(), z.string()),
  model_volume: z.unknown().nullable(),
  service_type: z.enum(['ClusterIP', 'LoadBalancer']),
  service_port: z.number(),
  tenant_workloads: z.boolean(),
  last_error: z.string().nullable(),
  last_sync_at: z.string().nullable(),
  created_at: z.string(),
});

/** The cluster as the API shows it: the token never, the CA only as whether one is set. */
export function toClusterDto(c: ClusterRow): z.infer<typeof clusterDto> {
  return {
    id: c.id,
    name: c.name,
    api_server: c.apiServer,
    ca_cert: c.caCert !== null,
    namespace: c.namespace,
    gpu_resource: c.gpuResource,
    node_selector: c.nodeSelector,
    tolerations: c.tolerations,
    images: { ...DEFAULT_IMAGES, ...c.images },
    model_volume: c.modelVolume,
    service_type: c.serviceType,
    service_port: c.servicePort,
    tenant_workloads: c.tenantWorkloads,
    last_error: c.lastError,
    last_sync_at: c.lastSyncAt?.toISOString() ?? null,
    created_at: c.createdAt.toISOString(),
  };
}
