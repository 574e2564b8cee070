/**
 * The ollama runtime of one replica: ollama has no authentication of its own, so this process runs
 * `ollama serve` on a free loopback port, imports the model (`ollama create NAME -f Modelfile`),
 * and only then listens on the node address, passing on requests that carry
 * `Authorization: Bearer $MAAS_REPLICA_API_KEY` (401 for the rest). Plain JavaScript on node's own
 * modules, so the agent starts it with node alone. ollama runs in this process's group: the agent
 * stopping the group stops both.
 *   MAAS_REPLICA_API_KEY=… node ollama-guard.mjs --host H --port N --name NAME --modelfile F [-- serve args]
 */
import { spawn } from 'node:child_process';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, request } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values: opts, positionals: serveArgs } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    name: { type: 'string' },
    modelfile: { type: 'string' },
    ollama: { type: 'string', default: 'ollama' },
  },
  allowPositionals: true,
  strict: true,
});
const apiKey = process.env.MAAS_REPLICA_API_KEY ?? '';
if (!opts.host || !opts.port || !opts.name || !opts.modelfile || apiKey.length < 16) {
  process.stderr.write(
    'usage: MAAS_REPLICA_API_KEY=… ollama-guard.mjs --host H --port N --name NAME --modelfile F\n',
  );
  process.exit(2);
}
const log = (msg) => process.stdout.write(`${new Date().toISOString()} guard: ${msg}\n`);
const digestOf = (text) => createHash('sha256').update(text).digest();
const keyDigest = digestOf(`Bearer ${apiKey}`);
const childEnv = { ...process.env };
delete childEnv.MAAS_REPLICA_API_KEY;

/** A port the kernel hands out on loopback. */
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const run = (args, env) =>
  new Promise((resolve, reject) => {
    const child = spawn(opts.ollama, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`ollama ${args[0]} exited with ${code}`)),
    );
  });

async function main() {
  const inner = await freePort();
  const env = { ...childEnv, OLLAMA_HOST: `127.0.0.1:${inner}` };
  const serve = spawn(opts.ollama, ['serve', ...serveArgs], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  serve.once('error', (err) => {
    log(`ollama did not start: ${err.message}`);
    process.exit(1);
  });
  serve.once('exit', (code, signal) => {
    log(`ollama exited (${signal ?? code})`);
    process.exit(code ?? 1);
  });
  for (const sig of ['SIGTERM', 'SIGINT'])
    process.once(sig, () => {
      serve.kill(sig);
      setTimeout(() => process.exit(0), 5_000).unref();
    });

  for (;;) {
    const up = await fetch(`http://127.0.0.1:${inner}/api/version`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await run(['create', opts.name, '-f', opts.modelfile], env);
  log(`model ${opts.name} imported; listening on ${opts.host}:${opts.port}`);

  const server = createServer((req, res) => {
    if (!timingSafeEqual(digestOf(req.headers.authorization ?? ''), keyDigest)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end(
        JSON.stringify({
          error: {
            message: 'this replica requires its credential: Authorization: Bearer …',
            type: 'authentication_error',
            param: null,
            code: null,
          },
        }),
      );
      return;
    }
    const headers = { ...req.headers, host: `127.0.0.1:${inner}` };
    delete headers.authorization;
    const up = request(
      { host: '127.0.0.1', port: inner, method: req.method, path: req.url, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.once('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end();
    });
    res.once('close', () => up.destroy());
    req.pipe(up);
  });
  server.once('error', (err) => {
    log(`cannot listen on ${opts.host}:${opts.port}: ${err.message}`);
    serve.kill('SIGTERM');
    process.exit(1);
  });
  server.listen(Number(opts.port), opts.host);
}

main().catch((err) => {
  log(`fatal: ${err.message}`);
  process.exit(1);
});
