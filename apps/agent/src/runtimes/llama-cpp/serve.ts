/**
 * An OpenAI-compatible server for one GGUF model on node-llama-cpp: GET /health, GET /v1/models,
 * POST /v1/chat/completions (streaming too), and LoRA adapters served unmerged next to the base model
 * (GET /lora-adapters, POST /lora-adapters?name=N[&scale=S] with the adapter GGUF as the body,
 * DELETE /lora-adapters?name=N): a request whose `model` names a loaded adapter is answered with it,
 * any other by the base model. Started by the agent as its own process:
 *   MAAS_REPLICA_API_KEY=… node --import tsx serve.ts --model PATH --name NAME --port N [--host H]
 *                             [--ctx N] [--gpu auto|false] [--threads N] [--parallel N] [--lora ADAPTER]
 * Everything but /health requires `Authorization: Bearer $MAAS_REPLICA_API_KEY`; it will not start
 * without one.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { chatBody, generate, sseWriter, usageOf } from './chat-completions.ts';
import {
  ADAPTER_NAME,
  type AdapterSet,
  ChatPool,
  createAdapterSet,
  MAX_ADAPTER_BYTES,
} from './lora-adapters.ts';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string' },
    name: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    ctx: { type: 'string' },
    gpu: { type: 'string', default: 'false' },
    threads: { type: 'string' },
    parallel: { type: 'string', default: '2' },
    /** a LoRA adapter GGUF applied to every sequence (a fine-tuned model served unmerged) */
    lora: { type: 'string' },
  },
  strict: true,
});
if (!opts.model || !opts.name || !opts.port) {
  process.stderr.write('usage: serve.ts --model PATH --name NAME --port N\n');
  process.exit(2);
}
const apiKey = process.env.MAAS_REPLICA_API_KEY ?? '';
if (apiKey.length < 16) {
  process.stderr.write('serve.ts: MAAS_REPLICA_API_KEY (at least 16 characters) is required\n');
  process.exit(2);
}
const digestOf = (text: string) => createHash('sha256').update(text).digest();
const keyDigest = digestOf(`Bearer ${apiKey}`);
/** Constant-time check of the Authorization header against the replica credential. */
const authorized = (req: IncomingMessage) =>
  timingSafeEqual(digestOf(req.headers.authorization ?? ''), keyDigest);
const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
const threads = Number(opts.threads ?? Math.max(1, Math.min(8, availableParallelism() - 1)));
const parallel = Math.max(1, Number(opts.parallel));

let ready = false;
let basePool: ChatPool | null = null;
let adapters: AdapterSet | null = null;

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};
const error = (res: ServerResponse, status: number, message: string, type = 'invalid_request_error') =>
  json(res, status, { error: { message, type, param: null, code: null } });

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

async function chatCompletions(req: IncomingMessage, res: ServerResponse) {
  let parsed: ReturnType<typeof chatBody.safeParse>;
  try {
    parsed = chatBody.safeParse(await readJson(req));
  } catch {
    return error(res, 400, 'body is not valid JSON');
  }
  if (!parsed.success) return error(res, 400, parsed.error.issues[0]?.message ?? 'invalid body');
  const body = parsed.data;
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const started = performance.now();
  const adapter = adapters?.get(body.model) ?? null;
  const pool = adapter ?? basePool!;
  const chat = await pool.acquire();
  try {
    const base = {
      id: `chatcmpl-${randomUUID()}`,
      created: Math.floor(Date.now() / 1000),
      model: adapter ? body.model : opts.name!,
    };
    if (body.stream) {
      const sse = sseWriter(res, base);
      sse.start();
      const g = await generate(chat, body, abort.signal, (text) => sse.text(text));
      sse.finish(g, Boolean(body.stream_options?.include_usage));
      log(
        `chat completion (stream): ${g.promptTokens} prompt + ${g.completionTokens} completion tokens in ${Math.round(performance.now() - started)} ms`,
      );
      return;
    }
    const g = await generate(chat, body, abort.signal);
    json(res, 200, {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: g.text },
          finish_reason: g.finish,
          logprobs: null,
        },
      ],
      usage: usageOf(g),
    });
    log(
      `chat completion: ${g.promptTokens} prompt + ${g.completionTokens} completion tokens in ${Math.round(performance.now() - started)} ms`,
    );
  } catch (err) {
    log(`chat completion failed: ${(err as Error).message}`);
    if (!res.headersSent) error(res, 500, (err as Error).message, 'server_error');
    else res.end();
  } finally {
    pool.release(chat);
  }
}

async function readBytes(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > max) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Loads, lists and drops LoRA adapters (the platform's call, with the replica credential). */
async function loraAdapters(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://replica');
  if (req.method === 'GET') return json(res, 200, { object: 'list', data: adapters!.list() });
  const name = url.searchParams.get('name') ?? '';
  if (!ADAPTER_NAME.test(name) || name === opts.name)
    return error(res, 400, 'name: a model name, not the base');
  if (req.method === 'DELETE')
    return (await adapters!.remove(name))
      ? json(res, 200, { id: name, deleted: true })
      : error(res, 404, 'no such adapter');
  if (req.method !== 'POST') return error(res, 405, 'GET, POST or DELETE');
  const scale = Number(url.searchParams.get('scale') ?? '1');
  if (!Number.isFinite(scale) || scale < 0 || scale > 4) return error(res, 400, 'scale: a number in [0, 4]');
  const bytes = await readBytes(req, MAX_ADAPTER_BYTES);
  if (!bytes || bytes.length < 8 || bytes.subarray(0, 4).toString('latin1') !== 'GGUF')
    return error(res, 400, 'the body must be a LoRA adapter GGUF');
  const started = performance.now();
  try {
    await adapters!.load(name, bytes, scale);
  } catch (err) {
    log(`lora adapter ${name} failed to load: ${(err as Error).message}`);
    return error(res, 400, `the adapter did not load: ${(err as Error).message}`);
  }
  log(`lora adapter ${name} loaded (${bytes.length} bytes) in ${Math.round(performance.now() - started)} ms`);
  return json(res, 200, { id: name, bytes: bytes.length, scale });
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/health') {
    return ready ? json(res, 200, { status: 'ok' }) : json(res, 503, { status: 'loading' });
  }
  if (!authorized(req)) {
    res.setHeader('www-authenticate', 'Bearer');
    return error(
      res,
      401,
      'this replica requires its credential: Authorization: Bearer …',
      'authentication_error',
    );
  }
  if (!ready) return error(res, 503, 'model is loading', 'server_error');
  if (req.method === 'GET' && path === '/v1/models') {
    const names = [opts.name!, ...adapters!.list().map((a) => a.id)];
    return json(res, 200, {
      object: 'list',
      data: names.map((id) => ({ id, object: 'model', created: 0, owned_by: 'maas' })),
    });
  }
  if (path === '/lora-adapters') return void loraAdapters(req, res);
  if (req.method === 'POST' && path === '/v1/chat/completions') return void chatCompletions(req, res);
  return error(res, 404, `no route ${req.method} ${path}`);
});

async function main() {
  const started = performance.now();
  server.listen(Number(opts.port), opts.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  log(`listening on ${opts.host}:${opts.port}; loading ${opts.model}`);
  const llama = await getLlama({
    gpu: opts.gpu === 'false' ? false : 'auto',
    build: 'never',
    usePrebuiltBinaries: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.warn,
    logger: (_level, message) => log(`llama.cpp: ${message.trim()}`),
  });
  const model = await llama.loadModel({ modelPath: opts.model! });
  const context = await model.createContext({
    sequences: parallel,
    threads,
    ...(opts.ctx ? { contextSize: Number(opts.ctx) } : {}),
    ...(opts.lora ? { lora: { adapters: [{ filePath: opts.lora, scale: 1 }] } } : {}),
  });
  basePool = new ChatPool(context, parallel);
  adapters = createAdapterSet({
    model,
    sequences: parallel,
    threads,
    ...(opts.ctx ? { ctx: Number(opts.ctx) } : {}),
  });
  ready = true;
  log(
    `model ${opts.name} ready in ${Math.round(performance.now() - started)} ms (gpu: ${llama.gpu || 'none'}, context ${context.contextSize}, ${threads} threads, ${parallel} parallel)`,
  );
  const stop = async (signal: string) => {
    log(`${signal}: shutting down`);
    server.close();
    await adapters?.dispose();
    await context.dispose().catch(() => {});
    await model.dispose().catch(() => {});
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  log(`fatal: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
