import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_FILE, spawnRuntime } from './runtime-process.ts';

const script = `
const fs = require('node:fs');
fs.writeFileSync('env.json', JSON.stringify(process.env));
console.log('up');
`;

describe('spawnRuntime', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('starts the runtime with an allow-listed environment and owner-only files, whatever the umask', async () => {
    Object.assign(process.env, {
      MAAS_SECRET_KEY: 'f'.repeat(64),
      MAAS_ADMIN_PASSWORD: 'admin-password',
      DATABASE_URL: 'postgres://maas:pw@db/maas',
      REDIS_URL: 'redis://:pw@cache:6379',
      CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
    });
    const dir = join(mkdtempSync(join(tmpdir(), 'maas-rp-')), 'rep_1');
    const old = process.umask(0o000);
    let spawned: Awaited<ReturnType<typeof spawnRuntime>>;
    try {
      spawned = await spawnRuntime(dir, 'rep_1', {
        command: process.execPath,
        args: ['-e', script],
        env: { OMP_NUM_THREADS: '2', LD_PRELOAD: '/tmp/evil.so', NODE_OPTIONS: '--require /tmp/evil.js' },
        port: 1,
        healthPath: '/health',
        apiPath: '/v1',
      });
    } finally {
      process.umask(old);
    }
    expect(await spawned.exited).toBe('code 0');
    const env = JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8')) as Record<string, string>;
    expect(env).toMatchObject({
      OMP_NUM_THREADS: '2',
      CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
      MAAS_REPLICA_ID: 'rep_1',
    });
    for (const name of [
      'MAAS_SECRET_KEY',
      'MAAS_ADMIN_PASSWORD',
      'DATABASE_URL',
      'REDIS_URL',
      'LD_PRELOAD',
      'NODE_OPTIONS',
    ])
      expect(env[name], name).toBeUndefined();
    expect(env.PATH).toBe(process.env.PATH);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, LOG_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'runtime.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, LOG_FILE), 'utf8')).toBe('up\n');
  });
});
