import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
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

/**
 * PostgreSQL's WASM runs on V8's baseline code (Liftoff) only: the optimizing tier that V8 otherwise
 * adds for hot functions keeps ~45 MB more resident for the process's life (measured: RSS of
 * `maas serve` on an existing data directory 318 → 270 MB) and competes with the start for CPU; the
 * database's statements cost ~15–25 % more CPU on its own thread. A V8 flag is process-wide: it also
 * applies to any other WebAssembly in this process, and to the process that creates a directory.
 */
const BASELINE_WASM_ONLY = '--liftoff-only';

/**
 * The database thread's young generation, MB (V8 splits it in 3: two semi-spaces and the young
 * large objects). V8's default grows it to 16 MB during the start, all of it resident for the
 * thread's life (~24 MB of `maas serve`'s RSS), though what the thread allocates per statement (the
 * rows it hands over) dies young in far less.
 */
const YOUNG_GENERATION_MB = 3;

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
 *
 * A thread that dies (a crash in the database's WASM, out of memory) fails the statements it held,
 * and on an on-disk directory a new thread opens it again (PostgreSQL recovers from its WAL), after
 * 0.1 s, then up to 5 s between tries; statements sent meanwhile wait for it. An in-memory database
 * cannot come back: its statements fail from then on.
 */
export class PgliteThread implements Queryable {
  readonly waitReady: Promise<void>;
  /** set once the directory exists (a new one is created on a thread of its own first) */
  private worker!: Worker;
  /** the current thread's start; statements wait for it while a thread is being replaced */
  private ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failure: Error | null = null;
  private closing = false;
  /** a thread has started once: a directory that never opened is not retried */
  private opened = false;
  private restarts = 0;

  constructor(
    private readonly dataDir: string | undefined,
    private readonly onRestart: (cause: Error) => void = () => {},
  ) {
    const fresh = dataDir !== undefined && !existsSync(join(dataDir, 'PG_VERSION'));
    this.ready = fresh ? this.createDirectory().then(() => this.start()) : this.start();
    this.waitReady = this.ready;
  }

  private start(): Promise<void> {
    this.worker = this.spawn();
    return this.readyOf(this.worker);
  }

  /**
   * initdb in a process of its own: the memory initdb grows (~115 MB) stays with a process even
   * after a thread that used it ended, so the thread that serves opens the finished directory.
   */
  private createDirectory(): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [BASELINE_WASM_ONLY, fileURLToPath(new URL('./pglite-worker.mjs', import.meta.url)), this.dataDir!],
        { env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 1024 * 1024 },
        (err, _stdout, stderr) => {
          if (err)
            reject(new Error(`the embedded database could not be created: ${stderr.trim() || err.message}`));
          else resolve();
        },
      );
    });
  }

  private spawn(): Worker {
    setFlagsFromString(BASELINE_WASM_ONLY);
    const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
      workerData: { dir: this.dataDir },
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    worker.on('message', (m: { id?: number; result?: unknown; error?: Record<string, unknown> }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.error) p.reject(revive(m.error));
      else p.resolve(m.result);
    });
    let lost = false;
    const gone = (err: Error) => {
      if (lost) return; // 'error' is followed by 'exit'
      lost = true;
      if (worker === this.worker) this.lost(err);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`the embedded database thread exited (${code})`)));
    return worker;
  }

  private readyOf(worker: Worker): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      const onReady = (m: { ready?: boolean; error?: Record<string, unknown> }) => {
        if (m.ready === undefined) return;
        worker.off('message', onReady);
        worker.off('exit', onExit);
        if (m.ready) resolve();
        else reject(revive(m.error ?? { message: 'the embedded database did not start' }));
      };
      const onExit = (code: number) => reject(new Error(`the embedded database thread exited (${code})`));
      worker.on('message', onReady);
      worker.on('exit', onExit);
    });
    ready.then(
      () => {
        this.opened = true;
        if (this.pending.size === 0) worker.unref();
      },
      () => {},
    );
    return ready;
  }

  private lost(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this.closing || !this.dataDir || !this.opened) {
      this.failure = err;
      return;
    }
    this.onRestart(err);
    const delayMs = Math.min(5_000, 100 * 2 ** Math.min(this.restarts, 6));
    this.restarts += 1;
    this.ready = new Promise<void>((r) => setTimeout(r, delayMs).unref()).then(() => {
      if (this.closing) throw err;
      this.worker = this.spawn();
      return this.readyOf(this.worker).then(() => {
        this.restarts = 0;
      });
    });
    this.ready.catch(() => {});
  }

  private async call<T>(message: Record<string, unknown>): Promise<T> {
    if (this.failure) throw this.failure;
    await this.ready;
    const worker = this.worker;
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      // the thread keeps the process alive only while an answer is awaited (as a socket would)
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...message, id });
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
    this.closing = true;
    if (!this.failure) await this.call({ op: 'close' }).catch(() => {});
    await this.worker?.terminate();
  }
}
