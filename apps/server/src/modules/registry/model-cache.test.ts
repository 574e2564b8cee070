import { describe, expect, it } from 'vitest';
import type { ModelRow, VersionRow } from './dto.ts';
import { createModelCache } from './model-cache.ts';

const at = new Date('2026-01-01T00:00:00Z');

function model(id: string, orgId: string, name: string, extra: Partial<ModelRow> = {}): ModelRow {
  return {
    id,
    orgId,
    name,
    type: 'chat',
    aliases: [],
    description: null,
    contextLength: null,
    defaultParams: {},
    status: 'active',
    access: {},
    fallbacks: [],
    createdAt: at,
    updatedAt: at,
    ...extra,
  };
}

const version = (modelId: string): VersionRow => ({
  id: `ver_${modelId}`,
  modelId,
  version: '1',
  targets: [{ provider_id: `prv_${modelId}`, upstream_model: 'up', weight: 1, priority: 0 }],
  trafficWeight: 100,
  pricing: null,
  createdAt: at,
});

describe('model cache namespaces', () => {
  const rows = [
    model('mdl_a1', 'org_a', 'llama', { aliases: ['ll'], fallbacks: [{ model: 'backup' }] }),
    model('mdl_a2', 'org_a', 'backup-model', { aliases: ['backup'] }),
    model('mdl_a3', 'org_a', 'mistral'),
    model('mdl_b1', 'org_b', 'llama'),
    model('mdl_b2', 'org_b', 'acme/mistral'),
  ];
  const cache = createModelCache();
  cache.replace(
    rows,
    rows.map((r) => version(r.id)),
    [
      { modelId: 'mdl_a1', consumerOrgId: 'org_b', ownerSlug: 'acme' },
      { modelId: 'mdl_a3', consumerOrgId: 'org_b', ownerSlug: 'acme' },
    ],
  );

  it('shows an accepted model only to the org that accepted it, under <owner-slug>/<name>', () => {
    const view = cache.lookup('org_b', 'acme/llama')!;
    expect(view).toMatchObject({ id: 'mdl_a1', orgId: 'org_a', sharedWith: 'org_b', ownedBy: 'acme' });
    expect(view.aliases).toEqual([]);
    expect(cache.lookup('org_c', 'acme/llama')).toBeUndefined();
    expect(cache.lookup('org_b', 'll')).toBeUndefined();
  });

  it('never lets a shared model take a name the org uses itself', () => {
    expect(cache.lookup('org_b', 'llama')!.id).toBe('mdl_b1');
    expect(cache.lookup('org_b', 'acme/mistral')!.id).toBe('mdl_b2');
    expect(
      cache
        .visibleTo('org_b')
        .map((m) => m.name)
        .sort(),
    ).toEqual(['acme/llama', 'acme/mistral', 'llama']);
  });

  it('finds models by id only in their own org', () => {
    expect(cache.lookup('org_a', 'mdl_a1')!.name).toBe('llama');
    expect(cache.lookup('org_b', 'mdl_a1')).toBeUndefined();
  });

  it('names a shared model’s fallbacks by their shared names', () => {
    expect(cache.lookup('org_b', 'acme/llama')!.fallbacks.map((f) => f.model)).toEqual(['acme/backup-model']);
    // the owner's own model keeps its own fallbacks
    expect(cache.lookup('org_a', 'llama')!.fallbacks.map((f) => f.model)).toEqual(['backup']);
  });
});
