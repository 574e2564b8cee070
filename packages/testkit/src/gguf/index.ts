export { type ModelFileServer, startModelFileServer } from './file-server.ts';
export { type TinyLlamaOptions, tinyLlamaGguf, writeTinyLlama } from './tiny-llama.ts';
export { type GgufTensor, type GgufValue, writeGguf } from './write-gguf.ts';
