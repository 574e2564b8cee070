import type { CompiledModel } from '../../registry/index.ts';
import type { GatewayContext } from '../context.ts';

/**
 * Every target of every version of the model is an Anthropic provider: the client's request will
 * pass through unchanged, so what only Anthropic understands (documents, server tools …) may stay.
 * (A fallback model elsewhere gets the chat translation, without those parts.)
 */
export function servedOnlyByAnthropic(gw: GatewayContext, model: CompiledModel | null): boolean {
  if (!model || model.versions.length === 0) return false;
  return model.versions.every((v) =>
    v.tiers.every((tier) => tier.every((t) => gw.providers.get(t.runtime)?.type === 'anthropic')),
  );
}
