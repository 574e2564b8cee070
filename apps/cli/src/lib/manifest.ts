import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CliError, EXIT, usageError } from './errors.ts';
import { deploymentSpec, projectSpec } from './manifest-fleet.ts';
import { readStdin } from './runtime.ts';

/**
 * maas.yaml: the desired providers, models (versions, targets, traffic weights, prices) and limits
 * of one org. Fields left out are left as they are on the server; secrets are named environment
 * variables (`api_key_env`, `headers_env`), never values.
 */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
const period = z.enum(['day', 'week', 'month', 'total']);

export const providerSpec = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['openai-compatible', 'anthropic']).default('openai-compatible'),
  base_url: z.string().url(),
  api_key_env: envName.optional(),
  headers_env: z.record(z.string(), envName).optional(),
  timeout_ms: z.number().int().positive().optional(),
  max_connections: z.number().int().positive().optional(),
});

const pricingSpec = z.strictObject({
  currency: z.string().default('USD'),
  input_per_million: z.number().min(0),
  output_per_million: z.number().min(0),
  cached_input_per_million: z.number().min(0).optional(),
  reasoning_per_million: z.number().min(0).optional(),
});

const targetSpec = z.strictObject({
  provider: z.string().min(1).describe('provider name (or id)'),
  upstream_model: z.string().min(1),
  weight: z.number().int().min(0).default(1),
  priority: z.number().int().min(0).default(0),
});

const versionSpec = z.strictObject({
  version: z.union([z.string(), z.number()]).transform(String).optional(),
  weight: z.number().int().min(0).optional().describe('traffic weight'),
  pricing: pricingSpec.nullable().optional(),
  targets: z.array(targetSpec).min(1),
});

const fallbackSpec = z.union([
  z.string(),
  z.strictObject({ model: z.string(), on: z.array(z.string()).optional() }),
]);

const modelSpecInput = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['chat', 'completion', 'embedding', 'rerank', 'image', 'tts', 'stt']).default('chat'),
  aliases: z.array(z.string()).optional(),
  description: z.string().nullable().optional(),
  context_length: z.number().int().positive().nullable().optional(),
  default_params: z.record(z.string(), z.unknown()).optional(),
  fallbacks: z.array(fallbackSpec).optional(),
  // sharing with other orgs is an offer they accept (POST /api/v1/models/{id}/shares), not a field
  access: z.strictObject({ projects: z.array(z.string()).optional() }).optional(),
  status: z.enum(['active', 'deprecated', 'retired']).optional(),
  /** shorthand for one version "1" with all the traffic */
  targets: z.array(targetSpec).min(1).optional(),
  pricing: pricingSpec.nullable().optional(),
  versions: z.array(versionSpec).min(1).optional(),
});

/** A model with its versions spelled out: labels and weights filled in. */
export const modelSpec = modelSpecInput.transform((m, ctx) => {
  if (m.versions && (m.targets || m.pricing !== undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give either versions or targets/pricing, not both' });
    return z.NEVER;
  }
  if (!m.versions && !m.targets) {
    ctx.addIssue({ code: 'custom', message: 'a model needs targets (or versions with targets)' });
    return z.NEVER;
  }
  const raw = m.versions ?? [{ version: '1', targets: m.targets!, pricing: m.pricing, weight: undefined }];
  const versions = raw.map((v, i) => ({
    ...v,
    version: v.version ?? String(i + 1),
    weight: v.weight ?? (raw.length === 1 ? 100 : 0),
  }));
  if (new Set(versions.map((v) => v.version)).size !== versions.length) {
    ctx.addIssue({ code: 'custom', message: 'version labels must be unique' });
    return z.NEVER;
  }
  const { targets: _t, pricing: _p, ...rest } = m;
  return { ...rest, versions };
});

export const limitSpec = z
  .strictObject({
    key: z.string().optional().describe('API key name or id'),
    project: z.string().optional().describe('project name or id'),
    org: z.literal(true).optional(),
    model: z.string().nullable().optional(),
    rpm: z.number().int().min(0).nullable().optional(),
    rpd: z.number().int().min(0).nullable().optional(),
    tpm: z.number().int().min(0).nullable().optional(),
    tpd: z.number().int().min(0).nullable().optional(),
    max_concurrent: z.number().int().min(0).nullable().optional(),
    token_quota: z.number().int().min(0).nullable().optional(),
    quota_period: period.nullable().optional(),
    budget: z.number().min(0).nullable().optional(),
    budget_period: period.nullable().optional(),
    soft_threshold: z.number().min(0).max(1).nullable().optional(),
    webhook_url: z.string().nullable().optional(),
    description: z.string().nullable().optional(),
  })
  .refine((l) => [l.key, l.project, l.org].filter((x) => x !== undefined).length <= 1, {
    message: 'a limit applies to one of key, project or org',
  });

export const manifestSchema = z.strictObject({
  version: z.literal(1).default(1),
  projects: z.array(projectSpec).default([]),
  providers: z.array(providerSpec).default([]),
  models: z.array(modelSpec).default([]),
  deployments: z.array(deploymentSpec).default([]),
  limits: z.array(limitSpec).default([]),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ProviderSpec = z.infer<typeof providerSpec>;
export type ModelSpec = z.infer<typeof modelSpec>;
export type VersionSpec = ModelSpec['versions'][number];
export type LimitSpec = z.infer<typeof limitSpec>;
export type { DeploymentSpec, ProjectSpec } from './manifest-fleet.ts';

export { LIMIT_FIELDS } from './plan-types.ts';

/** Parses and validates a manifest (YAML or JSON); a bad file exits 2 naming the field. */
export function parseManifest(text: string, source: string): Manifest {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw usageError(`${source} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw usageError(`${source}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const m = parsed.data;
  for (const [what, names] of [
    ['provider', m.providers.map((p) => p.name)],
    ['model', m.models.map((x) => x.name)],
    ['project', m.projects.map((x) => x.name)],
    ['deployment', m.deployments.map((x) => x.name)],
  ] as const) {
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw usageError(`${source}: ${what} "${dup}" appears twice`);
  }
  return m;
}

export async function readManifest(file: string): Promise<Manifest> {
  if (file === '-') return parseManifest(await readStdin(), 'standard input');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      EXIT.usage,
      'usage',
    );
  }
  return parseManifest(text, file);
}

/** The value of a secret's environment variable, or a clear error. */
export function secretFrom(env: string, what: string): string {
  const value = process.env[env];
  if (!value) throw usageError(`${what} needs the environment variable ${env}, which is not set`);
  return value;
}
