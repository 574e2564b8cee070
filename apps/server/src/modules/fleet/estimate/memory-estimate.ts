/** What a model needs in (GPU or host) memory, and how that was worked out. Sizes are bytes. */
export interface MemoryEstimate {
  weights: number;
  kv_cache: number;
  overhead: number;
  total: number;
  context_length: number | null;
  method: 'gguf' | 'hf-config' | 'file-size' | 'user';
  architecture: string | null;
  notes: string[];
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** llama.cpp's context when a deployment does not set one: the trained length, at most this. */
export const DEFAULT_LLAMA_CONTEXT = 4096;

export interface AttentionShape {
  layers: number;
  embedding: number;
  heads: number;
  kvHeads: number;
  keyDim: number;
  valueDim: number;
  vocab: number;
}

/** K and V for every layer and position of one sequence. */
export function kvCacheBytes(shape: AttentionShape, context: number, bytesPerElement = 2): number {
  return shape.layers * context * shape.kvHeads * (shape.keyDim + shape.valueDim) * bytesPerElement;
}

/** llama.cpp's compute buffers: logits and attention scores for one 512-token micro-batch, plus slack. */
export function llamaCppOverhead(shape: AttentionShape, context: number): number {
  return 64 * MIB + shape.vocab * 512 * 4 + 512 * context * shape.heads * 4;
}

/** vLLM / SGLang: activations, CUDA graphs and the allocator's slack. */
export function servingEngineOverhead(weights: number): number {
  return Math.max(GIB, Math.round(weights * 0.1));
}

export function userEstimate(bytes: number, contextLength: number | null): MemoryEstimate {
  return {
    weights: bytes,
    kv_cache: 0,
    overhead: 0,
    total: bytes,
    context_length: contextLength,
    method: 'user',
    architecture: null,
    notes: ['set by resources.gpu_memory_gib'],
  };
}

export function formatGiB(bytes: number): string {
  const gib = bytes / GIB;
  return `${gib >= 10 ? gib.toFixed(1) : gib >= 0.1 ? gib.toFixed(2) : gib.toFixed(3)} GiB`;
}
