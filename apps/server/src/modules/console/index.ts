import { existsSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ConsoleRoutesOptions {
  /** the built console (apps/console/dist by default) */
  distDir?: string;
}

/** Paths the console must never answer: they belong to the API, the gateway and operations. */
const RESERVED = /^\/(?:api|v1|docs|openapi\.json|metrics|healthz|readyz)(?:[/?]|$)/;

export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../../console/dist/', import.meta.url));

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>maas console</title>
<style>body{font:15px/1.6 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
code{background:#f3f4f6;padding:.1rem .35rem;border-radius:4px}</style></head>
<body><h1>The maas console is not built yet</h1>
<p>The API is running: see <a href="/docs">/docs</a>. To use the web console, build it once and reload this page:</p>
<p><code>npm run build -w @maas/console</code></p>
<p>(<code>npm start</code> does this for you.)</p></body></html>`;

/**
 * Serves the web console (a single-page app) at `/`: files from the build, and index.html for any
 * other GET path so that client-side routes survive a reload. API, gateway and operations paths are
 * left to their own routes and to the JSON 404.
 */
export async function consoleRoutes(app: FastifyInstance, opts: ConsoleRoutesOptions = {}) {
  // Only the console's own pages get these (this plugin is encapsulated): scripts from this origin
  // only, never framed, no MIME sniffing, no referrer to other origins.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // antd writes its CSS-in-JS into <style> elements
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    hsts: false,
  });
  const root = opts.distDir ?? DEFAULT_CONSOLE_DIR;
  const built = existsSync(join(root, 'index.html'));
  if (!built) {
    app.log.warn(
      { dir: root },
      'web console not built: / shows how to build it (npm run build -w @maas/console)',
    );
  } else {
    await app.register(fastifyStatic, { root, serve: false, preCompressed: true });
  }

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '/';
    if (RESERVED.test(path)) return reply.callNotFound();
    if (!built)
      return reply
        .code(200)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(NOT_BUILT_PAGE);
    const file = fileOf(root, path);
    if (file) {
      // hashed build assets never change; everything else is revalidated
      const hashed = file.startsWith(`assets${sep}`) || file.startsWith('assets/');
      return reply.sendFile(file, hashed ? { maxAge: '365d', immutable: true } : { cacheControl: false });
    }
    if (path.startsWith('/assets/') || /\.[a-z0-9]{1,8}$/i.test(path)) return reply.callNotFound();
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', { cacheControl: false });
  };
  const route = { schema: { hide: true }, config: { public: true } };
  app.get('/', route, handler);
  app.get('/*', route, handler);
}

/** The path of a regular file inside root for a URL path, or null. */
function fileOf(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = normalize(decoded).replace(/^[/\\]+/, '');
  if (relative === '' || relative.startsWith('..')) return null;
  try {
    return statSync(join(root, relative)).isFile() ? relative : null;
  } catch {
    return null;
  }
}
