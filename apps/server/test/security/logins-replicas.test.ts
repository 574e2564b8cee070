import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13, item 8: with REDIS_URL the login throttle is shared by every replica, so an attacker
 * cannot spread guesses over them. Servers on one private redis-server child process.
 */
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe.skipIf(!REDIS)('login throttle across replicas', () => {
  let redis: ChildProcess;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(
      REDIS!,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      const up = await fetch(`http://127.0.0.1:${port}`).then(
        () => true,
        (err: Error & { cause?: { code?: string } }) => err.cause?.code !== 'ECONNREFUSED',
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // replicas of one deployment share its secret key (and Redis); a third server with its own key
    // stands for another deployment on the same Redis
    const env = {
      REDIS_URL: url,
      MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
      MAAS_LOGIN_MAX_FAILURES: '4',
      MAAS_LOGIN_LOCKOUT_S: '30',
    };
    servers.push(
      await startTestServer(env),
      await startTestServer(env),
      await startTestServer({ ...env, MAAS_SECRET_KEY: randomBytes(32).toString('hex') }),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    redis?.kill();
  });

  it('counts failures on every replica against one account', async () => {
    const [a, b] = servers;
    for (const server of [a!, b!, a!, b!]) {
      const res = await server
        .client()
        .post('/api/v1/auth/login', { email: ADMIN_EMAIL, password: 'wrong-guess' });
      expect(res.status).toBe(401);
    }
    for (const server of [a!, b!]) {
      const res = await server
        .client()
        .post('/api/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(25);
    }
  });

  it('keeps another deployment on the same Redis apart', async () => {
    const other = servers[2]!;
    const res = await other
      .client()
      .post('/api/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    expect(res.status).toBe(200);
  });
});
