import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorMapper } from '../../http/error-mapper.ts';
import { consoleRoutes } from './index.ts';

async function appWith(distDir: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  registerErrorMapper(app);
  app.get('/api/v1/ping', async () => ({ ok: true }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(consoleRoutes, { distDir });
  await app.ready();
  return app;
}

describe('console routes', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'maas-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
    app = await appWith(dir);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a strict CSP, no framing, nosniff and a same-origin referrer policy on console pages only', async () => {
    for (const url of ['/', '/keys', '/assets/app-1234.js']) {
      const res = await app.inject({ url });
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy']).toBe('same-origin');
    }
    const api = await app.inject({ url: '/api/v1/ping' });
    expect(api.headers['content-security-policy']).toBeUndefined();
  });

  it('serves index.html at / and for client-side routes, never cached', async () => {
    for (const url of ['/', '/keys', '/models/mdl_1?tab=traffic']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('id="root"');
    }
  });

  it('serves hashed assets as immutable and other files as they are', async () => {
    const asset = await app.inject({ url: '/assets/app-1234.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
    const icon = await app.inject({ url: '/favicon.svg' });
    expect(icon.headers['content-type']).toContain('image/svg+xml');
  });

  it('answers missing files, API and gateway paths with the JSON 404, not the app', async () => {
    const asset = await app.inject({ url: '/assets/gone.js' });
    expect(asset.statusCode).toBe(404);
    expect(asset.json().error.code).toBe('not_found');
    const api = await app.inject({ url: '/api/v1/nope' });
    expect(api.statusCode).toBe(404);
    expect(api.json().error.code).toBe('not_found');
    const gateway = await app.inject({ url: '/v1/nope' });
    expect(gateway.statusCode).toBe(404);
    expect(gateway.json().error.type).toBe('not_found_error');
    for (const url of ['/api', '/v1', '/metrics', '/docs/x', '/openapi.json']) {
      expect((await app.inject({ url })).headers['content-type']).toContain('application/json');
    }
    expect((await app.inject({ url: '/api/v1/ping' })).json()).toEqual({ ok: true });
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('refuses paths that climb out of the build', async () => {
    const res = await app.inject({ url: '/..%2f..%2fetc%2fpasswd' });
    expect(res.body).not.toContain('root:');
  });

  it('still starts without a build, and / says how to build the console', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'maas-console-empty-'));
    const bare = await appWith(empty);
    const res = await bare.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('npm run build -w @maas/console');
    expect((await bare.inject({ url: '/api/v1/nope' })).statusCode).toBe(404);
    await bare.close();
    rmSync(empty, { recursive: true, force: true });
  });
});
