import { kvCacheBytes, type MemoryEstimate, servingEngineOverhead } from './memory-estimate.ts';

/** The fields of a Hugging Face `config.json` that size the KV cache (text config of multimodal models too). */
export interface HfConfig {
  num_hidden_layers?: number;
  hidden_size?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  head_dim?: number;
  max_position_embeddings?: number;
  torch_dtype?: string;
  vocab_size?: number;
  model_type?: string;
  text_config?: HfConfig;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2, float8: 1 };

/** Weights from the safetensors files; KV cache from config.json for the requested or trained context. */
export function estimateFromHfConfig(
  raw: HfConfig,
  weights: number,
  requestedContext?: number | null,
): MemoryEstimate {
  const c = raw.text_config?.num_hidden_layers ? { ...raw, ...raw.text_config } : raw;
  const heads = c.num_attention_heads ?? 1;
  const headDim = c.head_dim ?? Math.floor((c.hidden_size ?? 0) / heads);
  const context = requestedContext ?? c.max_position_embeddings ?? 4096;
  const notes: string[] = [];
  if (!c.num_hidden_layers) notes.push('config.json has no num_hidden_layers: KV cache not estimated');
  const kv = c.num_hidden_layers
    ? kvCacheBytes(
        {
          layers: c.num_hidden_layers,
          embedding: c.hidden_size ?? 0,
          heads,
          kvHeads: c.num_key_value_heads ?? heads,
          keyDim: headDim,
          valueDim: headDim,
          vocab: c.vocab_size ?? 0,
        },
        context,
        DTYPE_BYTES[c.torch_dtype ?? 'bfloat16'] ?? 2,
      )
    : 0;
  const overhead = servingEngineOverhead(weights);
  return {
    weights,
    kv_cache: kv,
    overhead,
    total: weights + kv + overhead,
    context_length: context,
    method: 'hf-config',
    architecture: c.model_type ?? null,
    notes,
  };
}

/** Only the size of the weights is known. */
export function estimateFromFileSize(weights: number, context: number | null, why: string): MemoryEstimate {
  const overhead = servingEngineOverhead(weights);
  return {
    weights,
    kv_cache: 0,
    overhead,
    total: weights + overhead,
    context_length: context,
    method: 'file-size',
    architecture: null,
    notes: [`KV cache not estimated: ${why}`],
  };
}
