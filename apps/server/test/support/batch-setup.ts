import type { FakeUpstream, TestServer } from '@maas/testkit';
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { usageEvents } from '../../src/modules/metering/schema.ts';
import { until } from './gateway-setup.ts';

export interface Line {
  custom_id: string;
  method?: string;
  url?: string;
  body?: Record<string, unknown>;
}

/** A chat line whose prompt names its custom_id (so the fake upstream's log can be counted per line). */
export const chatLine = (customId: string, model = 'chat-small'): Line => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content: `line ${customId}` }], max_tokens: 5 },
});

export const jsonl = (lines: (Line | string)[]) =>
  `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`;

export async function uploadBatchFile(client: OpenAI, text: string): Promise<string> {
  const file = await client.files.create({
    file: await toFile(Buffer.from(text), 'input.jsonl'),
    purpose: 'batch',
  });
  return file.id;
}

const DONE = new Set(['completed', 'failed', 'expired', 'cancelled']);

export async function waitForBatch(client: OpenAI, id: string, timeoutMs = 30_000): Promise<OpenAI.Batch> {
  return until(
    async () => {
      const b = await client.batches.retrieve(id);
      return DONE.has(b.status) ? b : null;
    },
    timeoutMs,
    `batch ${id} to finish`,
  );
}

/** A file's JSONL lines, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: file lines are checked field by field by the tests
export async function readJsonl(client: OpenAI, fileId: string | null | undefined): Promise<any[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** How many requests the fake upstream received for each custom_id (read from the prompt). */
export function upstreamCounts(upstream: FakeUpstream): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of upstream.requests) {
    const content = r.body?.messages?.[0]?.content;
    if (typeof content !== 'string' || !content.startsWith('line ')) continue;
    const id = content.slice(5);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export async function usageRowsOfKey(ts: TestServer, keyId: string) {
  await ts.server.services.metering.writer.flush();
  return ts.server.services.database.db.select().from(usageEvents).where(eq(usageEvents.keyId, keyId));
}
