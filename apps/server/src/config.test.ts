import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'maas-config-'));

describe('loadConfig', () => {
  it('uses the embedded defaults', () => {
    const c = loadConfig({ MAAS_DATA_DIR: dir() });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      databaseUrl: undefined,
      adminEmail: 'admin@localhost',
    });
  });

  it.each([
    ['MAAS_PORT', 'eighty'],
    ['MAAS_PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://x'],
    ['MAAS_SECRET_KEY', 'short'],
    ['MAAS_LOG_LEVEL', 'loud'],
    ['MAAS_ADMIN_EMAIL', 'not-an-email'],
    ['MAAS_OUTBOUND_ALLOW', '10.0.0.0/33'],
  ])('names %s when its value %s is bad', (name, value) => {
    expect(() => loadConfig({ MAAS_DATA_DIR: dir(), [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ MAAS_DATA_DIR: dir(), [name]: value })).toThrow(
      new RegExp(`^invalid ${name}: `),
    );
  });

  it('requires MAAS_SECRET_KEY in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', MAAS_DATA_DIR: dir() })).toThrow(/MAAS_SECRET_KEY/);
  });

  it('generates the embedded secret key once, mode 0600, and keeps it', () => {
    const d = dir();
    const first = loadConfig({ MAAS_DATA_DIR: d });
    const second = loadConfig({ MAAS_DATA_DIR: d });
    expect(first.secretKey.equals(second.secretKey)).toBe(true);
    expect(first.secretKey).toHaveLength(32);
    expect(statSync(join(d, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(d, 'secret.key'), 'utf8').trim()).toBe(first.secretKey.toString('hex'));
  });
});
