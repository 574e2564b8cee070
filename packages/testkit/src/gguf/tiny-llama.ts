import { writeFileSync } from 'node:fs';
import { type GgufTensor, type GgufValue, writeGguf } from './write-gguf.ts';

export interface TinyLlamaOptions {
  /** weights are drawn from a PRNG with this seed: the same seed writes the same bytes */
  seed?: number;
  embedding?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  feedForward?: number;
  contextLength?: number;
  name?: string;
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'the',
  'hello',
  'world',
  'model',
  'is',
  'a',
  'of',
  'and',
  'to',
  'in',
  'you',
  'it',
  'maas',
  'GPU',
  'fast',
];

/** A SentencePiece-style vocabulary: specials, 256 byte-fallback tokens, characters and a few words. */
function vocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'];
  const types = [2, 3, 3, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  const chars = '▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'"-:;()';
  for (const piece of [...chars, ...WORDS.map((w) => `▁${w}`)]) {
    tokens.push(piece);
    types.push(1);
  }
  const scores = tokens.map((t, i) => (types[i] === 1 ? (t.length > 1 ? 0 : -i) : 0));
  return { tokens, scores, types };
}

const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/**
 * A llama-architecture GGUF with random F32 weights (about 0.5 MB): llama.cpp loads it and
 * generates (nonsense) text, deterministically for a fixed seed and sampling seed.
 */
export function tinyLlamaGguf(opts: TinyLlamaOptions = {}): Buffer {
  const n = {
    embd: opts.embedding ?? 64,
    layers: opts.layers ?? 2,
    heads: opts.heads ?? 4,
    kvHeads: opts.kvHeads ?? 2,
    ff: opts.feedForward ?? 128,
    ctx: opts.contextLength ?? 512,
  };
  const headDim = n.embd / n.heads;
  const vocab = vocabulary();
  const nVocab = vocab.tokens.length;
  const random = prng(opts.seed ?? 42);
  const scale = 1 / Math.sqrt(n.embd);
  const tensors: GgufTensor[] = [];
  const add = (name: string, shape: number[], fill?: number) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = fill ?? (random() * 2 - 1) * scale * 2;
    tensors.push({ name, shape, data });
  };
  add('token_embd.weight', [n.embd, nVocab]);
  for (let l = 0; l < n.layers; l++) {
    const p = `blk.${l}`;
    add(`${p}.attn_norm.weight`, [n.embd], 1);
    add(`${p}.attn_q.weight`, [n.embd, n.embd]);
    add(`${p}.attn_k.weight`, [n.embd, headDim * n.kvHeads]);
    add(`${p}.attn_v.weight`, [n.embd, headDim * n.kvHeads]);
    add(`${p}.attn_output.weight`, [n.embd, n.embd]);
    add(`${p}.ffn_norm.weight`, [n.embd], 1);
    add(`${p}.ffn_gate.weight`, [n.embd, n.ff]);
    add(`${p}.ffn_up.weight`, [n.embd, n.ff]);
    add(`${p}.ffn_down.weight`, [n.ff, n.embd]);
  }
  add('output_norm.weight', [n.embd], 1);
  add('output.weight', [n.embd, nVocab]);
  // Only ordinary pieces get logits: greedy decoding then never emits bytes, specials or the end token.
  const output = tensors[tensors.length - 1]!.data;
  for (let t = 0; t < nVocab; t++) {
    for (let i = 0; i < n.embd; i++) output[t * n.embd + i]! *= vocab.types[t] === 1 ? 4 : 0;
  }

  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const metadata: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: opts.name ?? 'tiny-llama' },
    'general.file_type': u32(0),
    'llama.context_length': u32(n.ctx),
    'llama.embedding_length': u32(n.embd),
    'llama.block_count': u32(n.layers),
    'llama.feed_forward_length': u32(n.ff),
    'llama.attention.head_count': u32(n.heads),
    'llama.attention.head_count_kv': u32(n.kvHeads),
    'llama.rope.dimension_count': u32(headDim),
    'llama.attention.layer_norm_rms_epsilon': { type: 'f32', value: 1e-5 },
    'tokenizer.ggml.model': { type: 'string', value: 'llama' },
    'tokenizer.ggml.tokens': { type: 'string[]', value: vocab.tokens },
    'tokenizer.ggml.scores': { type: 'f32[]', value: vocab.scores },
    'tokenizer.ggml.token_type': { type: 'i32[]', value: vocab.types },
    'tokenizer.ggml.unknown_token_id': u32(0),
    'tokenizer.ggml.bos_token_id': u32(1),
    'tokenizer.ggml.eos_token_id': u32(2),
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: true },
    'tokenizer.chat_template': { type: 'string', value: CHATML },
  };
  return writeGguf(metadata, tensors);
}

/** Writes the tiny model to `path` and returns the path. */
export function writeTinyLlama(path: string, opts: TinyLlamaOptions = {}): string {
  writeFileSync(path, tinyLlamaGguf(opts));
  return path;
}
