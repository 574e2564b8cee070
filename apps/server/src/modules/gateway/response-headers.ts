import type { Pick } from './choose-target.ts';
import type { RequestState } from './request-state.ts';

const unsafe = /[^\x20-\x7e]/g;

/**
 * Our headers on every answer: which target served it (`shared` when the provider is another org's:
 * a shared model never shows its owner's providers), how many ms the gateway itself added, and a
 * deprecation warning when the model is deprecated.
 */
export function responseHeaders(state: RequestState, pick: Pick, upstreamMs: number): Record<string, string> {
  const overhead = Math.max(0, Math.round(performance.now() - state.startedAt - state.waitedMs - upstreamMs));
  const headers: Record<string, string> = {
    'x-maas-target':
      pick.provider.orgId === state.key.orgId
        ? `${pick.provider.name}/${pick.target.upstreamModel}`.replace(unsafe, '?')
        : 'shared',
    'x-maas-overhead-ms': String(overhead),
  };
  const model = state.model;
  if (model?.status === 'deprecated') {
    headers['x-maas-deprecated'] = 'true';
    headers.warning = `299 maas "The model ${model.name} is deprecated and will be retired"`;
  }
  if (state.fallbackFrom) headers['x-maas-fallback-from'] = state.fallbackFrom;
  return headers;
}
