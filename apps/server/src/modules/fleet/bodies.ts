import { RUNTIMES, runtimeParametersInput } from '@maas/contracts/agent';
import { z } from 'zod';

const labels = z
  .record(
    z.string().regex(/^[A-Za-z0-9._/-]{1,63}$/, 'label keys: letters, digits, . _ / -'),
    z.string().max(200),
  )
  .refine((v) => Object.keys(v).length <= 50, 'at most 50 labels');

const modelName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/, 'letters, digits and . _ : / @ + - (at most 200)');
const versionLabel = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/, 'letters, digits and . _ - (at most 50)');

const source = z
  .string()
  .min(1)
  .max(2000)
  .describe('https://…, hf://org/repo/file.gguf, or (platform admins only) an absolute path on the nodes');

const resources = z.strictObject({
  gpus: z.number().int().min(0).max(16).optional().describe('GPUs per replica, on one node; 0 runs on CPU'),
  gpu_memory_gib: z
    .union([z.number().min(0.001).max(10_000), z.literal('auto')])
    .optional()
    .describe('memory one replica needs; "auto" (default) estimates it from the model'),
});

const placement = z.strictObject({
  strategy: z.enum(['spread', 'binpack']).optional(),
  node_selector: labels.optional(),
  cluster: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe(
      'a Kubernetes cluster (name or id) that runs the replicas instead of the nodes; set at creation',
    ),
});

const specFields = {
  version: versionLabel.optional().describe('the registry version label of this model (default "1")'),
  runtime: z.enum(RUNTIMES),
  source,
  checksum: z
    .string()
    .regex(/^sha256:[0-9a-fA-F]{64}$/, 'sha256:<64 hex>')
    .optional()
    .describe('downloads must match it'),
  context_length: z.number().int().min(128).max(10_000_000).optional(),
  parameters: runtimeParametersInput.optional(),
  runtime_args: z
    .array(z.string().max(2000))
    .max(100)
    .optional()
    .describe('platform admins only: extra runtime arguments (tenants use `parameters`)'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/), z.string().max(4000))
    .optional()
    .describe(
      'platform admins only: environment of the runtime; write-only (responses show "***"); loader variables (LD_PRELOAD, NODE_OPTIONS, PYTHONPATH, …) and MAAS_* are refused',
    ),
  command: z
    .string()
    .max(4000)
    .optional()
    .describe(
      'platform admins only (runtime custom): command template with {model_path} {model_name} {host} {port} {gpus} {context_length}',
    ),
  health_path: z
    .string()
    .regex(/^\/[\w./?=&-]{0,200}$/)
    .optional()
    .describe('custom runtime: health check path'),
  resources: resources.optional(),
};

export const createDeploymentBody = z.strictObject({
  model: modelName.describe('the name clients call through the gateway'),
  replicas: z.number().int().min(0).max(1000).default(1),
  placement: placement.optional(),
  ...specFields,
});
export type CreateDeploymentBody = z.infer<typeof createDeploymentBody>;

export const updateDeploymentBody = z.strictObject({
  replicas: z.number().int().min(0).max(1000).optional().describe('scale'),
  placement: placement.optional(),
  version: specFields.version,
  runtime: specFields.runtime.optional(),
  source: source.optional(),
  checksum: specFields.checksum.nullable(),
  context_length: specFields.context_length.nullable(),
  runtime_args: specFields.runtime_args,
  parameters: specFields.parameters,
  env: specFields.env,
  command: specFields.command.nullable(),
  health_path: specFields.health_path.nullable(),
  resources: resources.optional(),
  canary: z
    .strictObject({
      replicas: z.number().int().min(1).max(1000).default(1),
      weight: z.number().int().min(1).max(99).describe('percent of traffic to the new version'),
    })
    .optional()
    .describe('with a spec change: run only this many replicas of the new version and send them this share'),
});
export type UpdateDeploymentBody = z.infer<typeof updateDeploymentBody>;

export const listDeploymentsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const listReplicasQuery = listDeploymentsQuery.extend({
  deployment_id: z.string().max(100).optional(),
  node_id: z.string().max(100).optional(),
});

export const createJoinTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  labels: labels.optional(),
  max_uses: z.number().int().min(1).max(100_000).optional(),
  expires_in_seconds: z
    .number()
    .int()
    .min(60)
    .max(365 * 86_400)
    .optional(),
});

export const updateNodeBody = z.strictObject({
  labels: labels.optional(),
  tenant_workloads: z
    .boolean()
    .optional()
    .describe(
      "may tenants' deployments (those not written by a platform admin) get replicas here? Default: true, except on the local node inside `maas serve`, which runs as the server's user",
    ),
});
