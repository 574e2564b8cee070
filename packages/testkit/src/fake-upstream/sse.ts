import type { ServerResponse } from 'node:http';
import type { Behavior } from './faults.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** one `data:` event (OpenAI style) */
export const dataFrame = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;

/** one named event (Anthropic style) */
export const eventFrame = (event: string, payload: unknown): string =>
  `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;

export const DONE_FRAME = 'data: [DONE]\n\n';
export const MALFORMED_FRAME = 'data: {"id": "broken", "choices": [{"delta": \n\n';

/**
 * Writes a stream of pre-rendered frames with the behavior's delays and faults.
 * `tail` frames (usage chunk, `[DONE]`) are sent only when the stream is not cut.
 */
export async function writeStream(
  res: ServerResponse,
  behavior: Behavior,
  frames: string[],
  tail: string[],
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.flushHeaders();
  if (behavior.firstByteDelayMs > 0) await sleep(behavior.firstByteDelayMs);
  const cutAt = behavior.cutAfterChunks;
  for (let i = 0; i < frames.length; i++) {
    if (res.destroyed) return;
    if (cutAt !== undefined && i >= cutAt) break;
    if (i > 0 && behavior.chunkDelayMs > 0) await sleep(behavior.chunkDelayMs);
    res.write(frames[i]);
    if (i === 0 && behavior.malformedSse) res.write(MALFORMED_FRAME);
  }
  if (res.destroyed) return;
  if (cutAt !== undefined) return endCut(res, behavior);
  res.end(tail.join(''));
}

function endCut(res: ServerResponse, behavior: Behavior): void {
  if (behavior.cut === 'reset') res.socket?.destroy();
  else res.end();
}
