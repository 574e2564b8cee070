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

describe('model cache: changes per model and per provider', () => {
  it('applies one model at a time, and the orgs that accepted it see the change', () => {
    const cache = createModelCache();
    const a = model('mdl_a', 'org_a', 'llama');
    cache.replace([a], [version('mdl_a')], [{ modelId: 'mdl_a', consumerOrgId: 'org_b', ownerSlug: 'acme' }]);
    const share = { modelId: 'mdl_a', consumerOrgId: 'org_b', ownerSlug: 'acme' };

    cache.upsert('mdl_a', { ...a, name: 'llama-3', aliases: ['l3'] }, [version('mdl_a')], [share]);
    expect(cache.lookup('org_a', 'llama')).toBeUndefined();
    expect(cache.lookup('org_a', 'l3')!.name).toBe('llama-3');
    expect(cache.lookup('org_b', 'acme/llama')).toBeUndefined();
    expect(cache.lookup('org_b', 'acme/llama-3')!.sharedWith).toBe('org_b');

    cache.upsert('mdl_n', model('mdl_n', 'org_a', 'new'), [version('mdl_n')], []);
    expect(cache.visibleTo('org_a').map((m) => m.name)).toEqual(['llama-3', 'new']);

    cache.upsert('mdl_a', { ...a, name: 'llama-3' }, [version('mdl_a')], []);
    expect(cache.lookup('org_b', 'acme/llama-3')).toBeUndefined();
    cache.upsert('mdl_a', null, [], []);
    expect(cache.lookup('org_a', 'llama-3')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it("routes a deployment provider's target to the endpoints of its group, and follows them as they move", () => {
    let endpoints = [
      { key: 'prv_d#rep_1', group: '1' },
      { key: 'prv_d#rep_2', group: '2' },
    ];
    const cache = createModelCache((id) => (id === 'prv_d' ? endpoints : undefined));
    const target = (group?: string) => ({
      provider_id: 'prv_d',
      upstream_model: 'up',
      weight: 1,
      priority: 0,
      ...(group ? { endpoint_group: group } : {}),
    });
    const m = model('mdl_d', 'org_a', 'deployed');
    const other = model('mdl_o', 'org_a', 'other');
    cache.replace(
      [m, other],
      [
        { ...version('mdl_d'), id: 'v1', version: '1', targets: [target('1')] },
        { ...version('mdl_d'), id: 'v2', version: '2', targets: [target('2')] },
        { ...version('mdl_o'), targets: [target()] },
      ],
    );
    const runtimes = (name: string) =>
      cache.lookup('org_a', name)!.versions.map((v) => v.tiers.flat().map((t) => t.runtime));
    expect(runtimes('deployed')).toEqual([['prv_d#rep_1'], ['prv_d#rep_2']]);
    expect(runtimes('other')).toEqual([['prv_d#rep_1', 'prv_d#rep_2']]);

    endpoints = [
      { key: 'prv_d#rep_2', group: '2' },
      { key: 'prv_d#rep_3', group: '2' },
    ];
    cache.providerChanged('prv_d');
    expect(runtimes('deployed')).toEqual([[], ['prv_d#rep_2', 'prv_d#rep_3']]);
    expect(runtimes('other')).toEqual([['prv_d#rep_2', 'prv_d#rep_3']]);
    const keys = cache.lookup('org_a', 'other')!.versions[0]!.tiers[0]!.map((t) => t.key);
    expect(new Set(keys).size).toBe(2);
    expect(cache.upstreamModelsOf('prv_d')).toEqual(['up']);
  });
});
