import type { ProviderType } from '../../providers/schema.ts';
import { anthropicAdapter } from './anthropic/index.ts';
import { openAiCompatibleAdapter } from './openai-compatible/index.ts';
import type { Adapter } from './types.ts';

export type * from './types.ts';

/** One adapter per provider type. */
export const adapters: Record<ProviderType, Adapter> = {
  'openai-compatible': openAiCompatibleAdapter,
  anthropic: anthropicAdapter,
};
