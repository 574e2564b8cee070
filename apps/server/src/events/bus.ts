import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Pushes control-plane changes (key revoked, model updated …) to every replica so in-process caches
 * stay fresh. In-process in embedded mode; Redis pub/sub when REDIS_URL is set.
 */
export interface Bus {
  publish(topic: string, payload: unknown): Promise<void>;
  subscribe(topic: string, handler: (payload: unknown) => void): void;
  close(): Promise<void>;
}

export function createMemoryBus(): Bus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(topic, payload) {
      emitter.emit(topic, structuredClone(payload));
    },
    subscribe(topic, handler) {
      emitter.on(topic, handler);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

export async function createRedisBus(url: string, log: Logger): Promise<Bus> {
  const pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const sub = new Redis(url, { lazyConnect: true });
  const handlers = new Map<string, ((payload: unknown) => void)[]>();
  for (const conn of [pub, sub]) conn.on('error', (err) => log.warn({ err: err.message }, 'redis bus error'));
  await Promise.all([pub.connect(), sub.connect()]);
  sub.on('message', (channel: string, message: string) => {
    const topic = channel.slice('maas:'.length);
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch {
      return;
    }
    for (const handler of handlers.get(topic) ?? []) handler(payload);
  });
  return {
    async publish(topic, payload) {
      await pub.publish(`maas:${topic}`, JSON.stringify(payload));
    },
    subscribe(topic, handler) {
      const list = handlers.get(topic);
      if (list) list.push(handler);
      else {
        handlers.set(topic, [handler]);
        void sub.subscribe(`maas:${topic}`);
      }
    },
    async close() {
      pub.disconnect();
      sub.disconnect();
    },
  };
}
