import type { GGUFParseOutput } from '@huggingface/gguf';
import {
  type AttentionShape,
  DEFAULT_LLAMA_CONTEXT,
  kvCacheBytes,
  llamaCppOverhead,
  type MemoryEstimate,
} from './memory-estimate.ts';

type Metadata = Record<string, unknown>;

const int = (m: Metadata, key: string): number | undefined => {
  const v = m[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v) && v.length > 0) return Math.max(...v.map(Number)); // per-layer head counts
  return undefined;
};

/** The attention shape from GGUF metadata (`<arch>.block_count`, `<arch>.attention.head_count` …). */
export function ggufShape(metadata: Metadata): {
  arch: string;
  shape: AttentionShape;
  trainedContext: number | undefined;
} {
  const arch = String(metadata['general.architecture'] ?? 'llama');
  const embedding = int(metadata, `${arch}.embedding_length`) ?? 0;
  const heads = int(metadata, `${arch}.attention.head_count`) ?? 1;
  const headDim = heads > 0 ? Math.floor(embedding / heads) : 0;
  const tokens = metadata['tokenizer.ggml.tokens'];
  return {
    arch,
    trainedContext: int(metadata, `${arch}.context_length`),
    shape: {
      layers: int(metadata, `${arch}.block_count`) ?? 0,
      embedding,
      heads,
      kvHeads: int(metadata, `${arch}.attention.head_count_kv`) ?? heads,
      keyDim: int(metadata, `${arch}.attention.key_length`) ?? headDim,
      valueDim: int(metadata, `${arch}.attention.value_length`) ?? headDim,
      vocab: Array.isArray(tokens) ? tokens.length : (int(metadata, `${arch}.vocab_size`) ?? 32_000),
    },
  };
}

/**
 * Weights are the tensor data (file size less the header); the KV cache is F16 for the context
 * llama.cpp will use (the requested one, else the trained one capped at 4096).
 */
export function estimateFromGguf(
  parsed: Pick<GGUFParseOutput, 'metadata' | 'tensorDataOffset'>,
  fileSize: number,
  requestedContext?: number | null,
): MemoryEstimate {
  const { arch, shape, trainedContext } = ggufShape(parsed.metadata as unknown as Metadata);
  const context =
    requestedContext ?? Math.min(trainedContext ?? DEFAULT_LLAMA_CONTEXT, DEFAULT_LLAMA_CONTEXT);
  const notes: string[] = [];
  if (trainedContext && context > trainedContext)
    notes.push(`context ${context} exceeds the trained ${trainedContext}`);
  const weights = Math.max(0, fileSize - Number(parsed.tensorDataOffset));
  const kv = kvCacheBytes(shape, context);
  const overhead = llamaCppOverhead(shape, context);
  return {
    weights,
    kv_cache: kv,
    overhead,
    total: weights + kv + overhead,
    context_length: context,
    method: 'gguf',
    architecture: arch,
    notes,
  };
}
