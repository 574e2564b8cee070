import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createScratchDatabase } from '../../packages/testkit/src/database.ts';
import { setUpMaas } from './maas-setup.ts';
import { type Child, firstMessage, forkChild, freePort, waitForPort } from './processes.ts';

/** A system under test: where to send OpenAI-style requests, with which headers and model name. */
export interface Target {
  name: string;
  /** the `/v1` base URL */
  url: string;
  headers: Record<string, string>;
  model: string;
  /** the system's process, for its CPU time (none for `direct`: the upstream is every system's) */
  pid?: number;
  /** CPU time (ms) so far of a server the system calls per request and the bench does not count in `pid` (Redis) */
  serverCpuMs?: () => Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts one system in front of the fake upstream (`upstream` is its origin, without /v1). */
export type TargetFactory = (upstream: string) => Promise<Target>;

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const UPSTREAM_KEY = 'sk-bench-upstream';

async function started(child: Child): Promise<string> {
  try {
    return (await firstMessage<{ url: string }>(child)).url;
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** The fake upstream itself: the floor every gateway adds to. */
export const direct: TargetFactory = async (upstream) => ({
  name: 'direct',
  url: `${upstream}/v1`,
  headers: { authorization: `Bearer ${UPSTREAM_KEY}` },
  model: 'fake-chat',
  stop: async () => {},
});

/** A bare Fastify + undici pass-through proxy. */
export const baseline: TargetFactory = async (upstream) => {
  const child = forkChild(here('../baseline-proxy.ts'), { env: { UPSTREAM_URL: upstream } });
  const url = await started(child);
  return {
    name: 'baseline',
    url: `${url}/v1`,
    headers: { authorization: `Bearer ${UPSTREAM_KEY}` },
    model: 'fake-chat',
    pid: child.process.pid,
    stop: () => child.stop(),
  };
};

/** Portkey's open-source gateway (`@portkey-ai/gateway`), routed with its custom-host header. */
export const portkey: TargetFactory = async (upstream) => {
  const port = await freePort();
  const child = forkChild(here('../../node_modules/@portkey-ai/gateway/build/start-server.js'), {
    args: [`--port=${port}`, '--headless'],
    execArgv: ['--import', 'tsx', '--import', here('./portkey-preload.ts')],
    env: { NODE_ENV: 'production' },
  });
  try {
    await waitForPort(port, child);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return {
    name: 'portkey',
    url: `http://127.0.0.1:${port}/v1`,
    headers: {
      authorization: `Bearer ${UPSTREAM_KEY}`,
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${upstream}/v1`,
    },
    model: 'fake-chat',
    pid: child.process.pid,
    stop: () => child.stop(),
  };
};

/** The production bundle (`npm run build`): maas is measured as `npm start` and the image run it. */
const BUNDLE = here('../../dist/maas.mjs');
const SOURCES = here('../../apps/cli/src/bin.ts');

/** Waits for `/readyz` to answer 200 (the port opens before the server is ready to serve). */
async function ready(url: string, child: Child, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`maas exited early\n${child.output().trim()}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`maas not ready after ${timeoutMs} ms\n${child.output().trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * maas itself, `maas serve` from the production bundle (build it first: `buildBundle`) on in-memory
 * PGlite, configured through its admin API. `env` selects a variant (MAAS_* settings); MAAS_*
 * variables of the bench's own environment reach every variant. MAAS_BENCH_DATABASE_URL /
 * MAAS_BENCH_REDIS_URL run it on PostgreSQL / Redis.
 */
export function maas(
  name = 'maas',
  env: Record<string, string> = {},
  opts: {
    governance?: boolean;
    redis?: boolean;
    postgres?: boolean;
    execArgv?: string[];
    /** run the TypeScript sources under tsx instead of the bundle (profiles then name our files) */
    sources?: boolean;
  } = {},
): TargetFactory {
  return async (upstream) => {
    const admin = { email: 'bench@localhost', password: randomBytes(12).toString('hex') };
    // on PostgreSQL, a scratch database of its own, dropped afterwards
    const base = opts.postgres
      ? (process.env.MAAS_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
      : process.env.MAAS_BENCH_DATABASE_URL;
    const scratch = base ? await createScratchDatabase(base) : undefined;
    const redisUrl = opts.redis ? (process.env.MAAS_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379') : undefined;
    const redis = redisUrl ? new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined;
    const port = await freePort();
    const own = process.env;
    const child = forkChild(opts.sources ? SOURCES : BUNDLE, {
      args: ['serve'],
      execArgv: [...(opts.sources ? ['--import', 'tsx'] : []), ...(opts.execArgv ?? [])],
      env: {
        NODE_ENV: 'production',
        MAAS_SECRET_KEY: own.MAAS_SECRET_KEY ?? randomBytes(32).toString('hex'),
        MAAS_LOG_LEVEL: own.MAAS_LOG_LEVEL ?? 'warn',
        // the bench's fake upstreams listen on loopback, allowed as a self-hosted upstream's range would be
        MAAS_OUTBOUND_ALLOW: own.MAAS_OUTBOUND_ALLOW ?? '127.0.0.0/8',
        MAAS_ADMIN_EMAIL: admin.email,
        MAAS_ADMIN_PASSWORD: admin.password,
        ...env,
        MAAS_HOST: '127.0.0.1',
        MAAS_PORT: String(port),
        MAAS_DATA_DIR: 'memory://',
        DATABASE_URL: scratch?.url,
        REDIS_URL: redisUrl ?? own.MAAS_BENCH_REDIS_URL,
      },
    });
    const stop = async () => {
      await child.stop();
      await scratch?.drop();
      redis?.disconnect();
    };
    try {
      const url = `http://127.0.0.1:${port}`;
      await ready(url, child);
      const setup = await setUpMaas(
        url,
        admin,
        `${upstream}/v1`,
        UPSTREAM_KEY,
        'bench-chat',
        opts.governance ?? true,
      );
      return {
        name,
        url: `${url}/v1`,
        headers: { authorization: `Bearer ${setup.key}` },
        model: setup.model,
        pid: child.process.pid,
        ...(redis ? { serverCpuMs: () => redisCpuMs(redis) } : {}),
        stop,
      };
    } catch (error) {
      await stop();
      throw error;
    }
  };
}

/** The Redis server's CPU time so far (INFO cpu: user + system, main and background threads), ms. */
async function redisCpuMs(redis: Redis): Promise<number | null> {
  try {
    const info = await redis.info('cpu');
    const field = (name: string) =>
      Number(info.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))?.[1] ?? Number.NaN);
    const ms = (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
    return Number.isFinite(ms) ? ms : null;
  } catch {
    return null;
  }
}

/** Every system the bench knows, in the order they run; `--systems=a,b` picks some. */
export const SYSTEMS: Record<string, TargetFactory> = {
  direct,
  baseline,
  maas: maas(),
  'maas-no-governance': maas('maas-no-governance', {}, { governance: false }),
  'maas-redis': maas('maas-redis', {}, { redis: true }),
  // the distributed setup: PostgreSQL for the database, Redis for limits and the event bus
  'maas-distributed': maas('maas-distributed', {}, { postgres: true, redis: true }),
  portkey,
};
