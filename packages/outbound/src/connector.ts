import type * as U from 'undici';
import { type OutboundPolicy, OutboundRefused } from './policy.ts';
import { Agent, buildConnector, Client, Pool, fetch as undiciFetch } from './undici.ts';

/** connect errors after which the next permitted address of the same name is tried */
const TRY_NEXT = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * An undici connector that asks the policy before every new connection: an IP literal is checked
 * as is; a name is resolved once, its refused addresses dropped, and the socket is opened to a
 * permitted address itself (TLS still verifies the name), so a second, rebound answer is never used.
 */
export function policyConnector(
  policy: OutboundPolicy,
  options: U.buildConnector.BuildOptions = {},
): U.buildConnector.connector {
  const connect = buildConnector({ timeout: 10_000, ...options });
  return (opts, callback) => {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    policy.permittedAddresses(opts.hostname, port).then(
      (addresses) => {
        const tryAt = (i: number) => {
          connect({ ...opts, hostname: addresses[i]! }, (...args) => {
            const err = args[0] as (Error & { code?: string }) | null;
            if (err && i + 1 < addresses.length && TRY_NEXT.has(err.code ?? '')) tryAt(i + 1);
            else callback(...args);
          });
        };
        tryAt(0);
      },
      (err: Error) => callback(err, null),
    );
  };
}

export interface ConnectOptions {
  /** connect timeout in ms (default 10 s) */
  timeout?: number;
}

/** An Agent (any origin; redirects are checked too) for fetch and one-off calls. */
export function outboundAgent(policy: OutboundPolicy, opts: ConnectOptions & U.Agent.Options = {}): U.Agent {
  const { timeout, ...rest } = opts;
  return new Agent({ ...rest, connect: policyConnector(policy, { timeout: timeout ?? 10_000 }) });
}

/** A `fetch` (the global's shape) whose every connection, redirects included, passes the policy. */
export interface OutboundFetch {
  fetch: typeof globalThis.fetch;
  /** closes its connections; call when done */
  close(): Promise<void>;
}

export function outboundFetch(policy: OutboundPolicy, opts: ConnectOptions = {}): OutboundFetch {
  const dispatcher = outboundAgent(policy, opts);
  const fetch = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher })) as unknown as typeof globalThis.fetch;
  return { fetch, close: () => dispatcher.close() };
}

/** A pool to one origin whose connections the policy checks. */
export function outboundPool(
  policy: OutboundPolicy,
  origin: string,
  opts: ConnectOptions & U.Pool.Options = {},
): U.Pool {
  const { timeout, ...rest } = opts;
  return new Pool(origin, { ...rest, connect: policyConnector(policy, { timeout: timeout ?? 10_000 }) });
}

/** A client (one connection) to one origin whose connection the policy checks. */
export function outboundClient(
  policy: OutboundPolicy,
  origin: string,
  opts: ConnectOptions & U.Client.Options = {},
): U.Client {
  const { timeout, ...rest } = opts;
  return new Client(origin, { ...rest, connect: policyConnector(policy, { timeout: timeout ?? 10_000 }) });
}

/** Was this error (or its cause, as fetch wraps it) a refusal of the outbound policy? */
export function isOutboundRefused(err: unknown): err is OutboundRefused {
  let e = err as { cause?: unknown } | null | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e instanceof OutboundRefused || (e as { code?: string }).code === 'EOUTBOUND_REFUSED') return true;
    e = e.cause as typeof e;
  }
  return false;
}
