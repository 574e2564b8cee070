import { open } from 'node:fs/promises';
import { redactLine } from '@maas/contracts/agent';

/**
 * Follows a runtime's log file (the runtime writes it, so lines survive an agent restart): keeps
 * the last `keep` lines and hands out the lines added since the previous `take()`. Lines are
 * redacted (./redact.ts) before anything keeps them.
 */
export class LogTail {
  private offset = 0;
  private partial = '';
  private readonly recent: string[] = [];
  private fresh: string[] = [];

  constructor(
    private readonly path: string,
    private readonly keep = 200,
    /** values to blank out of every line besides the known secret shapes (the replica's credential, env values) */
    private readonly secrets: readonly string[] = [],
  ) {}

  /** Starts at the end of the file minus `backlog` bytes (to show some history after adoption). */
  async seek(backlog = 16 * 1024): Promise<void> {
    const fh = await open(this.path, 'r').catch(() => null);
    if (!fh) return;
    try {
      const size = (await fh.stat()).size;
      this.offset = Math.max(0, size - backlog);
      if (this.offset > 0) this.partial = '\u0000'; // drop the first, cut line
    } finally {
      await fh.close();
    }
  }

  async poll(): Promise<void> {
    const fh = await open(this.path, 'r').catch(() => null);
    if (!fh) return;
    try {
      const size = (await fh.stat()).size;
      if (size < this.offset) this.offset = 0; // truncated
      while (this.offset < size) {
        const buf = Buffer.alloc(Math.min(256 * 1024, size - this.offset));
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.push(buf.subarray(0, bytesRead).toString('utf8'));
      }
    } finally {
      await fh.close();
    }
  }

  private push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    const skipFirst = lines[0]?.startsWith('\u0000');
    for (const [i, raw] of lines.entries()) {
      if (i === 0 && skipFirst) continue;
      const line = redactLine(raw.replace(/\r$/, ''), this.secrets).slice(0, 4000);
      this.recent.push(line);
      this.fresh.push(line);
    }
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
    if (this.fresh.length > 500) this.fresh.splice(0, this.fresh.length - 500);
  }

  /** Lines since the last call. */
  take(): string[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  lines(): string[] {
    return [...this.recent];
  }
}
