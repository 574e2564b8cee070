import { AppError } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { CompiledModel, ModelCache } from '../registry/index.ts';
import type { Endpoint } from './adapters/types.ts';

const SERVES: Record<Endpoint, ReadonlySet<CompiledModel['type']>> = {
  'chat.completions': new Set(['chat']),
  completions: new Set(['completion', 'chat']),
  embeddings: new Set(['embedding']),
  rerank: new Set(['rerank']),
  'images.generations': new Set(['image']),
  'images.edits': new Set(['image']),
  'images.variations': new Set(['image']),
  'audio.speech': new Set(['tts']),
  'audio.transcriptions': new Set(['stt']),
  'audio.translations': new Set(['stt']),
};

export const modelNotFound = (name: string) =>
  new AppError(
    'model_not_found',
    `The model \`${name}\` does not exist or you do not have access to it.`,
    undefined,
    {
      param: 'model',
    },
  );

/**
 * May this key call this model? Its own org's models (within `access.projects` when set), models
 * other orgs shared with it and it accepted (as `<owner-slug>/<name>`), and only those on the key's
 * own model list when it has one.
 */
export function mayUse(key: KeyPrincipal, m: CompiledModel, requested: string): boolean {
  if (m.sharedWith === null) {
    if (m.orgId !== key.orgId) return false;
    if (m.accessProjects && !m.accessProjects.has(key.projectId)) return false;
  } else if (m.sharedWith !== key.orgId) {
    return false;
  }
  const allowed = key.models;
  if (allowed === null) return true;
  if (allowed.includes(requested) || allowed.includes(m.name) || allowed.includes(m.id)) return true;
  return m.aliases.some((a) => allowed.includes(a));
}

/** Model lookup for the hot path: one map read, the access rules, no SQL. */
export function findUsableModel(cache: ModelCache, key: KeyPrincipal, name: string): CompiledModel | null {
  const m = cache.lookup(key.orgId, name);
  if (!m || m.status === 'retired' || !mayUse(key, m, name)) return null;
  return m;
}

export function servesEndpoint(m: CompiledModel, endpoint: Endpoint): boolean {
  return SERVES[endpoint].has(m.type);
}

/** A 400 when the model (named `name` by the request) does not serve the endpoint. */
export function checkEndpoint(m: CompiledModel, name: string, endpoint: Endpoint): void {
  if (!servesEndpoint(m, endpoint)) {
    throw new AppError(
      'validation_failed',
      `The model \`${name}\` is a ${m.type} model and does not serve /v1/${endpoint.replace('.', '/')}.`,
      undefined,
      {
        param: 'model',
      },
    );
  }
}
