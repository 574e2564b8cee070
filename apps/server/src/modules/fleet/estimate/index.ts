export { type EstimateOptions, EstimateUnavailable, estimateSource } from './estimate-source.ts';
export { estimateFromGguf, ggufShape } from './from-gguf.ts';
export { estimateFromFileSize, estimateFromHfConfig, type HfConfig } from './from-hf-config.ts';
export {
  DEFAULT_LLAMA_CONTEXT,
  formatGiB,
  kvCacheBytes,
  type MemoryEstimate,
  userEstimate,
} from './memory-estimate.ts';
