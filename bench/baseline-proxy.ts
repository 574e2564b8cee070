import Fastify from 'fastify';
import { Pool } from 'undici';

/**
 * The baseline: the least a gateway must do — a bare Fastify server that forwards /v1/* to the
 * upstream through an undici Pool and streams the body through untouched. Run as a child process
 * with UPSTREAM_URL (origin, no /v1); sends `{ url }` (its origin) over IPC.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'host',
]);

const upstreamUrl = process.env.UPSTREAM_URL;
if (!upstreamUrl) throw new Error('UPSTREAM_URL is required');
const pool = new Pool(upstreamUrl, { connections: 256, pipelining: 1 });
const app = Fastify({ logger: false });

// keep request bodies as raw bytes: no JSON parsing on the way through
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 10 * 1024 * 1024 }, (_req, body, done) =>
  done(null, body),
);

app.all('/v1/*', async (req, reply) => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const upstream = await pool.request({
    method: req.method as 'GET' | 'POST',
    path: req.url,
    headers,
    body: req.body as Buffer | undefined,
  });
  reply.code(upstream.statusCode);
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
  }
  return reply.send(upstream.body);
});

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.send?.({ url: `http://127.0.0.1:${port}` });
process.on('disconnect', () => {
  void app
    .close()
    .then(() => pool.close())
    .then(() => process.exit(0));
});
