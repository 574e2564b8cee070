import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { parseSource } from '@maas/contracts/agent';
import { createOutboundPolicy } from '@maas/outbound';
import { startModelFileServer, writeGguf, writeTinyLlama } from '@maas/testkit/src/gguf/index.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateFromGguf, estimateFromHfConfig, estimateSource, formatGiB } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'maas-estimate-'));
const tiny = writeTinyLlama(join(dir, 'tiny.gguf'));
const GIB = 1024 ** 3;
const server = await startModelFileServer({
  '/models/tiny.gguf': tiny,
  '/org/repo/resolve/main/tiny.gguf': tiny,
});
afterAll(() => server.close());

describe('memory estimation', () => {
  it('reads a GGUF header: weights are the tensor data, KV cache is F16 for the trained context', async () => {
    const e = await estimateSource(parseSource(tiny));
    const header = await gguf(tiny, { allowLocalFile: true });
    expect(e.method).toBe('gguf');
    expect(e.architecture).toBe('llama');
    expect(e.weights).toBe(statSync(tiny).size - Number(header.tensorDataOffset));
    // 2 layers × 512 positions × 2 KV heads × (16 + 16) dims × 2 bytes
    expect(e.kv_cache).toBe(2 * 512 * 2 * 32 * 2);
    expect(e.context_length).toBe(512);
    expect(e.total).toBe(e.weights + e.kv_cache + e.overhead);
  });

  it('sizes the KV cache of Llama 3 8B at 8k context as 1 GiB (GQA: 8 KV heads of 128)', () => {
    const metadata = {
      'general.architecture': 'llama',
      'llama.block_count': 32,
      'llama.embedding_length': 4096,
      'llama.attention.head_count': 32,
      'llama.attention.head_count_kv': 8,
      'llama.context_length': 8192,
    };
    const e = estimateFromGguf({ metadata: metadata as never, tensorDataOffset: 0n }, 4.9 * GIB, 8192);
    expect(e.kv_cache).toBe(GIB);
    expect(e.weights).toBeCloseTo(4.9 * GIB, -3);
    expect(formatGiB(e.total)).toMatch(/^6\.\d\d GiB$/);
  });

  it('caps the default llama.cpp context at 4096 and honours a requested one', () => {
    const metadata = {
      'general.architecture': 'qwen2',
      'qwen2.block_count': 28,
      'qwen2.embedding_length': 3584,
      'qwen2.attention.head_count': 28,
      'qwen2.attention.head_count_kv': 4,
      'qwen2.context_length': 32768,
    };
    expect(estimateFromGguf({ metadata: metadata as never, tensorDataOffset: 0n }, GIB).context_length).toBe(
      4096,
    );
    const e = estimateFromGguf({ metadata: metadata as never, tensorDataOffset: 0n }, GIB, 32768);
    expect(e.kv_cache).toBe(28 * 32768 * 4 * 256 * 2);
  });

  it('uses config.json and the safetensors sizes of a Hugging Face directory, no network', async () => {
    const model = join(dir, 'qwen-like');
    mkdirSync(model);
    const config = {
      model_type: 'qwen2',
      num_hidden_layers: 28,
      hidden_size: 3584,
      num_attention_heads: 28,
      num_key_value_heads: 4,
      max_position_embeddings: 32768,
      torch_dtype: 'bfloat16',
    };
    writeFileSync(join(model, 'config.json'), JSON.stringify(config));
    writeFileSync(join(model, 'model-00001-of-00002.safetensors'), Buffer.alloc(3000));
    writeFileSync(join(model, 'model-00002-of-00002.safetensors'), Buffer.alloc(1000));
    const e = await estimateSource(parseSource(model), { contextLength: 8192 });
    expect(e).toMatchObject({
      method: 'hf-config',
      weights: 4000,
      context_length: 8192,
      architecture: 'qwen2',
    });
    expect(e.kv_cache).toBe(28 * 8192 * 4 * 256 * 2);
    expect(estimateFromHfConfig(config, 15 * GIB).context_length).toBe(32768);
  });

  it('falls back to the file size when there is no config', async () => {
    const file = join(dir, 'weights.safetensors');
    writeFileSync(file, Buffer.alloc(2048));
    const e = await estimateSource(parseSource(file));
    expect(e.method).toBe('file-size');
    expect(e.weights).toBe(2048);
    expect(e.notes[0]).toMatch(/KV cache not estimated/);
  });

  it('reads the header of a remote GGUF with range requests, also through hf://', async () => {
    const local = await estimateSource(parseSource(tiny));
    // the file server listens on loopback, which only an allow-list lets through
    const outbound = createOutboundPolicy({ allow: '127.0.0.0/8' });
    const remote = await estimateSource(parseSource(`${server.url}/models/tiny.gguf`), { outbound });
    expect(remote).toEqual(local);
    expect(await estimateSource(parseSource('hf://org/repo/tiny.gguf', server.url), { outbound })).toEqual(
      local,
    );
    await expect(estimateSource(parseSource(`${server.url}/missing.gguf`), { outbound })).rejects.toThrow(
      /answered 404/,
    );
    expect(server.requests.some((r) => r.range)).toBe(true);
  });

  it('refuses to read a header from a private address the policy does not allow, without connecting', async () => {
    const before = server.requests.length;
    await expect(estimateSource(parseSource(`${server.url}/models/tiny.gguf`))).rejects.toThrow(
      /could not read .*: address not allowed by the outbound policy$/,
    );
    await expect(estimateSource(parseSource('http://169.254.169.254/x.gguf'))).rejects.toThrow(
      /address not allowed by the outbound policy/,
    );
    expect(server.requests.length).toBe(before);
  });

  it('reads a header-only GGUF written by the writer', async () => {
    const headerOnly = join(dir, 'header.gguf');
    writeFileSync(headerOnly, writeGguf({ 'general.architecture': { type: 'string', value: 'llama' } }, []));
    const parsed = await gguf(headerOnly, { allowLocalFile: true });
    expect(parsed.metadata.version).toBe(3);
    expect(parsed.tensorInfos).toEqual([]);
  });
});

describe('model sources', () => {
  it('resolves hf:// against the configured endpoint, with an optional revision', () => {
    expect(parseSource('hf://org/repo/sub/model-Q4_K_M.gguf', 'http://127.0.0.1:9')).toEqual({
      kind: 'url',
      url: 'http://127.0.0.1:9/org/repo/resolve/main/sub/model-Q4_K_M.gguf',
      fileName: 'model-Q4_K_M.gguf',
      display: 'hf://org/repo/sub/model-Q4_K_M.gguf',
    });
    expect(parseSource('hf://org/repo@v2/m.gguf')).toMatchObject({
      url: 'https://huggingface.co/org/repo/resolve/v2/m.gguf',
    });
    expect(() => parseSource('hf://org/repo')).toThrow(/names a file/);
    expect(() => parseSource('relative/model.gguf')).toThrow(/absolute/);
    expect(parseSource('file:///srv/m.gguf')).toEqual({ kind: 'path', path: '/srv/m.gguf' });
  });
});
