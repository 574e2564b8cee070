import { createRequire } from 'node:module';
import type * as Undici from 'undici';

/**
 * The parts of undici maas uses, each from its own file. undici's index loads all of it (fetch,
 * WebSocket, EventSource, the mocks, the caches and interceptors): ~120 ms of CPU at every start,
 * against ~40 ms for the dispatchers. `fetch` loads the rest on its first call. The versions are
 * the lockfile's; `undici.test.ts` checks that they are the ones undici's index exports.
 */
const require = createRequire(import.meta.url);

const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
// what undici's index does: request(), stream(), pipeline() and upgrade() on every dispatcher
Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js') as object);

export const Client = require('undici/lib/dispatcher/client.js') as typeof Undici.Client;
export type Client = Undici.Client;
export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
export type Pool = Undici.Pool;
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export type Agent = Undici.Agent;
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
export const errors = require('undici/lib/core/errors.js') as typeof Undici.errors;

let loaded: typeof Undici.fetch | undefined;
/** undici's fetch, loaded on first use. */
export const fetch: typeof Undici.fetch = (input, init) => {
  loaded ??= (require('undici') as typeof Undici).fetch;
  return loaded(input, init);
};

export type { Dispatcher } from 'undici';
