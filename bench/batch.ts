import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI, { toFile } from 'openai';
import { spawnServer } from '../packages/testkit/src/spawn-server.ts';
import { setUpMaas } from './lib/maas-setup.ts';
import { firstMessage, forkChild } from './lib/processes.ts';

/**
 * npm run bench:batch [-- --lines=10000 --concurrency=8 --out=bench/results/batch.json]
 *
 * One `maas serve` (embedded PGlite on disk) and the fake upstream, each in its own process. A
 * batch of N chat lines runs through /v1/batches while a client sends interactive requests one at
 * a time; the same client's latency without a batch is measured before and after it, in the same run.
 */
const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '8' },
    baseline: { type: 'string', default: '300' },
    out: { type: 'string', default: 'bench/results/batch.json' },
  },
});
const LINES = Number(args.lines);
const ADMIN = { email: 'admin@localhost', password: 'bench-admin-password' };

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return {
    requests: s.length,
    p50_ms: round(pct(s, 50), 2),
    p95_ms: round(pct(s, 95), 2),
    p99_ms: round(pct(s, 99), 2),
  };
}

async function interactive(url: string, key: string, model: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'interactive' }] }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`interactive request: ${res.status}`);
  return performance.now() - started;
}

const upstream = forkChild(new URL('./lib/upstream-process.ts', import.meta.url).pathname);
const dataDir = await mkdtemp(join(tmpdir(), 'maas-bench-batch-'));
let server: Awaited<ReturnType<typeof spawnServer>> | undefined;
try {
  const { url: upstreamUrl } = await firstMessage<{ url: string }>(upstream);
  server = await spawnServer({
    NODE_ENV: 'production',
    MAAS_PORT: '0',
    MAAS_DATA_DIR: process.env.BENCH_DATA_DIR ?? dataDir,
    MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
    MAAS_ADMIN_EMAIL: ADMIN.email,
    MAAS_ADMIN_PASSWORD: ADMIN.password,
    MAAS_LOG_LEVEL: 'info',
    MAAS_BATCH_CONCURRENCY: args.concurrency,
    MAAS_BATCH_POLL_MS: '100',
  });
  const { key, model } = await setUpMaas(server.url, ADMIN, `${upstreamUrl}/v1`, 'bench', 'bench-chat', true);
  const client = new OpenAI({ apiKey: key, baseURL: `${server.url}/v1` });

  for (let i = 0; i < 500; i++) await interactive(server.url, key, model); // warm-up (JIT, pools, caches)
  const without: number[] = [];
  for (let i = 0; i < Number(args.baseline); i++) without.push(await interactive(server.url, key, model));

  const text = Array.from({ length: LINES }, (_, i) =>
    JSON.stringify({
      custom_id: `line-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model, max_tokens: 16, messages: [{ role: 'user', content: `batch line ${i}` }] },
    }),
  ).join('\n');
  const file = await client.files.create({
    file: await toFile(Buffer.from(text), 'bench.jsonl'),
    purpose: 'batch',
  });
  const started = performance.now();
  const created = await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  let batch = created;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      batch = await client.batches.retrieve(created.id);
      if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) polling = false;
      else await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const during: number[] = [];
  while (polling) {
    const ms = await interactive(server.url, key, model);
    if (batch.status === 'in_progress') during.push(ms);
  }
  await poller;
  const after: number[] = [];
  for (let i = 0; i < Number(args.baseline); i++) after.push(await interactive(server.url, key, model));
  const wallS = (performance.now() - started) / 1000;
  if (batch.status !== 'completed')
    throw new Error(`batch ended ${batch.status}: ${JSON.stringify(batch.errors)}`);
  const runS = (batch.completed_at ?? 0) - (batch.in_progress_at ?? 0);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.version },
    setup: {
      lines: LINES,
      batch_concurrency: Number(args.concurrency),
      database: 'PGlite on disk (embedded)',
      upstream: 'fake OpenAI upstream, own process, no added latency',
      governance: 'price, key/project/org limits, budget and quota on the key',
    },
    batch: {
      status: batch.status,
      request_counts: batch.request_counts,
      wall_s: round(wallS, 2),
      lines_per_s: round(LINES / wallS),
      in_progress_to_completed_s: runS,
    },
    interactive_without_batch: summary(without),
    interactive_during_batch: summary(during),
    interactive_after_batch: summary(after),
  };
  console.log(`batch of ${LINES} lines: ${result.batch.wall_s} s wall, ${result.batch.lines_per_s} lines/s`);
  console.log(
    `interactive p50 without a batch ${result.interactive_without_batch.p50_ms} ms, during it ${result.interactive_during_batch.p50_ms} ms (p95 ${result.interactive_without_batch.p95_ms} → ${result.interactive_during_batch.p95_ms} ms, ${during.length} requests)`,
  );
  await mkdir(dirname(args.out), { recursive: true });
  await writeFile(args.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`interactive p50 after the batch ${result.interactive_after_batch.p50_ms} ms`);
  console.log(`written to ${args.out}`);
} finally {
  await server?.stop();
  await upstream.stop();
  await rm(dataDir, { recursive: true, force: true });
}
