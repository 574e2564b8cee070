import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import pg from 'pg';
import { createScratchDatabase } from '../packages/testkit/src/database.ts';
import { type SpawnedServer, spawnServer } from '../packages/testkit/src/spawn-server.ts';
import { startBalancer } from './lib/balancer.ts';
import { setUpMaas } from './lib/maas-setup.ts';
import { firstMessage, forkChild, freePort } from './lib/processes.ts';

/**
 * npm run bench:cluster [-- --workers=16 --steady=10 --out=bench/results/cluster.json]
 *
 * The distributed shape on loopback: 3 `maas serve` replicas on one PostgreSQL database and one
 * Redis, behind a round-robin balancer (bench/lib/balancer.ts), the fake upstream in its own
 * process. Clients (the openai SDK, maxRetries 5) send chat completions the whole time while
 *   1. one replica is killed with SIGKILL under load, and started again 10 s later;
 *   2. every replica in turn leaves the balancer's rotation, gets SIGTERM 1 s later (drain) and is
 *      started again (a rolling restart, as a Deployment with a preStop sleep does it).
 * Then every replica stops cleanly and the usage rows are matched with the successful requests by
 * request id: a success without its usage row is a lost row.
 *
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test: a scratch database is made
 * beside it and dropped) and BENCH_REDIS_URL (default redis://127.0.0.1:6379).
 */
const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '16' },
    steady: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/results/cluster.json' },
  },
});
const WORKERS = Number(args.workers);
const STEADY_MS = Number(args.steady) * 1000;
const ADMIN = { email: 'admin@localhost', password: 'bench-admin-password' };
const baseDb = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

type Phase = 'steady' | 'kill' | 'rolling' | 'after';
interface Outcome {
  phase: Phase;
  ms: number;
  ok: boolean;
  attempts: number;
  requestId?: string;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
const round = (n: number) => Math.round(n * 10) / 10;
const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

const upstream = forkChild(new URL('./lib/upstream-process.ts', import.meta.url).pathname);
const scratch = await createScratchDatabase(baseDb);
const work = await mkdtemp(join(tmpdir(), 'maas-bench-cluster-'));
const replicas: (SpawnedServer | undefined)[] = [undefined, undefined, undefined];
try {
  const { url: upstreamUrl } = await firstMessage<{ url: string }>(upstream);
  const ports = [await freePort(), await freePort(), await freePort()];
  const secretKey = randomBytes(32).toString('hex');
  const start = async (i: number) => {
    replicas[i] = await spawnServer(
      {
        NODE_ENV: 'production',
        MAAS_PORT: String(ports[i]),
        MAAS_DATA_DIR: join(work, `replica-${i}`),
        DATABASE_URL: scratch.url,
        REDIS_URL: redisUrl,
        MAAS_SECRET_KEY: secretKey,
        MAAS_ADMIN_EMAIL: ADMIN.email,
        MAAS_ADMIN_PASSWORD: ADMIN.password,
        MAAS_LOG_LEVEL: 'info',
        MAAS_SHUTDOWN_TIMEOUT_MS: '15000',
      },
      { timeoutMs: 120_000 },
    );
  };
  const started = performance.now();
  // all three at once: they migrate the fresh database under the advisory lock, one at a time
  await Promise.all([start(0), start(1), start(2)]);
  log(
    `3 replicas serving after ${Math.round(performance.now() - started)} ms (concurrent start, one migration)`,
  );
  const { key, model } = await setUpMaas(
    replicas[0]!.url,
    ADMIN,
    `${upstreamUrl}/v1`,
    'bench',
    'bench-chat',
    true,
  );
  await sleep(1_000); // keys, models and limits reach the other replicas through Redis
  const lb = await startBalancer(ports.map((p) => `http://127.0.0.1:${p}`));

  let phase: Phase = 'steady';
  let running = true;
  const outcomes: Outcome[] = [];
  const worker = async () => {
    let attempts = 0;
    const client = new OpenAI({
      apiKey: key,
      baseURL: `${lb.url}/v1`,
      maxRetries: 5,
      timeout: 30_000,
      fetch: ((url: string, init: RequestInit) => {
        attempts += 1;
        return fetch(url, init);
      }) as typeof fetch,
    });
    while (running) {
      const at = phase;
      attempts = 0;
      const t0 = performance.now();
      try {
        const { response } = await client.chat.completions
          .create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'cluster' }] })
          .withResponse();
        outcomes.push({
          phase: at,
          ms: performance.now() - t0,
          ok: true,
          attempts,
          requestId: response.headers.get('x-request-id') ?? undefined,
        });
      } catch (err) {
        outcomes.push({
          phase: at,
          ms: performance.now() - t0,
          ok: false,
          attempts,
          error: (err as Error).message,
        });
      }
    }
  };
  const load = Promise.all(Array.from({ length: WORKERS }, worker));

  await sleep(STEADY_MS);
  phase = 'kill';
  log('SIGKILL replica 1 under load');
  replicas[1]!.child.kill('SIGKILL');
  await sleep(10_000);
  await start(1);
  log('replica 1 serving again');
  await sleep(3_000);

  phase = 'rolling';
  for (let i = 0; i < 3; i++) {
    // as Kubernetes does (endpoints drop the pod, the chart's preStop sleeps), the balancer stops
    // sending new requests before SIGTERM; in-flight ones drain
    lb.setInRotation(i, false);
    await sleep(1_000);
    log(`rolling restart: SIGTERM replica ${i}`);
    await replicas[i]!.stop(20_000);
    await start(i);
    lb.setInRotation(i, true);
    log(`replica ${i} serving again`);
    await sleep(2_000);
  }
  phase = 'after';
  await sleep(3_000);
  running = false;
  await load;
  // clean stops flush every replica's usage buffer
  for (const r of replicas) await r?.stop(20_000);
  await lb.close();

  const db = new pg.Client({ connectionString: scratch.url });
  await db.connect();
  const rows = (await db.query('select request_id, http_status from usage_events')).rows as {
    request_id: string;
    http_status: number;
  }[];
  await db.end();
  const metered = new Set(rows.map((r) => r.request_id));
  const successes = outcomes.filter((o) => o.ok);
  const lost = successes.filter((o) => !o.requestId || !metered.has(o.requestId));
  const phaseFigures = (p: Phase) => {
    const of = outcomes.filter((o) => o.phase === p);
    const ms = of.map((o) => o.ms).sort((a, b) => a - b);
    return {
      requests: of.length,
      failed: of.filter((o) => !o.ok).length,
      retried: of.filter((o) => o.attempts > 1).length,
      p50_ms: round(pct(ms, 50)),
      p99_ms: round(pct(ms, 99)),
      max_ms: round(ms.at(-1) ?? 0),
    };
  };
  const result = {
    when: new Date().toISOString(),
    replicas: 3,
    workers: WORKERS,
    phases: {
      steady: phaseFigures('steady'),
      kill: phaseFigures('kill'),
      rolling: phaseFigures('rolling'),
      after: phaseFigures('after'),
    },
    requests: outcomes.length,
    successes: successes.length,
    failures: outcomes.length - successes.length,
    failure_examples: [...new Set(outcomes.filter((o) => !o.ok).map((o) => o.error))].slice(0, 5),
    usage_rows: rows.length,
    usage_rows_status_200: rows.filter((r) => r.http_status === 200).length,
    successes_without_usage_row: lost.length,
    successes_without_usage_row_by_phase: Object.fromEntries(
      (['steady', 'kill', 'rolling', 'after'] as const).map((p) => [
        p,
        lost.filter((o) => o.phase === p).length,
      ]),
    ),
    usage_rows_without_client_success: rows.length - (successes.length - lost.length),
    balancer: lb.stats,
  };
  console.log(JSON.stringify(result, null, 2));
  await mkdir(dirname(args.out), { recursive: true });
  await writeFile(args.out, `${JSON.stringify(result, null, 2)}\n`);
  if (result.failures > 0 || lost.length > 0) process.exitCode = 1;
} finally {
  for (const r of replicas) await r?.stop(0).catch(() => {});
  await upstream.stop();
  await scratch.drop().catch(() => {});
  await rm(work, { recursive: true, force: true });
}
