import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
  wavSeconds,
} from '@maas/testkit';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, until, usageFor } from './support/gateway-setup.ts';

/** Images and speech as async jobs: run on the gateway path, metered in their units; speech kept as a file. */
let ts: TestServer;
let upstream: FakeUpstream;
let key: string;
let client: OpenAI;

async function call(method: string, path: string, secret: string, body?: unknown) {
  const res = await fetch(`${ts.url}/api/v1/async${path}`, {
    method,
    headers: {
      authorization: `Bearer ${secret}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const settled = (id: string) =>
  until(
    async () => {
      const res = await call('GET', `/jobs/${id}`, key);
      return ['succeeded', 'failed', 'cancelled'].includes(res.body.status) ? res.body : null;
    },
    20_000,
    `job ${id} finished`,
  );

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  const painter = await createModel(ts, {
    name: 'painter',
    type: 'image',
    targets: [{ provider_id: provider, upstream_model: 'fake-image' }],
  });
  const speaker = await createModel(ts, {
    name: 'speaker',
    type: 'tts',
    targets: [{ provider_id: provider, upstream_model: 'fake-tts' }],
  });
  for (const [model, units] of [
    [painter, { image_prices: { '*': 0.02 } }],
    [speaker, { characters_per_million: 30 }],
  ] as const) {
    const res = await ts.admin.post('/api/v1/prices', {
      model_id: model,
      currency: 'USD',
      input_per_million: 0,
      output_per_million: 0,
      effective_from: new Date(Date.now() - 60_000).toISOString(),
      ...units,
    });
    expect(res.status).toBe(201);
  }
  key = await createKey(ts);
  client = openai(ts, key);
});

afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('async images and speech', () => {
  it('runs an image generation as a job: the images are its result, billed per image', async () => {
    const queued = await call('POST', '/images/generations', key, {
      model: 'painter',
      prompt: 'later',
      n: 2,
    });
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ object: 'async.job', endpoint: '/v1/images/generations' });
    const job = await settled(queued.body.id);
    expect(job.status).toBe('succeeded');
    expect(job.result.data).toHaveLength(2);
    expect(Buffer.from(job.result.data[0].b64_json, 'base64').toString('ascii', 1, 4)).toBe('PNG');
    expect(await usageFor(ts, job.request_id)).toMatchObject({
      endpoint: 'images.generations',
      images: 2,
      costNanos: 40_000_000,
    });
  });

  it('runs speech as a job: the audio is a file of /v1/files and the result names it', async () => {
    const input = 'Spoken while nobody waits.';
    const queued = await call('POST', '/audio/speech', key, {
      model: 'speaker',
      voice: 'alloy',
      input,
      response_format: 'wav',
    });
    expect(queued.status).toBe(202);
    const job = await settled(queued.body.id);
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({
      object: 'audio.speech.file',
      content_type: 'audio/wav',
      filename: `speech-${job.id}.wav`,
    });
    const file = await client.files.retrieve(job.result.file_id);
    expect(file).toMatchObject({ purpose: 'user_data', bytes: job.result.bytes });
    const audio = Buffer.from(await (await client.files.content(job.result.file_id)).arrayBuffer());
    expect(audio.length).toBe(job.result.bytes);
    expect(wavSeconds(audio)).toBeCloseTo(input.length / 15, 2);
    expect(await usageFor(ts, job.request_id)).toMatchObject({
      endpoint: 'audio.speech',
      characters: input.length,
      costNanos: input.length * 30_000,
    });
  });

  it('fails a job with bad input with the 400 the live call would give, and hides it from other orgs', async () => {
    const queued = await call('POST', '/images/generations', key, { model: 'painter', prompt: 'x', n: 50 });
    const job = await settled(queued.body.id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ status_code: 400 });
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Other async media org' });
    const other = ts.client();
    await other.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const project = (await other.post('/api/v1/projects', { name: 'p' })).body.id;
    const theirs = await createKey(ts, { project_id: project }, other);
    expect((await call('GET', `/jobs/${queued.body.id}`, theirs)).status).toBe(404);
    const speech = await call('POST', '/audio/speech', theirs, { model: 'speaker', voice: 'a', input: 'hi' });
    const failed = await until(
      async () => {
        const res = await call('GET', `/jobs/${speech.body.id}`, theirs);
        return res.body.status === 'failed' ? res.body : null;
      },
      20_000,
      'their job failed',
    );
    expect(failed.error).toMatchObject({ status_code: 404, code: 'model_not_found' });
  });
});
