import { describe, expect, it } from 'vitest';
import { manifestOf } from '../commands/export.ts';
import { parseManifest } from './manifest.ts';
import { buildPlan } from './plan.ts';
import type { State } from './plan-types.ts';
import { toYaml } from './yaml.ts';

const at = '2026-01-01T00:00:00.000Z';
const state: State = {
  orgId: 'org_1',
  providers: [
    {
      id: 'prv_1',
      name: 'vllm',
      type: 'openai-compatible',
      base_url: 'http://gpu:8000/v1',
      has_api_key: true,
      header_names: ['X-Team'],
      timeout_ms: 60000,
      max_connections: 128,
      org_id: 'org_1',
      managed_by: null,
      created_at: at,
      updated_at: at,
    },
  ],
  models: [
    {
      id: 'mdl_1',
      org_id: 'org_1',
      name: 'chat',
      type: 'chat',
      aliases: ['c'],
      description: null,
      context_length: 8192,
      default_params: {},
      status: 'active',
      access: {},
      fallbacks: [{ model: 'other' }],
      traffic: { '1': 70, '2': 30 },
      created_at: at,
      updated_at: at,
      versions: [
        {
          id: 'ver_1',
          model_id: 'mdl_1',
          version: '1',
          traffic_weight: 70,
          created_at: at,
          pricing: { currency: 'USD', input_per_million: 1, output_per_million: 2 },
          targets: [{ provider_id: 'prv_1', upstream_model: 'qwen', weight: 1, priority: 0 }],
        },
        {
          id: 'ver_2',
          model_id: 'mdl_1',
          version: '2',
          traffic_weight: 30,
          created_at: at,
          pricing: null,
          targets: [{ provider_id: 'prv_1', upstream_model: 'qwen3', weight: 2, priority: 1 }],
        },
      ],
    },
  ],
  limits: [
    {
      id: 'lim_1',
      scope: 'key',
      scope_id: 'key_1',
      model: null,
      rpm: 60,
      rpd: null,
      tpm: null,
      tpd: null,
      max_concurrent: null,
      token_quota: null,
      quota_period: null,
      budget: 10,
      budget_period: 'month',
      soft_threshold: null,
      webhook_url: null,
      description: null,
      org_id: 'org_1',
      created_by: null,
      created_at: at,
      updated_at: at,
    },
  ],
  keys: [
    {
      id: 'key_1',
      org_id: 'org_1',
      project_id: 'prj_1',
      name: 'ci',
      prefix: 'sk-maas-ci',
      scopes: ['inference'],
      models: null,
      metadata: {},
      status: 'active',
      expires_at: null,
      previous_expires_at: null,
      revoked_at: null,
      created_by: null,
      created_at: at,
      updated_at: at,
    },
  ],
  projects: [
    { id: 'prj_1', org_id: 'org_1', name: 'default', description: null, created_at: at, updated_at: at },
  ],
  deployments: [],
};

describe('apply plans', () => {
  it('an exported state plans no change (export → apply is idempotent)', () => {
    const manifest = parseManifest(toYaml(manifestOf(state)), 'export');
    const plan = buildPlan(manifest, state);
    expect(plan.steps.map((s) => `${s.action} ${s.kind} ${s.name}`)).toEqual([
      'unchanged provider vllm',
      'unchanged model chat',
      'unchanged limit key ci',
    ]);
    expect(plan.missingEnv).toEqual([]);
  });

  it('shorthand targets mean one version "1" with all the traffic; changes become a diff', () => {
    const manifest = parseManifest(
      'models:\n  - name: chat\n    aliases: [c, chatty]\n    targets: [{ provider: vllm, upstream_model: qwen }]\nlimits:\n  - key: ci\n    rpm: 120\n',
      'f',
    );
    const [model, limit] = buildPlan(manifest, state).steps;
    expect(model).toMatchObject({ action: 'update', kind: 'model' });
    expect(model!.changes).toEqual([
      { field: 'aliases', from: ['c'], to: ['c', 'chatty'] },
      { field: 'traffic', from: { '1': 70, '2': 30 }, to: { '1': 100, '2': 0 } },
    ]);
    expect(limit!.changes).toEqual([{ field: 'rpm', from: 60, to: 120 }]);
  });

  it('names the secrets it needs, plans creations and, with --prune, deletions', () => {
    const manifest = parseManifest(
      'providers:\n  - name: openai\n    base_url: https://api.openai.com/v1\n    api_key_env: MAAS_TEST_UNSET_VAR\n',
      'f',
    );
    const plan = buildPlan(manifest, state, { prune: true });
    expect(plan.missingEnv).toEqual(['MAAS_TEST_UNSET_VAR']);
    expect(plan.steps.map((s) => `${s.action} ${s.kind} ${s.name}`)).toEqual([
      'create provider openai',
      'delete limit key ci',
      'delete model chat',
      'delete provider vllm',
    ]);
  });

  it('rejects a model that targets a provider nobody knows, and a type change', () => {
    const unknown = parseManifest(
      'models:\n  - name: x\n    targets: [{ provider: ghost, upstream_model: m }]\n',
      'f',
    );
    expect(() => buildPlan(unknown, state)).toThrow(
      /provider "ghost" is neither in the file nor on the server/,
    );
    const retype = parseManifest(
      'models:\n  - name: chat\n    type: embedding\n    targets: [{ provider: vllm, upstream_model: m }]\n',
      'f',
    );
    expect(() => buildPlan(retype, state)).toThrow(/type cannot change/);
  });
});
