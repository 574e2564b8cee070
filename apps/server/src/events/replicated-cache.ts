import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus, Topic } from './bus.ts';
import type { ChangeMessage } from './change-topic.ts';

export interface ReplicatedCacheOptions<V, M extends ChangeMessage> {
  /** names the cache in log lines */
  name: string;
  bus: Bus;
  /** where replicas say what they changed (see changeTopic) */
  topic: Topic<M>;
  log: Logger;
  /** every entry, by id */
  loadAll(): Promise<Iterable<readonly [string, V]>>;
  /** one entry (null: it is gone); without it every change reloads everything */
  loadOne?(id: string): Promise<V | null>;
  /** each entry as it is set (value) or removed (undefined): for indexes kept beside the entries */
  onEntry?(id: string, value: V | undefined, previous: V | undefined): void;
  /** after a load or a change was applied: for views rebuilt from all the entries */
  onChange?(entries: ReadonlyMap<string, V>): void;
  /** a message from another replica, before the entry it names is read again */
  onMessage?(message: M): void;
  /** the rest of the message `changed` publishes (beside id and origin) */
  messageOf?(id: string | undefined, value: V | null | undefined): Omit<M, 'id' | 'origin'>;
  /** how often everything is read again, in case a message was lost (0: never) */
  resyncIntervalMs: number;
}

export interface ReplicatedCache<V> {
  readonly entries: ReadonlyMap<string, V>;
  get(id: string): V | undefined;
  /** Subscribes, reads everything (throws when that fails) and starts the periodic resync. */
  start(): Promise<void>;
  /** Stops listening and resyncing; waits for reads in flight. */
  close(): Promise<void>;
  /** Reads everything again now (joins a resync in flight). Never throws. */
  resync(): Promise<void>;
  /**
   * After a local commit: applies `value` here (null: deleted) or, without one, reads the entry (or
   * everything) again, then tells the other replicas. Never throws.
   */
  changed(id?: string, value?: V | null): Promise<void>;
  /** Applies an entry here only (null: removes it). */
  put(id: string, value: V | null): void;
  /**
   * For a read the cache does not make itself (a lookup by another column): the stamp to take
   * before it starts, then `apply` its result with that stamp.
   */
  beginRead(): number;
  apply(id: string, value: V | null, stamp: number): void;
}

/**
 * An in-process copy of rows that every replica keeps: read whole at start, one entry re-read per
 * message naming it (everything when the message names none or there is no `loadOne`), everything
 * again every `resyncIntervalMs` in case a message was lost. Every read takes a stamp as it starts
 * and is applied to an entry only when no read that started later has been, so a slow read never
 * overwrites a newer one.
 */
export function createReplicatedCache<V, M extends ChangeMessage = ChangeMessage>(
  opts: ReplicatedCacheOptions<V, M>,
): ReplicatedCache<V> {
  const { bus, topic, log, loadOne } = opts;
  const origin = randomUUID();
  const entries = new Map<string, V>();
  /** the stamp of the read applied to an entry, when newer than the last full read */
  const stamps = new Map<string, number>();
  /** the stamp of the last full read applied: it speaks for every entry not in `stamps` */
  let floor = 0;
  let counter = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let resyncing: Promise<void> | undefined;
  const pending = new Set<Promise<unknown>>();

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => {});
    return promise;
  };

  const isStale = (id: string, stamp: number) => (stamps.get(id) ?? floor) > stamp;

  const write = (id: string, value: V | null) => {
    const previous = entries.get(id);
    if (value === null) {
      if (!entries.delete(id)) return;
      opts.onEntry?.(id, undefined, previous);
    } else {
      entries.set(id, value);
      opts.onEntry?.(id, value, previous);
    }
  };

  const applyOne = (id: string, value: V | null, stamp: number) => {
    if (isStale(id, stamp)) return;
    stamps.set(id, stamp);
    write(id, value);
    opts.onChange?.(entries);
  };

  const loadAll = async () => {
    const stamp = ++counter;
    const rows = await opts.loadAll();
    if (stamp < floor) return;
    const seen = new Set<string>();
    for (const [id, value] of rows) {
      seen.add(id);
      if (!isStale(id, stamp)) write(id, value);
    }
    for (const id of [...entries.keys()]) if (!seen.has(id) && !isStale(id, stamp)) write(id, null);
    floor = stamp;
    for (const [id, s] of stamps) if (s <= floor) stamps.delete(id);
    opts.onChange?.(entries);
  };

  const reloadOne = async (id: string, load: (id: string) => Promise<V | null>) => {
    const stamp = ++counter;
    applyOne(id, await load(id), stamp);
  };

  /** One entry when the change names it and it can be read alone, else everything. */
  const reload = (id: string | undefined): Promise<void> =>
    track(id !== undefined && loadOne ? reloadOne(id, loadOne) : loadAll()).catch((err: unknown) =>
      log.warn({ err, id }, `${opts.name}: reload failed; the next resync will catch up`),
    );

  const onMessage = (message: M) => {
    if (closed || message.origin === origin) return;
    opts.onMessage?.(message);
    void reload(message.id);
  };

  const resync = () => {
    resyncing ??= track(
      loadAll()
        .catch((err: unknown) => log.warn({ err }, `${opts.name}: resync failed`))
        .finally(() => {
          resyncing = undefined;
        }),
    );
    return resyncing;
  };

  return {
    entries,
    get: (id) => entries.get(id),

    async start() {
      // Subscribed first: a change made while the full read runs is read again after it.
      unsubscribe = bus.subscribe(topic, onMessage);
      await track(loadAll());
      if (opts.resyncIntervalMs > 0) {
        timer = setInterval(() => void resync(), opts.resyncIntervalMs);
        timer.unref();
      }
    },

    async close() {
      closed = true;
      clearInterval(timer);
      unsubscribe?.();
      await Promise.allSettled([...pending]);
    },

    resync,

    async changed(id, value) {
      if (id !== undefined && value !== undefined) applyOne(id, value, ++counter);
      else await reload(id);
      const message = { ...opts.messageOf?.(id, value), ...(id === undefined ? {} : { id }), origin } as M;
      await bus.publish(topic, message).catch((err: unknown) => {
        log.warn({ err, id }, `${opts.name}: could not tell the other replicas; they catch up on resync`);
      });
    },

    put: (id, value) => applyOne(id, value, ++counter),
    beginRead: () => ++counter,
    apply: applyOne,
  };
}
