import net from 'node:net';

/**
 * Preloaded into the Portkey gateway process (`node --import`), two shims and nothing else:
 * - Portkey's start-server listens on every interface; bind it to 127.0.0.1 instead.
 * - On Node 20, fetch() responses carry immutable headers and Portkey's stream handler appends to
 *   them ("TypeError: immutable"); hand it responses with a mutable copy of the headers.
 */
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(this: net.Server, ...args: unknown[]) {
  if (typeof args[0] === 'number' && (args[1] === undefined || typeof args[1] === 'function')) {
    args.splice(1, args[1] === undefined ? 1 : 0, '127.0.0.1');
  }
  return listen.apply(this, args as Parameters<typeof listen>);
} as typeof listen;

const fetchOf = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const res = await fetchOf(input, init);
  return new Response(res.body, {
    status: res.status,
    statusText: res.statusText,
    headers: new Headers(res.headers),
  });
};
