import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { z } from 'zod';

/**
 * A bus topic: its name (the Redis channel is `maas:<name>`) and the shape of its payload. Declared
 * once, next to the code that owns it; publishers and subscribers get the payload type from it.
 */
export interface Topic<T> {
  readonly name: string;
  readonly schema: z.ZodType<T>;
}

export const topic = <T>(name: string, schema: z.ZodType<T>): Topic<T> => Object.freeze({ name, schema });

/**
 * Pushes control-plane changes (key revoked, model updated …) to every replica so in-process caches
 * stay fresh. In-process in embedded mode; Redis pub/sub when REDIS_URL is set. A payload that does
 * not match its topic's schema (another version, or not ours at all) is dropped with a warning.
 */
export interface Bus {
  publish<T>(topic: Topic<T>, payload: NoInfer<T>): Promise<void>;
  /** Calls `handler` with each valid payload published on `topic` (by any replica); returns an unsubscribe. */
  subscribe<T>(topic: Topic<T>, handler: (payload: T) => void): () => void;
  close(): Promise<void>;
}

type Listener = (payload: unknown) => void;

/** The listener that hands a topic's valid payloads to `handler`. */
function listenerFor<T>(t: Topic<T>, handler: (payload: T) => void, log: Logger | undefined): Listener {
  return (payload) => {
    const parsed = t.schema.safeParse(payload);
    if (parsed.success) handler(parsed.data);
    else
      log?.warn({ topic: t.name, issues: parsed.error.issues.slice(0, 3) }, 'bus: malformed payload dropped');
  };
}

export function createMemoryBus(log?: Logger): Bus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(t, payload) {
      emitter.emit(t.name, structuredClone(payload));
    },
    subscribe(t, handler) {
      const listener = listenerFor(t, handler, log);
      emitter.on(t.name, listener);
      return () => void emitter.off(t.name, listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

const CHANNEL_PREFIX = 'maas:';

export async function createRedisBus(url: string, log: Logger): Promise<Bus> {
  const { Redis } = await import('ioredis'); // only with REDIS_URL: an embedded server never loads it
  const pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const sub = new Redis(url, { lazyConnect: true });
  const listeners = new Map<string, Set<Listener>>();
  for (const conn of [pub, sub]) conn.on('error', (err) => log.warn({ err: err.message }, 'redis bus error'));
  await Promise.all([pub.connect(), sub.connect()]);
  sub.on('message', (channel: string, message: string) => {
    const set = listeners.get(channel.slice(CHANNEL_PREFIX.length));
    if (!set) return;
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch {
      log.warn({ channel }, 'bus: message that is not JSON dropped');
      return;
    }
    for (const listener of set) listener(payload);
  });
  return {
    async publish(t, payload) {
      await pub.publish(CHANNEL_PREFIX + t.name, JSON.stringify(payload));
    },
    subscribe(t, handler) {
      const listener = listenerFor(t, handler, log);
      let set = listeners.get(t.name);
      if (!set) {
        set = new Set();
        listeners.set(t.name, set);
        void sub.subscribe(CHANNEL_PREFIX + t.name).catch((err: unknown) => {
          log.warn({ err, topic: t.name }, 'redis bus: subscribe failed');
        });
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size > 0 || listeners.get(t.name) !== set) return;
        listeners.delete(t.name);
        void sub.unsubscribe(CHANNEL_PREFIX + t.name).catch(() => {});
      };
    },
    async close() {
      pub.disconnect();
      sub.disconnect();
    },
  };
}
