import { describe, expect, it } from 'vitest';
import { checkParameters, parameterFlags } from './runtime-parameters.ts';

describe('runtime preset parameters', () => {
  it('accepts the typed parameters of each preset', () => {
    expect(checkParameters('vllm', { dtype: 'bfloat16', max_num_seqs: 64, enforce_eager: true })).toEqual({
      ok: true,
      value: { dtype: 'bfloat16', max_num_seqs: 64, enforce_eager: true },
    });
    expect(checkParameters('llama-cpp', { threads: 2 })).toMatchObject({ ok: true });
    expect(checkParameters('ollama', undefined)).toEqual({ ok: true, value: {} });
  });

  it('refuses unknown parameters, free text and out-of-range values, naming the parameter', () => {
    expect(checkParameters('vllm', { dtype: 'bfloat16 --trust-remote-code' })).toMatchObject({
      ok: false,
      path: 'parameters.dtype',
    });
    expect(checkParameters('llama-cpp', { trust_remote_code: true })).toMatchObject({
      ok: false,
      path: 'parameters.trust_remote_code',
      message: 'the llama-cpp runtime has no parameter trust_remote_code',
    });
    expect(checkParameters('sglang', { mem_fraction_static: 2 })).toMatchObject({ ok: false });
    expect(checkParameters('custom', { threads: 1 })).toMatchObject({ ok: false });
  });

  it('maps parameters to flags by a table; a false switch adds nothing', () => {
    const flags = parameterFlags(
      { dtype: 'half', max_num_seqs: 8, enforce_eager: true, enable_prefix_caching: false },
      {
        dtype: '--dtype',
        max_num_seqs: '--max-num-seqs',
        enforce_eager: '--enforce-eager',
        enable_prefix_caching: '--enable-prefix-caching',
      },
    );
    expect(flags).toEqual(['--dtype', 'half', '--max-num-seqs', '8', '--enforce-eager']);
  });
});
