import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LsaModel } from './lsa-model.ts';

/**
 * An OpenAI-compatible `POST /v1/embeddings` in front of a local model (the bench's LSA model), on
 * 127.0.0.1 and a free port: the bench embeds through the `openai` SDK as maas's ingestion would
 * through the gateway. Answers `{object: 'list', data: [{object: 'embedding', index, embedding}],
 * model, usage}`; float arrays only.
 */
export async function startEmbeddingServer(
  model: LsaModel,
  name: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      reply(404, { error: { message: 'not found', type: 'invalid_request_error', param: null, code: null } });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let input: unknown;
      try {
        input = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input?: unknown }).input;
      } catch {
        reply(400, {
          error: { message: 'body is not JSON', type: 'invalid_request_error', param: null, code: null },
        });
        return;
      }
      const texts = typeof input === 'string' ? [input] : input;
      if (!Array.isArray(texts) || !texts.every((t) => typeof t === 'string')) {
        reply(400, {
          error: {
            message: 'input must be a string or strings',
            type: 'invalid_request_error',
            param: 'input',
            code: null,
          },
        });
        return;
      }
      const tokens = texts.reduce((a, t) => a + t.length, 0);
      reply(200, {
        object: 'list',
        model: name,
        data: texts.map((t, index) => ({
          object: 'embedding',
          index,
          embedding: Array.from(model.embed(t)),
        })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
