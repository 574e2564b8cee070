import { z } from 'zod';

/** maas.yaml's projects and fleet deployments (see manifest.ts for the rest of the file). */
export const projectSpec = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
});

const labels = z.record(z.string(), z.string());

export const deploymentSpec = z.strictObject({
  name: z.string().min(1).describe('the model name clients call through the gateway'),
  runtime: z.enum(['llama-cpp', 'vllm', 'sglang', 'ollama', 'custom']),
  source: z.string().min(1).describe('https://…, hf://org/repo/file.gguf, or a path on the nodes'),
  version: z.union([z.string(), z.number()]).transform(String).optional(),
  replicas: z.number().int().min(0).optional(),
  checksum: z.string().optional(),
  context_length: z.number().int().positive().optional(),
  parameters: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).optional(),
  resources: z
    .strictObject({
      gpus: z.number().int().min(0).optional(),
      gpu_memory_gib: z.union([z.number().positive(), z.literal('auto')]).optional(),
    })
    .optional(),
  placement: z
    .strictObject({ strategy: z.enum(['spread', 'binpack']).optional(), node_selector: labels.optional() })
    .optional(),
});

export type ProjectSpec = z.infer<typeof projectSpec>;
export type DeploymentSpec = z.infer<typeof deploymentSpec>;
