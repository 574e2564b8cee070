import type { KeyPrincipal } from '../../http/principal.ts';
import type { CompiledModel, ModelCache } from '../registry/index.ts';
import { findUsableModel, mayUse, modelNotFound } from './resolve-model.ts';

export interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

const toOpenAiModel = (m: CompiledModel): OpenAiModel => ({
  id: m.name,
  object: 'model',
  created: m.created,
  owned_by: m.ownedBy,
});

/** GET /v1/models: every model this key may call, in OpenAI's list shape. */
export function listModels(cache: ModelCache, key: KeyPrincipal): { object: 'list'; data: OpenAiModel[] } {
  const data = cache
    .visibleTo(key.orgId)
    .filter((m) => m.status !== 'retired' && mayUse(key, m, m.name))
    .map(toOpenAiModel)
    .sort((a, b) => a.id.localeCompare(b.id));
  return { object: 'list', data };
}

/** GET /v1/models/{id}: one model, by name, alias or id. */
export function retrieveModel(cache: ModelCache, key: KeyPrincipal, name: string): OpenAiModel {
  const m = findUsableModel(cache, key, name);
  if (!m) throw modelNotFound(name);
  return toOpenAiModel(m);
}
