import { z } from 'zod';
import type { RuntimeName } from './runtime-names.ts';

/**
 * The typed parameters of each runtime preset: what a tenant may tune instead of free-form
 * arguments. Validated by the server when the deployment is written and again by the agent; each
 * adapter maps them to flags (`parameterFlags`), so no caller text ever becomes an argument of its own.
 */
const dtype = z.enum(['auto', 'half', 'float16', 'bfloat16', 'float', 'float32']);
const quantization = z.enum([
  'awq',
  'awq_marlin',
  'gptq',
  'gptq_marlin',
  'fp8',
  'bitsandbytes',
  'compressed-tensors',
  'marlin',
]);
const kvCacheDtype = z.enum(['auto', 'fp8', 'fp8_e5m2', 'fp8_e4m3']);
const int = (min: number, max: number) => z.number().int().min(min).max(max);
/** a share of each GPU, never more than the scheduler promised the replica (the adapter caps it) */
const share = z.number().min(0.05).max(0.95);

export const RUNTIME_PARAMETERS = {
  'llama-cpp': z.strictObject({
    threads: int(1, 256).optional().describe('CPU threads'),
    parallel: int(1, 64).optional().describe('requests served at once'),
  }),
  vllm: z.strictObject({
    dtype: dtype.optional(),
    quantization: quantization.optional(),
    kv_cache_dtype: kvCacheDtype.optional(),
    max_num_seqs: int(1, 4096).optional(),
    max_num_batched_tokens: int(1, 1_048_576).optional(),
    gpu_memory_utilization: share.optional(),
    enforce_eager: z.boolean().optional(),
    enable_prefix_caching: z.boolean().optional(),
  }),
  sglang: z.strictObject({
    dtype: dtype.optional(),
    quantization: quantization.optional(),
    kv_cache_dtype: kvCacheDtype.optional(),
    max_running_requests: int(1, 4096).optional(),
    chunked_prefill_size: int(-1, 1_048_576).optional(),
    mem_fraction_static: share.optional(),
  }),
  ollama: z.strictObject({
    num_parallel: int(1, 64).optional().describe('OLLAMA_NUM_PARALLEL'),
    flash_attention: z.boolean().optional().describe('OLLAMA_FLASH_ATTENTION'),
  }),
  custom: z.strictObject({}),
} satisfies Record<RuntimeName, z.ZodType>;

export type RuntimeParameters = Record<string, number | boolean | string>;

/** What a body carries before the runtime is known; checked against the runtime with `checkParameters`. */
export const runtimeParametersInput = z
  .record(z.string().max(64), z.union([z.number(), z.boolean(), z.string().max(100)]))
  .refine((v) => Object.keys(v).length <= 32, 'at most 32 parameters')
  .describe(
    'typed preset parameters: llama-cpp {threads, parallel}; vllm {dtype, quantization, kv_cache_dtype, max_num_seqs, max_num_batched_tokens, gpu_memory_utilization, enforce_eager, enable_prefix_caching}; sglang {dtype, quantization, kv_cache_dtype, max_running_requests, chunked_prefill_size, mem_fraction_static}; ollama {num_parallel, flash_attention}',
  );

/** The parameters, valid for the runtime, or the first problem as `{ path, message }`. */
export function checkParameters(
  runtime: RuntimeName,
  params: unknown,
): { ok: true; value: RuntimeParameters } | { ok: false; path: string; message: string } {
  const parsed = RUNTIME_PARAMETERS[runtime].safeParse(params ?? {});
  if (parsed.success) return { ok: true, value: parsed.data as RuntimeParameters };
  const issue = parsed.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = ['parameters', ...issue.path.map(String), ...keys.slice(0, 1)].join('.');
  const message =
    issue.code === 'unrecognized_keys'
      ? `the ${runtime} runtime has no parameter ${keys.join(', ')}`
      : `${path}: ${issue.message}`;
  return { ok: false, path, message };
}

/** Flags from parameters by a table of `parameter → flag`: numbers and enums as values, `true` as a switch. */
export function parameterFlags(params: RuntimeParameters, table: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [key, flag] of Object.entries(table)) {
    const v = params[key];
    if (v === undefined || v === false) continue;
    out.push(...(v === true ? [flag] : [flag, String(v)]));
  }
  return out;
}
