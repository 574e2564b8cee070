import { Worker } from 'node:worker_threads';

/** What drizzle's PGlite driver passes as query options (only whether temporal parsers are asked matters). */
interface QueryOptions {
  rowMode?: 'array' | 'object';
  parsers?: Record<number, unknown>;
}

interface Results {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}

interface Queryable {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results>;
}

type Pending = { resolve(value: unknown): void; reject(err: Error): void };

/** An error from the database thread, with the fields (code, constraint, detail …) callers test. */
function revive(error: Record<string, unknown>): Error {
  const err = new Error(String(error.message));
  Object.assign(err, error);
  return err;
}

/**
 * PGlite on a worker thread, behind the part of PGlite's interface that drizzle's PGlite driver
 * uses (query, transaction, close). Statements then run beside the event loop instead of on it.
 * One transaction at a time, as on PGlite itself: other statements wait for it in the worker.
 */
export class PgliteThread implements Queryable {
  readonly waitReady: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failure: Error | null = null;

  constructor(dataDir: string | undefined) {
    this.worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
      workerData: { dir: dataDir },
      execArgv: [],
    });
    this.waitReady = new Promise((resolve, reject) => {
      const onReady = (m: { ready?: boolean; error?: Record<string, unknown> }) => {
        if (m.ready === undefined) return;
        this.worker.off('message', onReady);
        if (m.ready) resolve();
        else reject(revive(m.error ?? { message: 'the embedded database did not start' }));
      };
      this.worker.on('message', onReady);
    });
    this.worker.on('message', (m: { id?: number; result?: unknown; error?: Record<string, unknown> }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error) p.reject(revive(m.error));
      else p.resolve(m.result);
    });
    const gone = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', gone);
    this.waitReady.then(
      () => {
        if (this.pending.size === 0) this.worker.unref();
      },
      () => {},
    );
    this.worker.on('exit', (code) => gone(new Error(`the embedded database thread exited (${code})`)));
  }

  private call<T>(message: Record<string, unknown>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      // the thread keeps the process alive only while an answer is awaited (as a socket would)
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  private run(tx: number | undefined, sql: string, params: unknown[] = [], options: QueryOptions = {}) {
    return this.call<Results>({
      op: 'query',
      tx,
      sql,
      params,
      rowMode: options.rowMode,
      rawTemporal: options.parsers !== undefined,
    });
  }

  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results> {
    return this.run(undefined, sql, params, options);
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const tx = ++this.seq;
    await this.call({ op: 'begin', tx });
    let result: T;
    try {
      result = await work({ query: (sql, params, options) => this.run(tx, sql, params, options) });
    } catch (err) {
      await this.call({ op: 'end', tx, commit: false }).catch(() => {});
      throw err;
    }
    await this.call({ op: 'end', tx, commit: true });
    return result;
  }

  async close(): Promise<void> {
    if (!this.failure) await this.call({ op: 'close' }).catch(() => {});
    await this.worker.terminate();
  }
}
