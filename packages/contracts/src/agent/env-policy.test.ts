import { describe, expect, it } from 'vitest';
import { inheritable, isLoaderVariable, runtimeEnv } from './env-policy.ts';

describe('runtime environment policy', () => {
  it('knows loader variables, whatever their case', () => {
    for (const name of [
      'NODE_OPTIONS',
      'LD_PRELOAD',
      'LD_LIBRARY_PATH',
      'LD_AUDIT',
      'ld_preload',
      'PYTHONPATH',
      'PYTHONSTARTUP',
      'PERL5LIB',
      'DYLD_INSERT_LIBRARIES',
      'BASH_ENV',
      'ENV',
      'BASH_FUNC_x%%',
    ]) {
      expect(isLoaderVariable(name), name).toBe(true);
    }
    for (const name of ['OMP_NUM_THREADS', 'HF_HOME', 'CUDA_VISIBLE_DEVICES', 'ENVIRONMENT']) {
      expect(isLoaderVariable(name), name).toBe(false);
    }
  });

  it("passes on paths, locale and GPU settings, never maas's own or the agent's secrets", () => {
    expect(inheritable('PATH')).toBe(true);
    expect(inheritable('LC_ALL')).toBe(true);
    expect(inheritable('CUDA_HOME')).toBe(true);
    expect(inheritable('ROCR_VISIBLE_DEVICES')).toBe(true);
    expect(inheritable('HF_HOME')).toBe(true);
    // the operator's own library path for CUDA: from the agent's environment only
    expect(inheritable('LD_LIBRARY_PATH')).toBe(true);
    for (const name of [
      'MAAS_SECRET_KEY',
      'MAAS_ADMIN_PASSWORD',
      'MAAS_ANYTHING',
      'DATABASE_URL',
      'REDIS_URL',
      'HF_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'OPENAI_API_KEY',
      'NODE_OPTIONS',
      'LD_PRELOAD',
      'LD_AUDIT',
      'PYTHONPATH',
    ]) {
      expect(inheritable(name), name).toBe(false);
    }
  });

  it('builds the environment: allow-listed host, then launch (minus loader variables), then extra', () => {
    const env = runtimeEnv(
      {
        PATH: '/usr/bin',
        HOME: '/home/maas',
        MAAS_SECRET_KEY: 'k',
        DATABASE_URL: 'postgres://u:p@db/maas',
        LD_PRELOAD: '/evil.so',
        CUDA_VISIBLE_DEVICES: '0,1',
        UNSET: undefined,
      },
      {
        CUDA_VISIBLE_DEVICES: '1',
        OMP_NUM_THREADS: '4',
        NODE_OPTIONS: '--require /evil.js',
        LD_LIBRARY_PATH: '/tmp/evil',
      },
      { MAAS_REPLICA_ID: 'rep_1' },
    );
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/maas',
      CUDA_VISIBLE_DEVICES: '1',
      OMP_NUM_THREADS: '4',
      MAAS_REPLICA_ID: 'rep_1',
    });
  });
});
