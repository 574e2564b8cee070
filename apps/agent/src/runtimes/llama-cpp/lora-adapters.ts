import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaChat, type LlamaContext, type LlamaModel } from 'node-llama-cpp';

/** A pool of chats over one context: requests wait for a free sequence. */
export class ChatPool {
  private readonly free: LlamaChat[] = [];
  private readonly waiting: ((chat: LlamaChat) => void)[] = [];

  constructor(
    readonly context: LlamaContext,
    sequences: number,
  ) {
    for (let i = 0; i < sequences; i++)
      this.free.push(new LlamaChat({ contextSequence: context.getSequence() }));
  }

  acquire(): Promise<LlamaChat> {
    return new Promise((resolve) =>
      this.free.length ? resolve(this.free.pop()!) : this.waiting.push(resolve),
    );
  }

  release(chat: LlamaChat): void {
    if (this.waiting.length) this.waiting.shift()!(chat);
    else this.free.push(chat);
  }
}

/** `ft:<base>:<org>:<suffix>:<id>` or another plain model name: what may name an adapter. */
export const ADAPTER_NAME = /^[A-Za-z0-9._:/-]{1,200}$/;
/** an adapter GGUF larger than this is refused (a rank-64 LoRA of a 70B model is ~1.6 GB) */
export const MAX_ADAPTER_BYTES = 4 * 1024 ** 3;

/**
 * LoRA adapters served unmerged next to the base model, selected per request by its `model` field.
 * llama.cpp applies adapters to a whole context (llama_set_adapter_lora), not to one sequence, so
 * each adapter gets a context of its own over the same loaded weights: the base model's memory is
 * shared, each adapter adds its tensors and its KV cache. Requests naming the base model use the
 * base context untouched. Adapter files live in a 0700 folder of this process, removed at exit.
 */
export function createAdapterSet(opts: {
  model: LlamaModel;
  sequences: number;
  threads: number;
  ctx?: number;
}) {
  const dir = mkdtempSync(join(tmpdir(), 'maas-lora-'));
  const adapters = new Map<string, { pool: ChatPool; bytes: number; scale: number }>();
  let seq = 0;

  return {
    get: (name: string) => adapters.get(name)?.pool ?? null,
    list: () => [...adapters.entries()].map(([id, a]) => ({ id, bytes: a.bytes, scale: a.scale })),

    /** Loads (or replaces) the adapter named `name` from its GGUF bytes. */
    async load(name: string, bytes: Buffer, scale: number): Promise<void> {
      const path = join(dir, `adapter-${++seq}.gguf`);
      await writeFile(path, bytes, { mode: 0o600 });
      const context = await opts.model.createContext({
        sequences: opts.sequences,
        threads: opts.threads,
        ...(opts.ctx ? { contextSize: opts.ctx } : {}),
        lora: { adapters: [{ filePath: path, scale }] },
      });
      const old = adapters.get(name);
      adapters.set(name, { pool: new ChatPool(context, opts.sequences), bytes: bytes.length, scale });
      if (old) await old.pool.context.dispose().catch(() => {});
    },

    async remove(name: string): Promise<boolean> {
      const a = adapters.get(name);
      if (!a) return false;
      adapters.delete(name);
      await a.pool.context.dispose().catch(() => {});
      return true;
    },

    async dispose(): Promise<void> {
      for (const a of adapters.values()) await a.pool.context.dispose().catch(() => {});
      adapters.clear();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type AdapterSet = ReturnType<typeof createAdapterSet>;
